/**
 * A self-hosted VESC Hub speaking the protocol of VESC Tool's hub (vesc_tool tcphub.cpp)
 * byte for byte: devices register with `VESC:<id>:<pw>\n` (+ NUL), VESC Tool logs in with
 * `VESCTOOL:<id>:<pw>\n`, `PING:<id>:x\n` gets `PONG\n`/`NULL\n`; after login the hub is a
 * transparent byte pipe. Failures close the socket without a word, as the reference hub
 * does. On top: pinned or first-registration passwords (constant-time compare), failed-login
 * limits per address group and per device id, connection caps, a login line length cap and
 * a login deadline, and an in-process endpoint for the bridge (see localTransport.ts).
 * docs/hub.md describes the security model for users.
 */
import { EventEmitter } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { type BridgeEndpoint, DeviceLink, type DeviceLinkStats } from "./deviceLink.js";
import { DEFAULT_MAX_LINE_BYTES, hubDeviceProblems } from "./deviceRules.js";
import { LineReader, type LoginLine, normaliseHubId, parseLoginLine } from "./loginLine.js";
import { RememberedIds } from "./rememberedIds.js";
import {
  addressGroup,
  ConnectionCounter,
  FailureLimiter,
  type FailureLimitOptions,
  normaliseAddress,
  PasswordBook,
  WindowCounter,
} from "./security.js";
import type { SharingOptions } from "./sharing.js";

export type HubLogLevel = "debug" | "info" | "warn";
/** Receives log lines; never given a password. */
export type HubLogger = (level: HubLogLevel, message: string) => void;

export const stderrHubLogger: HubLogger = (level, message) => {
  if (level !== "debug") process.stderr.write(`hub ${level}: ${message}\n`);
};

export interface HubDeviceSpec {
  readonly id: string;
  readonly password: string;
}

export interface HubServerOptions {
  readonly host?: string;
  /** Default 65101; 0 = any free port. */
  readonly port?: number;
  /** A second VESC Tool for a device: "replace" the attached one (reference behaviour) or "refuse" the newcomer. */
  readonly onConflict?: "replace" | "refuse";
  /** Pinned devices. When non-empty, only these ids may register, with these passwords. */
  readonly devices?: readonly HubDeviceSpec[];
  /**
   * A connection that is not an attached device or tool after this long is closed, whatever
   * the peer does (default 5000, the reference hub's time for the login line).
   */
  readonly loginTimeoutMs?: number;
  /** Longest login line accepted, `\n` included (default 128; the Express's is at most 60). */
  readonly maxLineBytes?: number;
  /**
   * Open connections in all (default 10000). At the cap, a newcomer takes the slot of the
   * oldest connection that has not logged in; only attached devices and tools are never evicted.
   */
  readonly maxConnections?: number;
  /** Open connections per address group (an IPv4 address or an IPv6 /64; default 256). */
  readonly maxConnectionsPerIp?: number;
  /** Failed logins per address group (default 10 per minute → blocked 5 min). */
  readonly failedLogins?: FailureLimitOptions;
  /** Device bytes kept for the next tool while none is attached (default 64 KiB). */
  readonly pendingLimitBytes?: number;
  /** Ids whose first-registration password is remembered (default 10000). */
  readonly maxRememberedIds?: number;
  /** A remembered id no tool ever used is forgotten this long after its device left (default 10 min). */
  readonly rememberedIdleMs?: number;
  /** New (unpinned) ids one address group may register (default 20 per 10 min). */
  readonly registrationsPerAddress?: { readonly max?: number; readonly windowMs?: number };
  /** Wrong passwords for one device id, from any address, that lock the id (default 30 per 10 min → 15 min). */
  readonly failedLoginsPerId?: FailureLimitOptions;
  readonly sharing?: SharingOptions;
  readonly logger?: HubLogger;
}

