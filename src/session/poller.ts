/**
 * The poller: keeps one persistent connection per device, handshakes once per connection,
 * then polls at a fixed interval, turning replies into Readings. It reconnects with
 * exponential backoff + jitter and marks the device stale when readings stop. It does not
 * fight VESC Tool for the device (docs/connecting.md): when another client
 * takes it, the poller yields for `yieldMs` instead of taking it back. When that is depends
 * on the kind of link (its LinkPolicy, src/transport/kinds.ts), never on the URL. A
 * connection that can never succeed (a non-recoverable TransportError) ends the retries.
 */
import { EventEmitter } from "node:events";
import { implausibleCount } from "../model/bmsReading.js";
import type { DeviceStatus, LinkState, Reading } from "../model/reading.js";
import { deviceInfoFromFwVersion, isProtocolError } from "../protocol/index.js";
import {
  type LinkPolicy,
  PLAIN_LINK,
  type TransportError,
  isTransportError,
} from "../transport/transport.js";
import { nextDelay } from "./backoff.js";
import { DEFAULT_REQUEST_TIMEOUT_MS, DeviceReader } from "./device.js";
import { handshake } from "./handshake.js";
import { type Clock, clockEntry, pollClock } from "./pollClock.js";
import { Session, SessionError, isSessionError } from "./session.js";
import type { PollerEvents, PollerOptions } from "./types.js";

export const DEFAULT_INTERVAL_MS = 5000;
export const MIN_INTERVAL_MS = 100;
export const DEFAULT_YIELD_MS = 600_000;
export const TAKEN_MESSAGE = "device taken by another client";
/** Polls in a row without a reply before the connection is considered dead. */
const MAX_FAILED_POLLS = 3;

export interface PollerCounters {
  readings: number;
  /** Replies that failed to decode (never published). */
  malformedReplies: number;
  timeouts: number;
  strayFrames: number;
  connections: number;
  /** BMS values published as null because they were physically implausible (model/plausibility.ts). */
  implausibleValues: number;
}

export class Poller extends EventEmitter<PollerEvents> {
  readonly counters: PollerCounters = {
    readings: 0,
    malformedReplies: 0,
    timeouts: 0,
    strayFrames: 0,
    connections: 0,
    implausibleValues: 0,
  };
  private link: LinkState = "offline";
  private reconnects = 0;
  private lastError: string | undefined;
  private lastReadingTime: string | undefined;
  /** A failed poll was already logged at warn since the last reading (log it once per episode). */
  private warned = false;
  /** Clock ms when the current connection's handshake completed (0: none). */
  private connectedAt = 0;
  private pastDecoder = { crcErrors: 0, discardedBytes: 0, framesReceived: 0 };
  private session: Session | undefined;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private staleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resolves the sleep under way. */
  private wake: (() => void) | undefined;
  private readonly clockEntry = clockEntry(() => this.wakeUp());
  private readonly clock: Clock;
  private readonly policy: LinkPolicy;
  /** ms timestamp the poll grid is anchored to (start + startDelayMs): polls fall on anchor + k × interval. */
  private anchor = 0;

  /** Assigns only; nothing runs until start(). */
  constructor(readonly options: PollerOptions) {
    super();
    this.clock = options.clock ?? pollClock;
    this.policy = options.policy ?? options.transport.policy ?? PLAIN_LINK;
  }

  get intervalMs(): number {
    return Math.max(MIN_INTERVAL_MS, this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
  }

  start(): void {
    if (this.abort) return;
    const abort = new AbortController();
    this.abort = abort;
    this.anchor = this.clock.now() + (this.options.startDelayMs ?? 0);
    this.loop = this.run(abort.signal);
  }

  /** Stops polling and closes the connection; resolves when no timer or socket is left. */
  async stop(): Promise<void> {
    const abort = this.abort;
    if (!abort) return;
    abort.abort();
    this.clock.cancel(this.clockEntry);
    this.wakeUp();
    this.clearStaleTimer();
    await this.session?.close();
    await this.loop;
    this.abort = undefined;
    this.loop = undefined;
    this.setLink("offline");
  }

  status(): DeviceStatus {
    const d = this.session?.decoder.stats;
    return {
      deviceId: this.options.deviceId,
      link: this.link,
      url: this.options.url,
      reconnects: this.reconnects,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.lastReadingTime === undefined ? {} : { lastReadingTime: this.lastReadingTime }),
      crcErrors: this.pastDecoder.crcErrors + (d?.crcErrors ?? 0),
      discardedBytes: this.pastDecoder.discardedBytes + (d?.bytesDiscarded ?? 0),
      framesReceived: this.pastDecoder.framesReceived + (d?.framesDecoded ?? 0),
      implausibleValues: this.counters.implausibleValues,
    };
  }

