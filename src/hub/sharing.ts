/**
 * Sharing one device connection between a VESC Tool client and the in-process bridge, so
 * the bridge keeps its readings while someone uses VESC Tool. The tool's bytes are piped
 * untouched by the caller; this class only *observes* them (to know what the tool asked and
 * whether its stream is between frames), routes device replies, and decides when the
 * bridge's own requests go out:
 *  - only read-only telemetry (FW_VERSION, GET_VALUES(_SELECTIVE), BMS_GET_VALUES and
 *    FORWARD_CAN of those) ever reaches the device from the bridge; anything else is dropped;
 *  - while a tool is attached and has asked the same thing within `toolRecentMs`, the bridge's
 *    request is not sent: it waits for the next matching reply flowing to the tool, and is
 *    only sent itself if none comes within `shadowWaitMs`;
 *  - a bridge request is injected only at a frame boundary of the tool's stream, so the
 *    device's decoder never sees a frame cut in two (after `stallMs` of a stuck partial
 *    frame it goes anyway: the tool is sending garbage the device will drop regardless);
 *  - replies are matched to requests by command id in send order (the protocol has no
 *    request ids); a bridge request's reply also reaches the tool, which just shows
 *    fresher values, an accepted cost.
 * Known limit: the FORWARD_CAN reply carries the inner command id only, so a tool asking
 * the same command of another CAN node at the same moment can swap the two replies.
 */
import { CommandId } from "../protocol/commandId.js";
import { encodeFrame, FIRMWARE_MAX_PAYLOAD, FrameDecoder } from "../protocol/frame.js";

/** Commands the bridge may send (directly or inside FORWARD_CAN): read-only telemetry. */
export const BRIDGE_ALLOWED_COMMANDS: ReadonlySet<number> = new Set([
  CommandId.FwVersion,
  CommandId.GetValues,
  CommandId.GetValuesSelective,
  CommandId.BmsGetValues,
]);

const MAX_IN_FLIGHT = 256;

export interface TelemetryRequest {
  /** The whole request payload as hex: identical requests share a key. */
  readonly key: string;
  /** The command id the reply will carry (the inner one for FORWARD_CAN). */
  readonly replyCmd: number;
}

/** Classifies a request payload; undefined for anything that is not allowed telemetry. */
export function telemetryRequest(payload: Uint8Array): TelemetryRequest | undefined {
  const cmd = payload[0];
  if (cmd === undefined) return undefined;
  let replyCmd = cmd;
  if (cmd === CommandId.ForwardCan) {
    const inner = payload[2];
    if (inner === undefined) return undefined;
    replyCmd = inner;
  }
  if (!BRIDGE_ALLOWED_COMMANDS.has(replyCmd)) return undefined;
  return { key: Buffer.from(payload).toString("hex"), replyCmd };
}

export interface SharingIo {
  writeToDevice(bytes: Uint8Array): void;
  /** One reply payload for the bridge's transport. */
  deliverToBridge(payload: Uint8Array): void;
  toolAttached(): boolean;
}

export interface SharingOptions {
  /** The tool "asked lately" when it sent the same request within this window (default 2000). */
  readonly toolRecentMs?: number;
  /** How long a bridge request waits for the tool's matching reply before going out (default 1000). */
  readonly shadowWaitMs?: number;
  /** A request still unanswered after this is forgotten for reply matching (default 3000). */
  readonly replyTimeoutMs?: number;
  /** A partial tool frame older than this no longer holds bridge requests back (default 1000). */
  readonly stallMs?: number;
  readonly now?: () => number;
}

export interface SharingStats {
  /** Bridge requests sent to the device. */
  forwarded: number;
  /** Bridge requests answered by a reply the tool had asked for. */
  shadowed: number;
  /** Bridge requests dropped because they are not read-only telemetry. */
  blocked: number;
  /** Replies delivered to the bridge. */
  delivered: number;
}

interface InFlight {
  readonly key: string;
  readonly replyCmd: number;
  readonly owner: "tool" | "bridge";
  readonly sentAt: number;
}

interface Shadow {
  readonly payload: Uint8Array;
  readonly timer: NodeJS.Timeout;
}