export interface HubStats {
  readonly listening: { readonly host: string; readonly port: number } | null;
  readonly devices: number;
  readonly clients: number;
  readonly bridges: number;
  readonly connections: number;
  readonly bytesToDevices: number;
  readonly bytesToClients: number;
  readonly loginsOk: number;
  readonly loginFailures: number;
  readonly registrations: number;
  readonly rejectedConnections: number;
  /** Connections closed before login to make room at the connection cap. */
  readonly evictedConnections: number;
  readonly blockedAddresses: number;
  /** Device ids locked after too many wrong passwords from all addresses together. */
  readonly lockedIds: number;
  /** Unpinned ids whose password the hub remembers. */
  readonly rememberedIds: number;
  readonly deviceList: readonly DeviceLinkStats[];
}

export interface HubEvents {
  deviceRegistered: [id: string];
  stopped: [];
  deviceLeft: [id: string];
  clientAttached: [id: string];
}

type Failure =
  | "badPassword"
  | "unknownId"
  | "malformed"
  | "tooLong"
  | "notAllowed"
  /** The id is locked after wrong passwords from many addresses; this address is not known to it. */
  | "idLocked";

/** A connection that has not become an attached device or tool yet. */
interface PendingLogin {
  readonly group: string;
  readonly timer: NodeJS.Timeout;
  /** Gives back its connection slot (once). */
  readonly release: () => void;
}

/** Addresses remembered per id as having logged in to it: they are spared an id lock. */
const TRUSTED_PER_ID = 4;

export class HubServer extends EventEmitter<HubEvents> {
  private server: Server | undefined;
  private readonly links = new Map<string, DeviceLink>();
  private readonly remembered: RememberedIds;
  private readonly pinned = new Map<string, Buffer>();
  private readonly book = new PasswordBook();
  /** Failed logins per address group. */
  private readonly limiter: FailureLimiter;
  /** Wrong passwords per device id, from any address. */
  private readonly idLimiter: FailureLimiter;
  /** New unpinned ids registered per address group. */
  private readonly newIds: WindowCounter;
  private readonly newIdsMax: number;
  /** Per id, the address groups that logged in to it or registered it, newest last. */
  private readonly trusted = new Map<string, string[]>();
  private readonly counter: ConnectionCounter;
  private readonly sockets = new Set<Socket>();
  /** Not yet attached, oldest first (the first to go at the connection cap). */
  private readonly pending = new Map<Socket, PendingLogin>();
  private readonly log: HubLogger;
  // Totals of links that are gone, so stats() counts bytes over the hub's lifetime.
  private bytesToDevicesPast = 0;
  private bytesToClientsPast = 0;
  private loginsOk = 0;
  private loginFailures = 0;
  private registrations = 0;
  private rejected = 0;
  private evicted = 0;

  /** Throws a TypeError for a pinned device that could never register or be logged in to. */
  constructor(private readonly options: HubServerOptions = {}) {
    super();
    const problem = hubDeviceProblems(
      options.devices ?? [],
      (i) => `devices[${i}]`,
      options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    )[0];
    if (problem !== undefined) throw new TypeError(`HubServer: ${problem}`);
    this.log = options.logger ?? stderrHubLogger;
    this.limiter = new FailureLimiter(options.failedLogins);
    this.idLimiter = new FailureLimiter({
      max: 30,
      windowMs: 600_000,
      blockMs: 900_000,
      ...options.failedLoginsPerId,
    });
    this.newIds = new WindowCounter(options.registrationsPerAddress?.windowMs ?? 600_000);
    this.newIdsMax = options.registrationsPerAddress?.max ?? 20;
    this.remembered = new RememberedIds(
      options.maxRememberedIds ?? 10_000,
      options.rememberedIdleMs ?? 600_000,
      (id) => this.trusted.delete(id),
    );
    this.counter = new ConnectionCounter(
      options.maxConnections ?? 10_000,
      options.maxConnectionsPerIp ?? 256,
    );
  }

