/**
 * One served connection of a simulated device: any Duplex (TCP socket, serial port, a hub
 * socket). It owns its FrameDecoder, the optional hub login line, and an ordered write queue
 * that applies latency, jitter, split writes and mid-frame resets. Timers exist only while
 * a reply is pending, so an idle connection holds no timer.
 */
import type { Duplex } from "node:stream";
import { FIRMWARE_MAX_PAYLOAD, FrameDecoder } from "../protocol/index.js";
import type { ConnectionInfo } from "./behaviors.js";
import type { SimDevice } from "./device.js";
import { splitBytes } from "./faults.js";

export interface ServeOptions {
  /** Expect `VESCTOOL:<id>:<password>\n` first; close on anything else. */
  readonly hubLogin?: { readonly id: string; readonly password: string };
  /** Shown in ConnectionInfo.label. */
  readonly label?: string;
  /** Called once when the connection is gone. */
  readonly onClose?: () => void;
}

/** The reference hub waits 5 s for the login line (vesc_tool `tcphub.cpp`). */
const LOGIN_TIMEOUT_MS = 5000;
const MAX_LOGIN_LINE = 256;

interface Pending {
  at: number;
  chunks: Uint8Array[];
  resetAfter: boolean;
}

const normaliseId = (id: string): string => id.replaceAll(" ", "").toUpperCase();

export class SimConnection {
  readonly info: ConnectionInfo;
  private readonly decoder = new FrameDecoder({ maxPayload: FIRMWARE_MAX_PAYLOAD });
  private closed = false;
  private loggedIn: boolean;
  private loginBuffer: number[] = [];
  /** Bytes that arrived while a slow login was being "processed". */
  private held: Uint8Array[] | undefined;
  private readonly queue: Pending[] = [];
  private lastDue = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private loginTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly device: SimDevice,
    private readonly stream: Duplex,
    id: number,
    private readonly options: ServeOptions = {},
  ) {
    this.info = { id, label: options.label ?? `connection ${id}` };
    this.loggedIn = options.hubLogin === undefined;
  }

  /** Starts reading; called once by SimDevice.serve. */
  start(): void {
    const s = this.stream;
    s.on("data", (chunk: Buffer | string) =>
      this.onData(typeof chunk === "string" ? Buffer.from(chunk) : chunk),
    );
    s.on("error", () => this.destroy(false)); // peer resets are normal life for a device
    s.on("close", () => this.destroy(false));
    s.on("end", () => this.destroy(false));
    if (!this.loggedIn) {
      this.loginTimer = setTimeout(() => this.destroy(false), LOGIN_TIMEOUT_MS);
      this.loginTimer.unref?.();
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Discarded-byte counters of this connection's decoder. */
  get decoderStats(): FrameDecoder["stats"] {
    return this.decoder.stats;
  }

  /** Closes the connection abruptly (TCP RST where possible), like a rebooting device. */
  reset(): void {
    this.destroy(true);
  }

  /** Closes gracefully. */
  close(): void {
    this.destroy(false);
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    if (!this.loggedIn) {
      this.onLoginBytes(chunk);
      return;
    }
    if (this.held) {
      this.held.push(chunk);
      return;
    }
    for (const ev of this.decoder.push(chunk)) {
      if (ev.kind === "discarded") {
        this.device.stats.discardedBytes += ev.bytes.length;
        continue;
      }
      const result = this.device.handleRequest(ev.payload, this.info);
      if (result.raw) this.enqueue([result.raw], false, false);
      for (const planned of result.replies) {
        const cut = planned.cutAt !== undefined;
        this.enqueue([cut ? planned.bytes.subarray(0, planned.cutAt) : planned.bytes], cut, true);
      }
      if (result.close) this.enqueue([], true, false);
      if (this.closed) return;
    }
  }

  private onLoginBytes(chunk: Uint8Array): void {
    const nl = chunk.indexOf(0x0a);
    const head = nl < 0 ? chunk : chunk.subarray(0, nl);
    if (this.loginBuffer.length + head.length > MAX_LOGIN_LINE) {
      this.destroy(false);
      return;
    }
    for (const b of head) this.loginBuffer.push(b);
    if (nl < 0) return;
    const line = Buffer.from(this.loginBuffer).toString("latin1");
    this.loginBuffer = [];
    clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
    const want = this.options.hubLogin;
    const tokens = line.split(":");
    // Parsed like the reference hub: three tokens, type and id case-insensitive, password exact.
    const ok =
      want !== undefined &&
      tokens.length === 3 &&
      normaliseId(tokens[0] ?? "") === "VESCTOOL" &&
      normaliseId(tokens[1] ?? "") === normaliseId(want.id) &&
      tokens[2] === want.password;
    if (!ok) {
      this.device.stats.loginFailures++;
      this.destroy(false);
      return;
    }
    this.loggedIn = true;
    const rest = chunk.subarray(nl + 1);
    const slow = this.device.faults.slowLoginMs ?? 0;
    if (slow > 0) {
      this.held = rest.length > 0 ? [rest.slice()] : [];
      this.loginTimer = setTimeout(() => {
        this.loginTimer = undefined;
        const held = this.held ?? [];
        this.held = undefined;
        for (const c of held) this.onData(c);
      }, slow);
      return;
    }
    if (rest.length > 0) this.onData(rest);
  }

  /** Queues bytes after the previous write, at now + latency + jitter. */
  private enqueue(bytes: Uint8Array[], resetAfter: boolean, isReply: boolean): void {
    const f = this.device.faults;
    const delay = isReply
      ? (f.latencyMs ?? 0) + (f.jitterMs ? this.device.faultRng.next() * f.jitterMs : 0)
      : 0;
    const split = isReply ? f.splitReplies : undefined;
    const chunks = bytes.flatMap((b) => splitBytes(b, split));
    const now = performance.now();
    // Fast path: nothing pending, nothing to wait for, one write.
    if (this.queue.length === 0 && delay <= 0 && chunks.length <= 1 && !resetAfter) {
      if (chunks[0] && chunks[0].length > 0) this.stream.write(chunks[0]);
      return;
    }
    const at = Math.max(this.lastDue, now + delay);
    this.lastDue = at;
    this.queue.push({ at, chunks, resetAfter });
    this.pump();
  }

  private pump(): void {
    if (this.closed || this.timer || this.immediate) return;
    const head = this.queue[0];
    if (!head) return;
    const wait = head.at - performance.now();
    // Node's timers run on the event loop's millisecond clock and may wake a fraction of a
    // millisecond before `at`; re-arming for that remainder would cost a whole extra
    // millisecond per reply. So a sub-millisecond remainder counts as due.
    if (wait >= 1) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, Math.ceil(wait));
      return;
    }
    const chunk = head.chunks.shift();
    if (chunk && chunk.length > 0) this.stream.write(chunk);
    if (head.chunks.length === 0) {
      this.queue.shift();
      if (head.resetAfter) {
        this.device.stats.resets++;
        // Give the partial write a moment to leave before the reset tears the socket down.
        this.immediate = setImmediate(() => {
          this.immediate = undefined;
          this.destroy(true);
        });
        return;
      }
    }
    if (this.queue.length === 0) return;
    // Each chunk in its own macrotask so split replies leave as separate writes.
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.pump();
    });
  }

  private destroy(hard: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.loginTimer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.loginTimer = this.immediate = undefined;
    this.queue.length = 0;
    const s = this.stream as Duplex & { resetAndDestroy?: () => void };
    if (hard && typeof s.resetAndDestroy === "function") s.resetAndDestroy();
    else s.destroy();
    this.options.onClose?.();
  }
}