  private async run(signal: AbortSignal): Promise<void> {
    const policy = this.policy;
    let attempt = 0;
    let quickFailures = 0;
    if ((this.options.startDelayMs ?? 0) > 0) {
      this.setLink("connecting");
      await this.sleep(this.options.startDelayMs ?? 0, signal);
    }
    for (let first = true; !signal.aborted; first = false) {
      if (!first) this.reconnects++;
      this.setLink("connecting");
      let hadReplies = false;
      let failure: unknown;
      try {
        const transport = await this.options.transport(signal);
        const session = new Session(transport);
        this.session = session;
        this.counters.connections++;
        if (signal.aborted) break;
        const fw = await handshake(session, {
          requestTimeoutMs: this.requestTimeoutMs,
          customConfig: this.options.customConfigHandshake ?? false,
          resend: policy.resendFirstRequest,
          confirmIdentity: policy.confirmIdentity,
        });
        hadReplies = true;
        attempt = 0;
        quickFailures = 0;
        this.connectedAt = this.clock.now();
        // From here on a connection that yields no reading (malformed replies) goes stale too.
        this.armStaleTimer();
        await this.pollLoop(
          session,
          new DeviceReader(session, deviceInfoFromFwVersion(fw), this.readerOptions()),
          signal,
        );
      } catch (e) {
        failure = e;
      } finally {
        await this.dropSession();
      }
      if (signal.aborted) break;
      this.report(failure);
      const transportError = findTransportError(failure);
      if (transportError?.recoverable === false) {
        // Every attempt would fail the same way: say so once and stop, not retry forever.
        this.emit("log", "error", `not retrying: ${transportError.message}`);
        this.setLink("offline", true);
        break;
      }
      let yielded = false;
      if (policy.yieldWhenClosedAfterReplies && hadReplies && transportError?.code === "Closed") {
        yielded = true; // e.g. a hub gives the device to the newest login: someone took it
      } else if (policy.quickFailuresBeforeYield > 0 && !hadReplies && isQuickFailure(failure)) {
        quickFailures++;
        if (quickFailures >= policy.quickFailuresBeforeYield) yielded = true;
      }
      if (yielded) {
        quickFailures = 0;
        attempt = 0;
        this.lastError = TAKEN_MESSAGE;
        this.setLink("yielded", true);
        await this.sleep(this.options.yieldMs ?? DEFAULT_YIELD_MS, signal);
      } else {
        this.setLink("offline");
        const delayMs = nextDelay(attempt++, {
          ...(this.options.backoffInitialMs === undefined
            ? {}
            : { initialMs: this.options.backoffInitialMs }),
          ...(this.options.backoffMaxMs === undefined ? {} : { maxMs: this.options.backoffMaxMs }),
          random: Math.random(),
        });
        this.emitReconnecting(failure, delayMs);
        await this.sleep(delayMs, signal);
      }
      this.connectedAt = 0;
    }
  }

  private async pollLoop(session: Session, reader: DeviceReader, signal: AbortSignal): Promise<void> {
    let failedPolls = 0;
    while (!signal.aborted) {
      try {
        await this.pollOnce(reader);
        failedPolls = 0;
      } catch (e) {
        if (isSessionError(e) && e.code === "Closed") throw e;
        if (signal.aborted) return;
        this.report(e);
        this.warnOnce(e);
        if (!isProtocolError(e) && ++failedPolls >= MAX_FAILED_POLLS) {
          throw new SessionError(
            "Timeout",
            `${session.url}: no reply to ${MAX_FAILED_POLLS} polls in a row`,
            { cause: e },
          );
        }
      }
      await this.sleepUntil(nextSlot(this.anchor, this.intervalMs, this.clock.now()), signal);
    }
  }

  /**
   * One poll, published. Its own frame so the reading dies with it: held in pollLoop's frame,
   * it lived through the sleep to the next poll, outlived a young-generation GC and was
   * promoted (the whole decoded reading, per device per second at fleet scale).
   */
  private async pollOnce(reader: DeviceReader): Promise<void> {
    this.publish(await reader.poll());
  }

  private get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  private readerOptions(): ConstructorParameters<typeof DeviceReader>[2] {
    return {
      deviceId: this.options.deviceId,
      requestTimeoutMs: this.requestTimeoutMs,
      readBms: this.options.readBms ?? true,
      can: this.options.can ?? [],
      now: () => this.clock.now(),
      onError: (e) => this.report(e),
    };
  }