  async start(): Promise<{ host: string; port: number }> {
    if (this.server !== undefined) throw new Error("hub already started");
    for (const d of this.options.devices ?? [])
      this.pinned.set(normaliseHubId(d.id), this.book.hash(d.password));
    const server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 5000 }, (s) =>
      this.onConnection(s),
    );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port ?? 65101, this.options.host ?? "0.0.0.0", () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (e) => this.log("warn", `server error: ${e.message}`));
    const addr = this.address();
    if (addr === null) throw new Error("hub is not listening");
    return addr;
  }

  address(): { host: string; port: number } | null {
    const a = this.server?.address();
    if (a === null || a === undefined || typeof a === "string") return null;
    return { host: (a as AddressInfo).address, port: (a as AddressInfo).port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const link of [...this.links.values()]) link.close("hub stopped");
    for (const s of this.sockets) s.destroy();
    this.emit("stopped");
    await closed;
  }

  /** The registered device with this id (case-insensitive), if any. */
  isRegistered(id: string): boolean {
    return this.links.has(normaliseHubId(id));
  }

  /** Waits until `id` is registered (or the signal aborts / `timeoutMs` passes → false). */
  waitForDevice(id: string, signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    const key = normaliseHubId(id);
    if (this.links.has(key)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.off("deviceRegistered", onReg);
        this.off("stopped", onAbort);
        signal.removeEventListener("abort", onAbort);
        resolve(ok);
      };
      const onReg = (regId: string) => {
        if (regId === key) done(true);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.on("deviceRegistered", onReg);
      this.on("stopped", onAbort);
      signal.addEventListener("abort", onAbort);
      if (signal.aborted) done(false);
    });
  }

  /** Opens the bridge's in-process endpoint on a registered device; false if not registered. */
  attachBridge(id: string, endpoint: BridgeEndpoint): boolean {
    const link = this.links.get(normaliseHubId(id));
    if (link === undefined) return false;
    link.attachBridge(endpoint);
    return true;
  }

  detachBridge(id: string, endpoint: BridgeEndpoint): void {
    this.links.get(normaliseHubId(id))?.detachBridge(endpoint);
  }

  bridgeWrite(id: string, endpoint: BridgeEndpoint, bytes: Uint8Array): void {
    this.links.get(normaliseHubId(id))?.bridgeWrite(endpoint, bytes);
  }

  stats(): HubStats {
    const deviceList = [...this.links.values()].map((l) => l.stats());
    let toDev = this.bytesToDevicesPast;
    let toCli = this.bytesToClientsPast;
    for (const d of deviceList) {
      toDev += d.bytesToDevice;
      toCli += d.bytesToClient;
    }
    return {
      listening: this.address(),
      devices: deviceList.length,
      clients: deviceList.filter((d) => d.clientAttached).length,
      bridges: deviceList.filter((d) => d.bridgeAttached).length,
      connections: this.counter.open,
      bytesToDevices: toDev,
      bytesToClients: toCli,
      loginsOk: this.loginsOk,
      loginFailures: this.loginFailures,
      registrations: this.registrations,
      rejectedConnections: this.rejected,
      evictedConnections: this.evicted,
      blockedAddresses: this.limiter.blockedCount(),
      lockedIds: this.idLimiter.blockedCount(),
      rememberedIds: this.remembered.size,
      deviceList,
    };
  }

  private onConnection(socket: Socket): void {
    const address = normaliseAddress(socket.remoteAddress);
    const group = addressGroup(address);
    const remote = `${address}:${socket.remotePort ?? 0}`;
    socket.on("error", () => {}); // every path ends in 'close'; errors carry nothing we report
    if (this.limiter.isBlocked(group)) {
      this.reject(socket, remote, "address blocked after failed logins");
      return;
    }
    let slot = this.counter.acquire(group);
    // Only an address under its own cap may make room, or one host could evict everyone's logins.
    if (slot === "total" && this.evictOldestPending()) slot = this.counter.acquire(group);
    if (slot !== "ok") {
      this.reject(
        socket,
        remote,
        slot === "total" ? "connection limit reached" : "per-address limit reached",
      );
      return;
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.counter.release(group);
    };
    this.sockets.add(socket);
    socket.once("close", () => {
      this.sockets.delete(socket);
      this.settle(socket);
      release();
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5000);

    // Runs until the socket is attached, not just until its line: a peer that half-closes,
    // stops reading or never closes after a PING or a failure is still gone by then.
    const timer = setTimeout(() => {
      socket.off("data", onData);
      this.log("info", `no login from ${remote} in time, closed`);
      socket.destroy();
    }, this.options.loginTimeoutMs ?? 5000);
    this.pending.set(socket, { group, timer, release });
    const reader = new LineReader(this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    const onData = (chunk: Buffer) => {
      const ev = reader.push(chunk);
      if (ev.kind === "need") return;
      socket.off("data", onData);
      // Hold bytes that follow the line until the socket is handed to its link.
      socket.pause();
      if (ev.kind === "tooLong") {
        this.fail(socket, remote, group, "tooLong", undefined);
        return;
      }
      this.onLine(socket, remote, group, ev.line, ev.rest);
    };
    socket.on("data", onData);
  }

  /** The socket is attached or closed: it no longer counts against the login deadline. */
  private settle(socket: Socket): void {
    const p = this.pending.get(socket);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.pending.delete(socket);
  }

  /** Closes the oldest connection still logging in, freeing its slot now; false if there is none. */
  private evictOldestPending(): boolean {
    const first = this.pending.entries().next();
    if (first.done === true) return false;
    const [socket, p] = first.value;
    this.settle(socket);
    p.release();
    this.evicted++;
    socket.destroy();
    return true;
  }

  /** Closes every connection of `group` still logging in (it was just blocked). */
  private dropPending(group: string): void {
    for (const [socket, p] of this.pending) if (p.group === group) socket.destroy();
  }

  private onLine(socket: Socket, remote: string, group: string, line: string, rest: Uint8Array): void {
    // Checked again here, not only at connect: a connection opened before the block gets no guess.
    if (this.limiter.isBlocked(group)) {
      this.reject(socket, remote, "address blocked after failed logins");
      return;
    }
    const login = parseLoginLine(line);
    if ("error" in login) {
      this.fail(socket, remote, group, "malformed", undefined);
      return;
    }
    if (login.kind === "PING") {
      // Close, not half-close: a peer that never closes its side must not keep the socket.
      socket.end(this.links.has(login.id) ? "PONG\n" : "NULL\n", () => socket.destroy());
      return;
    }
    if (login.kind === "VESC") {
      this.register(socket, remote, group, login, rest);
      return;
    }
    this.loginTool(socket, remote, group, login, rest);
  }

  /**
   * The one place a password is compared. A locked id is only open to address groups that
   * logged in to it before, so guesses spread over many addresses still hit one budget.
   */
  private passwordOk(
    socket: Socket,
    remote: string,
    group: string,
    login: LoginLine,
    stored: Buffer,
  ): boolean {
    if (this.idLimiter.isBlocked(login.id) && !this.trusted.get(login.id)?.includes(group)) {
      this.fail(socket, remote, group, "idLocked", login);
      return false;
    }
    if (this.book.matches(stored, login.password)) return true;
    if (this.idLimiter.fail(login.id))
      this.log("warn", `device id ${login.id} locked after repeated wrong passwords`);
    this.fail(socket, remote, group, "badPassword", login);
    return false;
  }

  private trust(id: string, group: string): void {
    const list = (this.trusted.get(id) ?? []).filter((g) => g !== group);
    list.push(group);
    if (list.length > TRUSTED_PER_ID) list.shift();
    this.trusted.set(id, list);
  }

  private register(socket: Socket, remote: string, group: string, login: LoginLine, rest: Uint8Array): void {
    const pinned = this.pinned.get(login.id);
    let hash: Buffer;
    if (pinned !== undefined) {
      if (!this.passwordOk(socket, remote, group, login, pinned)) return;
      hash = pinned;
    } else if (this.pinned.size > 0) {
      this.fail(socket, remote, group, "notAllowed", login);
      return;
    } else {
      const known = this.remembered.hash(login.id);
      if (known !== undefined) {
        if (!this.passwordOk(socket, remote, group, login, known)) return;
        hash = known;
      } else {
        if (this.newIds.count(group) >= this.newIdsMax) {
          this.log("info", `device ${login.id} from ${remote} refused: too many new ids from this address`);
          this.rejected++;
          socket.destroy();
          return;
        }
        hash = this.book.hash(login.password);
        if (!this.remembered.add(login.id, hash)) {
          this.log("warn", `device ${login.id} from ${remote} refused: too many device ids remembered`);
          this.rejected++;
          socket.destroy();
          return;
        }
        this.newIds.add(group);
      }
      this.remembered.online(login.id);
    }
    this.trust(login.id, group);
    this.settle(socket);
    const old = this.links.get(login.id);
    if (old !== undefined) {
      this.log("info", `device ${login.id} registered again from ${remote}; closing the old connection`);
      old.close("device registered again");
    }
    const link = new DeviceLink(
      login.id,
      socket,
      remote,
      hash,
      { pendingLimitBytes: this.options.pendingLimitBytes ?? 65_536, sharing: this.options.sharing ?? {} },
      (gone) => this.onLinkGone(gone),
    );
    this.links.set(login.id, link);
    this.registrations++;
    link.start(rest);
    socket.resume();
    this.log("info", `device ${login.id} registered from ${remote}`);
    this.emit("deviceRegistered", login.id);
  }

  private loginTool(socket: Socket, remote: string, group: string, login: LoginLine, rest: Uint8Array): void {
    const link = this.links.get(login.id);
    if (link === undefined) {
      this.fail(socket, remote, group, "unknownId", login);
      return;
    }
    if (!this.passwordOk(socket, remote, group, login, link.passwordHash)) return;
    const previous = link.clientSocket;
    if (previous !== undefined) {
      if (this.options.onConflict === "refuse") {
        this.log("info", `client ${remote} for ${login.id} refused: a client is already attached`);
        socket.destroy();
        return;
      }
      this.log("info", `client for ${login.id} replaced by a newer one from ${remote}`);
      previous.destroy();
    }
    this.trust(login.id, group);
    this.remembered.toolAttached(login.id);
    this.settle(socket);
    this.loginsOk++;
    link.attachClient(socket, remote, rest);
    socket.resume();
    this.log("info", `client ${remote} attached to ${login.id}`);
    this.emit("clientAttached", login.id);
  }

  private fail(
    socket: Socket,
    remote: string,
    group: string,
    why: Failure,
    login: LoginLine | undefined,
  ): void {
    this.loginFailures++;
    const who = login === undefined ? "" : ` ${login.kind} ${login.id}`;
    this.log("warn", `login failed (${why})${who} from ${remote}`);
    socket.destroy();
    if (this.limiter.fail(group)) {
      this.log("warn", `address ${group} blocked after repeated failed logins`);
      this.dropPending(group);
    }
  }

  private reject(socket: Socket, remote: string, why: string): void {
    this.rejected++;
    this.log("debug", `connection from ${remote} refused: ${why}`);
    socket.destroy();
  }

  private onLinkGone(link: DeviceLink): void {
    this.bytesToDevicesPast += link.bytesToDevice;
    this.bytesToClientsPast += link.bytesToClient;
    if (this.links.get(link.id) !== link) return;
    this.links.delete(link.id);
    this.remembered.offline(link.id);
    this.log("info", `device ${link.id} left`);
    this.emit("deviceLeft", link.id);
  }
}
