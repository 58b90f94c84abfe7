/**
 * Passwords of device ids that are not pinned in the config, set by each id's first
 * registration. An id that no VESC Tool ever logged in to is forgotten `idleMs` after its
 * device left, and such idle ids are the first to go when the table is full: throw-away
 * registrations can no longer close the hub to new devices. Only ids that are online or
 * that a tool has used are kept for as long as the hub runs. No sockets, no timers.
 */
import { type Clock, monotonicNow } from "./security.js";

interface Entry {
  readonly hash: Buffer;
  online: boolean;
  toolSeen: boolean;
}

export class RememberedIds {
  private readonly entries = new Map<string, Entry>();
  /** Ids that may be forgotten (offline, never a tool) → since when, oldest first. */
  private readonly idle = new Map<string, number>();

  constructor(
    readonly maxIds: number,
    readonly idleMs: number,
    /** Told about every id forgotten, so what the hub keeps per id can go with it. */
    private readonly onForget: (id: string) => void = () => {},
    private readonly now: Clock = monotonicNow,
  ) {}

  /** The password hash remembered for `id`, if any. */
  hash(id: string): Buffer | undefined {
    this.expire();
    return this.entries.get(id)?.hash;
  }

  /**
   * Remembers a new id as online. When the table is full the oldest idle id makes room;
   * false when every remembered id is online or has had a tool.
   */
  add(id: string, hash: Buffer): boolean {
    this.expire();
    if (this.entries.size >= this.maxIds) {
      const oldest = this.idle.keys().next();
      if (oldest.done === true) return false;
      this.forget(oldest.value);
    }
    this.entries.set(id, { hash, online: true, toolSeen: false });
    return true;
  }

  /** Its device registered (again). */
  online(id: string): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    e.online = true;
    this.idle.delete(id);
  }

  /** Its device left: an id no tool has used starts its idle time. */
  offline(id: string): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    e.online = false;
    if (!e.toolSeen) {
      this.idle.delete(id);
      this.idle.set(id, this.now());
    }
  }

  /** A tool logged in to it: the owner uses this id, keep it. */
  toolAttached(id: string): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    e.toolSeen = true;
    this.idle.delete(id);
  }

  get size(): number {
    this.expire();
    return this.entries.size;
  }

  private expire(): void {
    const t = this.now();
    for (const [id, since] of this.idle) {
      if (t - since < this.idleMs) return;
      this.forget(id);
    }
  }

  private forget(id: string): void {
    this.entries.delete(id);
    this.idle.delete(id);
    this.onForget(id);
  }
}