  private publish(reading: Reading): void {
    this.counters.readings++;
    this.counters.implausibleValues += implausibleCount(reading);
    this.lastReadingTime = reading.time;
    // A good reading ends the error episode: "online" never carries an old error.
    this.lastError = undefined;
    this.warned = false;
    if (this.link !== "online") this.setLink("online");
    this.armStaleTimer();
    this.emit("reading", reading);
  }

  /**
   * Stale when no reading comes for staleAfterIntervals intervals, counted from the last
   * reading or, before the first, from the handshake. One timer per connection, pushed back
   * by every reading (a new one per reading would be garbage that outlives a young-generation
   * GC, per device per second).
   */
  private armStaleTimer(): void {
    if (this.staleTimer) {
      this.staleTimer.refresh();
      return;
    }
    const staleMs = (this.options.staleAfterIntervals ?? 3) * this.intervalMs;
    this.staleTimer = setTimeout(() => {
      if (this.link === "online" || this.link === "connecting") this.setLink("stale");
    }, staleMs);
  }

  /** The first failed poll since the last reading is a warning; the rest of the episode is not news. */
  private warnOnce(e: unknown): void {
    if (this.warned) return;
    this.warned = true;
    const what = isProtocolError(e) ? "malformed reply" : "poll failed";
    this.emit("log", "warn", `${what}: ${e instanceof Error ? e.message : String(e)}`);
  }

  /** One line per reconnect: why, how long the connection had been up, when the next try is. */
  private emitReconnecting(failure: unknown, delayMs: number): void {
    const why =
      failure instanceof Error ? failure.message : failure === undefined ? "closed" : String(failure);
    const up =
      this.connectedAt > 0 ? ` after ${formatSeconds(this.clock.now() - this.connectedAt)} connected` : "";
    this.emit("log", "info", `link lost${up} (${why}); reconnecting in ${formatSeconds(delayMs)}`);
  }

  private clearStaleTimer(): void {
    clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
  }

  /** Counts an error, remembers its message and emits it (only if someone listens: an unheard "error" would throw). */
  private report(e: unknown): void {
    if (e === undefined) return;
    const error = e instanceof Error ? e : new Error(String(e));
    if (isProtocolError(error)) this.counters.malformedReplies++;
    if (isSessionError(error) && error.code === "Timeout") this.counters.timeouts++;
    this.lastError = error.message;
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }

  private setLink(link: LinkState, force = false): void {
    if (this.link === link && !force) return;
    this.link = link;
    if (link !== "online" && link !== "stale") this.clearStaleTimer();
    this.emit("status", this.status());
  }

  private async dropSession(): Promise<void> {
    const session = this.session;
    if (!session) return;
    const d = session.decoder.stats;
    this.pastDecoder.crcErrors += d.crcErrors;
    this.pastDecoder.discardedBytes += d.bytesDiscarded;
    this.pastDecoder.framesReceived += d.framesDecoded;
    this.counters.strayFrames += session.stats.strayFrames;
    this.session = undefined;
    await session.close();
  }

  /** A sleep stop() can cut short. */
  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return this.sleepUntil(this.clock.now() + ms, signal);
  }

  /** Until `due` (clock ms), on the poll clock (the shared one: one timer for every poller). */
  private sleepUntil(due: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.clock.schedule(this.clockEntry, due);
    });
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * When the next poll is due: the first slot of the poller's own grid (anchor + k × interval)
 * at least half an interval away. A fixed grid, not "interval after the last poll": otherwise
 * event-loop hiccups, and connections that happen to complete in the same turn of the loop,
 * would pull a fleet's spread-out polls into the same instant for good, and every poll of a
 * clump waits for the replies of all the others. A poll that overran skips its slot rather
 * than catching up in a burst.
 */
export function nextSlot(anchor: number, intervalMs: number, now: number): number {
  let slot = anchor + (Math.floor((now - anchor) / intervalMs) + 1) * intervalMs;
  if (slot - now < intervalMs / 2) slot += intervalMs;
  return slot;
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function findTransportError(e: unknown): TransportError | undefined {
  for (let cur = e, depth = 0; cur !== undefined && depth < 5; depth++) {
    if (isTransportError(cur)) return cur;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return undefined;
}

/** Refused, or closed/silent right after connecting: what a device busy with another client looks like. */
function isQuickFailure(e: unknown): boolean {
  const t = findTransportError(e);
  if (t?.code === "Closed") return true;
  if (t?.code === "ConnectFailed")
    return (t.cause as { code?: unknown } | undefined)?.code === "ECONNREFUSED";
  return isSessionError(e) && e.code === "Timeout";
}