export class DeviceSharing {
  readonly stats: SharingStats = { forwarded: 0, shadowed: 0, blocked: 0, delivered: 0 };
  private readonly toolRecentMs: number;
  private readonly shadowWaitMs: number;
  private readonly replyTimeoutMs: number;
  private readonly stallMs: number;
  private readonly now: () => number;
  private readonly deviceDecoder = new FrameDecoder({ maxPayload: FIRMWARE_MAX_PAYLOAD });
  private readonly bridgeDecoder = new FrameDecoder({ maxPayload: FIRMWARE_MAX_PAYLOAD });
  private toolDecoder = new FrameDecoder({ maxPayload: FIRMWARE_MAX_PAYLOAD });
  private readonly inFlight: InFlight[] = [];
  private readonly lastToolAsk = new Map<string, number>();
  private readonly shadows = new Map<string, Shadow>();
  /** Bridge payloads waiting for the tool's stream to reach a frame boundary. */
  private readonly injectQueue: Uint8Array[] = [];
  private stallTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly io: SharingIo,
    options: SharingOptions = {},
  ) {
    this.toolRecentMs = options.toolRecentMs ?? 2000;
    this.shadowWaitMs = options.shadowWaitMs ?? 1000;
    this.replyTimeoutMs = options.replyTimeoutMs ?? 3000;
    this.stallMs = options.stallMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Bytes the tool sent (already piped to the device by the caller). */
  fromTool(chunk: Uint8Array): void {
    for (const ev of this.toolDecoder.push(chunk)) {
      if (ev.kind !== "frame") continue;
      const req = telemetryRequest(ev.payload);
      if (req === undefined) continue;
      const t = this.now();
      this.lastToolAsk.set(req.key, t);
      this.track({ key: req.key, replyCmd: req.replyCmd, owner: "tool", sentAt: t });
    }
    if (this.toolDecoder.pendingBytes === 0) this.flushInjectQueue();
    else this.armStallTimer();
  }

  /**
   * Bytes the device sent. The caller pipes them to the tool if one is attached; returns
   * the frames nobody claimed, for the caller to keep for the next tool when none is attached.
   */
  fromDevice(chunk: Uint8Array): Uint8Array[] {
    const unclaimed: Uint8Array[] = [];
    for (const ev of this.deviceDecoder.push(chunk)) {
      if (ev.kind !== "frame") continue;
      if (!this.routeReply(ev.payload)) unclaimed.push(ev.payload);
    }
    return unclaimed;
  }

  /** Bytes the bridge's transport wrote. */
  fromBridge(chunk: Uint8Array): void {
    for (const ev of this.bridgeDecoder.push(chunk)) {
      if (ev.kind !== "frame") continue;
      const req = telemetryRequest(ev.payload);
      if (req === undefined) {
        this.stats.blocked++;
        continue;
      }
      this.bridgeRequest(ev.payload, req);
    }
  }

  /** A new tool attached: its stream starts at a frame boundary. */
  toolChanged(): void {
    this.toolDecoder = new FrameDecoder({ maxPayload: FIRMWARE_MAX_PAYLOAD });
    this.flushInjectQueue();
  }

  close(): void {
    this.closed = true;
    for (const s of this.shadows.values()) clearTimeout(s.timer);
    this.shadows.clear();
    this.injectQueue.length = 0;
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  private bridgeRequest(payload: Uint8Array, req: TelemetryRequest): void {
    if (this.io.toolAttached()) {
      const asked = this.lastToolAsk.get(req.key);
      if (asked !== undefined && this.now() - asked < this.toolRecentMs) {
        if (this.shadows.has(req.key)) return; // the same question is already waiting
        const timer = setTimeout(() => {
          this.shadows.delete(req.key);
          if (!this.closed) this.send(payload, req);
        }, this.shadowWaitMs);
        timer.unref();
        this.shadows.set(req.key, { payload, timer });
        return;
      }
    }
    this.send(payload, req);
  }

  private send(payload: Uint8Array, req: TelemetryRequest): void {
    this.stats.forwarded++;
    this.track({ key: req.key, replyCmd: req.replyCmd, owner: "bridge", sentAt: this.now() });
    if (this.io.toolAttached() && this.toolDecoder.pendingBytes > 0) {
      this.injectQueue.push(payload);
      this.armStallTimer();
      return;
    }
    this.io.writeToDevice(encodeFrame(payload));
  }

  /** Returns true when the reply belonged to a request (tool's or bridge's). */
  private routeReply(payload: Uint8Array): boolean {
    const cmd = payload[0];
    this.expire();
    const i = this.inFlight.findIndex((f) => f.replyCmd === cmd);
    if (i < 0) return false;
    const [entry] = this.inFlight.splice(i, 1) as [InFlight];
    if (entry.owner === "bridge") {
      this.deliver(payload);
      return true;
    }
    const shadow = this.shadows.get(entry.key);
    if (shadow !== undefined) {
      clearTimeout(shadow.timer);
      this.shadows.delete(entry.key);
      this.stats.shadowed++;
      this.deliver(payload);
    }
    return true;
  }

  private deliver(payload: Uint8Array): void {
    this.stats.delivered++;
    this.io.deliverToBridge(payload);
  }

  private track(entry: InFlight): void {
    this.inFlight.push(entry);
    if (this.inFlight.length > MAX_IN_FLIGHT) this.inFlight.shift();
  }

  private expire(): void {
    const limit = this.now() - this.replyTimeoutMs;
    while (this.inFlight.length > 0 && (this.inFlight[0] as InFlight).sentAt < limit) this.inFlight.shift();
    if (this.lastToolAsk.size > 1024) {
      for (const [k, t] of this.lastToolAsk)
        if (this.now() - t >= this.toolRecentMs) this.lastToolAsk.delete(k);
    }
  }

  private flushInjectQueue(): void {
    if (this.stallTimer !== undefined) {
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
    }
    while (this.injectQueue.length > 0)
      this.io.writeToDevice(encodeFrame(this.injectQueue.shift() as Uint8Array));
  }

  private armStallTimer(): void {
    if (this.stallTimer !== undefined || this.injectQueue.length === 0) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (!this.closed) this.flushInjectQueue();
    }, this.stallMs);
    this.stallTimer.unref();
  }
}
