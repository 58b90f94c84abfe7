/**
 * One connection's request/response layer: a FrameDecoder over the transport's bytes and a
 * queue of pending requests. VESC frames carry no request id, so a reply goes to the oldest
 * pending request expecting its command id (docs/connecting.md). Everything else —
 * COMM_PRINT, Lisp prints, replies that came after their request timed out, garbage a hub
 * passes on from before we attached — is counted and ignored, never an error.
 */
import { EventEmitter } from "node:events";
import {
  CommandId,
  type DecodeEvent,
  FrameDecoder,
  commandName,
  encodeFrame,
  FIRMWARE_MAX_PAYLOAD,
  wrapForwardCan,
} from "../protocol/index.js";
import type { Transport, TransportError } from "../transport/transport.js";

export type SessionErrorCode = "Timeout" | "Closed";

export class SessionError extends Error {
  override readonly name = "SessionError";
  constructor(
    readonly code: SessionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isSessionError(e: unknown): e is SessionError {
  return e instanceof SessionError;
}

export interface RequestOptions {
  /** Command id of the reply (for a forwarded request: the inner command's id). */
  readonly expect: CommandId;
  readonly timeoutMs: number;
  /**
   * Write the same frame again every this many ms until it is answered (the deadline stays
   * timeoutMs): a hub may swallow the first frame after a login (docs/connecting.md).
   */
  readonly resendEveryMs?: number;
  /** Most writes of the frame, the first included (default: as many as fit in timeoutMs). */
  readonly maxSends?: number;
}

export interface SessionStats {
  /** Frames that answered a request. */
  replies: number;
  /** Frames no request was waiting for (prints, late replies, unexpected ids). */
  strayFrames: number;
  /** COMM_PRINT / COMM_LISP_PRINT among the stray frames. */
  prints: number;
  timeouts: number;
  /** Frames written again because their request was still unanswered (resendEveryMs). */
  resends: number;
}

export interface SessionEvents {
  /** Any frame that is not the reply to a pending request. */
  stray: [payload: Uint8Array];
  discarded: [event: Extract<DecodeEvent, { kind: "discarded" }>];
  /** The connection is gone; error absent after our own close(). */
  close: [error?: TransportError];
}

export interface SessionOptions {
  /**
   * Largest payload the decoder waits for. Default: the firmware's 512, so a corrupt length
   * never holds back the replies behind it.
   */
  readonly maxPayload?: number;
}

interface Pending {
  readonly expect: number;
  readonly timeoutMs: number;
  /** Writes so far (1 unless resendEveryMs). */
  sends: number;
  resendTimer?: ReturnType<typeof setInterval>;
  /** performance.now() after which it has timed out. */
  readonly deadline: number;
  readonly resolve: (payload: Uint8Array) => void;
  readonly reject: (e: SessionError) => void;
}

/** Node's timers run on a millisecond clock cached per loop turn: one may fire this early against performance.now(). */
const TIMER_SLACK_MS = 1;

export class Session extends EventEmitter<SessionEvents> {
  readonly decoder: FrameDecoder;
  readonly stats: SessionStats = { replies: 0, strayFrames: 0, prints: 0, timeouts: 0, resends: 0 };
  private readonly pending: Pending[] = [];
  private closedError: SessionError | undefined;
  /**
   * One timer for every request's timeout, armed for the earliest deadline and left to fire
   * when its request is answered (it then finds nothing due). A timer per request, cleared by
   * its reply, was two timer-list operations and a Timeout object per poll; with a poll a
   * second and a longer timeout, this one is re-armed in place (refresh) and never replaced.
   */
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The duration `timer` was made with (refresh() reuses it). */
  private timerMs = 0;
  /** performance.now() when the armed timer fires; Infinity when it is not armed. */
  private timerDue = Number.POSITIVE_INFINITY;
  private readonly onTimer = (): void => this.expire();
  // Forwarded replies carry no CAN id: one forwarded request in flight at a time.
  private forwardChain: Promise<unknown> = Promise.resolve();
  private readonly onData = (chunk: Uint8Array): void => this.handle(this.decoder.push(chunk));
  private readonly onClose = (error?: TransportError): void => this.shutdown(error);

  constructor(
    readonly transport: Transport,
    options: SessionOptions = {},
  ) {
    super();
    this.decoder = new FrameDecoder({ maxPayload: options.maxPayload ?? FIRMWARE_MAX_PAYLOAD });
    transport.on("data", this.onData);
    transport.once("close", this.onClose);
  }

  get url(): string {
    return this.transport.url;
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Sends one payload and resolves with the reply payload (id byte included). */
  request(payload: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    return this.requestFrame(encodeFrame(payload), options);
  }

  /** request() with the frame already encoded: a poll sends the same bytes every time. */
  requestFrame(frame: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<Uint8Array>((resolve, reject) => {
      const { expect, timeoutMs } = options;
      const entry: Pending = {
        expect,
        timeoutMs,
        sends: 1,
        deadline: performance.now() + timeoutMs,
        resolve,
        reject,
      };
      this.pending.push(entry);
      this.arm(entry.deadline, timeoutMs);
      const fail = (e: unknown): void => {
        if (!this.settle(entry)) return;
        reject(
          new SessionError("Closed", `${this.url}: could not send: ${(e as Error).message}`, { cause: e }),
        );
      };
      this.transport.write(frame).catch(fail);
      const every = options.resendEveryMs;
      if (every !== undefined && every > 0) {
        const maxSends = Math.max(1, options.maxSends ?? Math.ceil(timeoutMs / every));
        if (maxSends > 1) {
          entry.resendTimer = setInterval(() => {
            if (entry.sends >= maxSends) {
              clearInterval(entry.resendTimer);
              return;
            }
            entry.sends++;
            this.stats.resends++;
            this.transport.write(frame).catch(fail);
          }, every);
        }
      }
    });
  }

  /** COMM_FORWARD_CAN to `canId`, serialised with every other forwarded request of this session. */
  forward(canId: number, inner: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    const run = (): Promise<Uint8Array> => this.request(wrapForwardCan(canId, inner), options);
    const result = this.forwardChain.then(run, run);
    this.forwardChain = result.catch(() => undefined);
    return result;
  }

  /** Closes the transport; pending requests fail with SessionError "Closed". */
  async close(): Promise<void> {
    this.shutdown(undefined);
    await this.transport.close();
  }

  /** Makes sure the timer fires by `deadline` (ms from now: `ms`). */
  private arm(deadline: number, ms: number): void {
    // Holds the process open while a request waits, as a timer of its own would.
    this.timer?.ref();
    if (this.timerDue <= deadline) return;
    this.timerDue = deadline;
    if (this.timer && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    clearTimeout(this.timer);
    this.timerMs = ms;
    this.timer = setTimeout(this.onTimer, ms);
  }

  /** The timer fired: time out what is due, re-arm for the rest. */
  private expire(): void {
    this.timerDue = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const entry of [...this.pending]) {
      if (entry.deadline <= now + TIMER_SLACK_MS) this.timeout(entry);
      else next = Math.min(next, entry.deadline);
    }
    if (next !== Number.POSITIVE_INFINITY && !this.closedError) {
      this.arm(next, Math.max(1, Math.ceil(next - now)));
    }
  }

  private timeout(entry: Pending): void {
    if (!this.settle(entry)) return;
    this.stats.timeouts++;
    // A corrupt start byte with a large length would otherwise hold back the frames behind it.
    this.handle(this.decoder.skipPending());
    const sent = entry.sends > 1 ? ` (sent ${entry.sends} times)` : "";
    entry.reject(
      new SessionError(
        "Timeout",
        `${this.url}: no reply to ${commandName(entry.expect) ?? `command ${entry.expect}`} within ${entry.timeoutMs} ms${sent}`,
      ),
    );
  }

  /** Removes a pending entry; false when it was already settled. */
  private settle(entry: Pending): boolean {
    const i = this.pending.indexOf(entry);
    if (i < 0) return false;
    this.pending.splice(i, 1);
    clearInterval(entry.resendTimer);
    // Left armed but not holding the process open once nothing waits.
    if (this.pending.length === 0) this.timer?.unref();
    return true;
  }

  private handle(events: DecodeEvent[]): void {
    for (const event of events) {
      if (event.kind === "discarded") {
        this.emit("discarded", event);
        continue;
      }
      const id = event.payload[0];
      const entry = this.pending.find((p) => p.expect === id);
      if (entry) {
        this.settle(entry);
        this.stats.replies++;
        entry.resolve(event.payload);
        continue;
      }
      this.stats.strayFrames++;
      if (id === CommandId.Print || id === CommandId.LispPrint) this.stats.prints++;
      this.emit("stray", event.payload);
    }
  }

  private shutdown(error: TransportError | undefined): void {
    if (this.closedError) return;
    this.closedError = new SessionError(
      "Closed",
      error ? error.message : `${this.url}: session closed`,
      error ? { cause: error } : undefined,
    );
    this.transport.off("data", this.onData);
    this.transport.off("close", this.onClose);
    clearTimeout(this.timer);
    this.timerDue = Number.POSITIVE_INFINITY;
    for (const entry of this.pending.splice(0)) {
      clearInterval(entry.resendTimer);
      entry.reject(this.closedError);
    }
    this.emit("close", error);
  }
}
