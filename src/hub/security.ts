/**
 * The hub's gatekeeping: password book (salted hashes compared in constant time), address
 * grouping, sliding-window counters, the failed-login limiter and connection counters. No
 * sockets here, so all of it is testable with a fake clock. Every map forgets what has run
 * out, so an address spray costs memory only while it lasts.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A millisecond clock that never jumps with the wall clock (blocks neither shrink nor grow). */
export type Clock = () => number;
export const monotonicNow: Clock = () => performance.now();

/** A password kept only as a salted SHA-256, so memory dumps and logs never hold it. */
export class PasswordBook {
  private readonly salt = randomBytes(16);

  hash(password: string): Buffer {
    return createHash("sha256").update(this.salt).update(password, "utf8").digest();
  }

  /** Constant-time: both sides are 32-byte digests, so length never leaks either. */
  matches(stored: Buffer, password: string): boolean {
    return timingSafeEqual(stored, this.hash(password));
  }
}

/**
 * Events per key within a sliding window. Keys are kept in the order of their newest event,
 * so forgetting keys whose window ran out only ever looks at the front: amortised O(1).
 */
export class WindowCounter {
  private readonly events = new Map<string, number[]>();

  constructor(
    readonly windowMs: number,
    private readonly now: Clock = monotonicNow,
  ) {}

  /** Events of `key` within the window. */
  count(key: string): number {
    const t = this.now();
    this.sweep(t);
    const times = this.events.get(key);
    return times === undefined ? 0 : this.trim(times, t).length;
  }

  /** Records an event; returns the count within the window, this one included. */
  add(key: string): number {
    const t = this.now();
    this.sweep(t);
    const times = this.trim(this.events.get(key) ?? [], t);
    times.push(t);
    this.events.delete(key); // re-inserted at the back: the map stays ordered by newest event
    this.events.set(key, times);
    return times.length;
  }

  forget(key: string): void {
    this.events.delete(key);
  }

  /** Keys with an event in the window. */
  get size(): number {
    this.sweep(this.now());
    return this.events.size;
  }

  private trim(times: number[], t: number): number[] {
    let drop = 0;
    while (drop < times.length && t - (times[drop] as number) >= this.windowMs) drop++;
    if (drop > 0) times.splice(0, drop);
    return times;
  }

  private sweep(t: number): void {
    for (const [key, times] of this.events) {
      if (t - (times[times.length - 1] as number) < this.windowMs) return;
      this.events.delete(key);
    }
  }
}

export interface FailureLimitOptions {
  /** Failed logins of one key within `windowMs` that block it (default 10). */
  readonly max?: number;
  readonly windowMs?: number;
  /** How long a blocked key stays blocked (default 5 min). */
  readonly blockMs?: number;
}

/** Failed-login counter per key (an address group, or a device id) with a block period. */
export class FailureLimiter {
  private readonly max: number;
  private readonly blockMs: number;
  private readonly failures: WindowCounter;
  /** Block ends, in insertion order = expiry order (one clock, one block length). */
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    options: FailureLimitOptions = {},
    private readonly now: Clock = monotonicNow,
  ) {
    this.max = options.max ?? 10;
    this.blockMs = options.blockMs ?? 300_000;
    this.failures = new WindowCounter(options.windowMs ?? 60_000, now);
  }

  isBlocked(key: string): boolean {
    this.sweep(this.now());
    return this.blockedUntil.has(key);
  }

  /** Records a failure; returns true when this failure got the key blocked. */
  fail(key: string): boolean {
    const t = this.now();
    this.sweep(t);
    if (this.blockedUntil.has(key)) return false;
    if (this.failures.add(key) < this.max) return false;
    this.failures.forget(key);
    this.blockedUntil.set(key, t + this.blockMs);
    return true;
  }

  blockedCount(): number {
    this.sweep(this.now());
    return this.blockedUntil.size;
  }

  /** Keys held in memory (counting failures or blocked). */
  trackedKeys(): number {
    this.sweep(this.now());
    return this.failures.size + this.blockedUntil.size;
  }

  private sweep(t: number): void {
    for (const [key, until] of this.blockedUntil) {
      if (t < until) return;
      this.blockedUntil.delete(key);
    }
  }
}

/** Open connections per address group and in total. */
export class ConnectionCounter {
  private readonly perIp = new Map<string, number>();
  private total = 0;

  constructor(
    readonly maxTotal: number,
    readonly maxPerIp: number,
  ) {}

  /** Takes a slot, or says why not ("total" only when the address itself is under its cap). */
  acquire(address: string): "ok" | "total" | "perIp" {
    const n = this.perIp.get(address) ?? 0;
    if (n >= this.maxPerIp) return "perIp";
    if (this.total >= this.maxTotal) return "total";
    this.perIp.set(address, n + 1);
    this.total++;
    return "ok";
  }

  release(address: string): void {
    const n = this.perIp.get(address) ?? 0;
    if (n <= 1) this.perIp.delete(address);
    else this.perIp.set(address, n - 1);
    if (this.total > 0) this.total--;
  }

  get open(): number {
    return this.total;
  }
}

/** "::ffff:127.0.0.1" and "127.0.0.1" are one address for limits. */
export function normaliseAddress(address: string | undefined): string {
  if (address === undefined) return "unknown";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/**
 * The key the hub limits by: an IPv4 address as is, an IPv6 address by its /64 (one host or
 * one customer line is usually given a whole /64, so counting single addresses would let one
 * attacker rotate through 2^64 of them). Unparseable input is its own group.
 */
export function addressGroup(address: string | undefined): string {
  const a = normaliseAddress(address);
  if (!a.includes(":")) return a;
  const hextets = ipv6Hextets(a);
  if (hextets === undefined) return a;
  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(":")}::/64`;
}

const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined if malformed. */
function ipv6Hextets(address: string): number[] | undefined {
  let s = address;
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  // An embedded IPv4 tail is the last 32 bits, never part of the /64: two zero groups will do.
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) s = `${s.slice(0, lastColon + 1)}0:0`;
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : (halves[0] as string).split(":");
  const tail = halves.length < 2 || halves[1] === "" ? [] : (halves[1] as string).split(":");
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (halves.length === 2 ? fill < 1 : head.length !== 8) return undefined;
  const groups = [...head, ...Array<string>(fill).fill("0"), ...tail];
  if (!groups.every((g) => HEXTET.test(g))) return undefined;
  return groups.map((g) => Number.parseInt(g, 16));
}
