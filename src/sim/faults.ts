/**
 * Fault injection settings for one simulated device and the pure pieces that apply them to
 * an outgoing reply (drop, corrupt CRC, garbage prefix, where to cut for a reset). Timing
 * (latency, jitter, split writes) is applied by the connection. All randomness comes from
 * the device's seeded Prng so a failing test replays the same faults.
 */
import { encodeFrame } from "../protocol/index.js";
import type { Prng } from "./prng.js";

/** Mutable at run time: `device.faults = { ...device.faults, dropReplyRate: 0.5 }`. */
export interface FaultSettings {
  /** Delay before each reply is written, ms. */
  latencyMs?: number;
  /** Extra uniformly random delay 0..jitterMs per reply (replies stay in order). */
  jitterMs?: number;
  /** Write replies in chunks of this many bytes (1 = byte by byte), each in its own write. */
  splitReplies?: number;
  /** Probability (0..1) that random bytes precede a reply frame. */
  garbageBetweenFrames?: number;
  /** Most garbage bytes per injection (default 16). Garbage never holds 0x02–0x04 start bytes. */
  garbageMaxBytes?: number;
  /** Probability (0..1) that a reply's CRC is corrupted. */
  corruptCrcRate?: number;
  /** Probability (0..1) that a reply is not sent at all. */
  dropReplyRate?: number;
  /** Connection stays open, requests are read, nothing is answered. */
  stall?: boolean;
  /** Close the connection after writing half a reply frame: at this rate (0..1), or "once" (then cleared). */
  resetMidFrame?: number | "once";
  /** Hub-login mode: wait this long after the login line before serving it. */
  slowLoginMs?: number;
  /**
   * Lay replies out as firmware older than any Express (3.00): FW_VERSION ends after the
   * UUID, GET_VALUES after the fault code, the BMS reply after SOH.
   */
  oldFirmware?: boolean;
}

/** What to put on the wire for one reply payload. */
export interface PlannedReply {
  readonly bytes: Uint8Array;
  /** When set, write only this many bytes, then reset the connection. */
  readonly cutAt?: number;
}

export interface FaultCounters {
  dropped: number;
  corrupted: number;
  garbage: number;
  resets: number;
}

/** Frames a reply payload and applies the byte-level faults. Undefined = dropped. */
export function planReply(
  payload: Uint8Array,
  faults: FaultSettings,
  rng: Prng,
  counters: FaultCounters,
): PlannedReply | undefined {
  if (rng.chance(faults.dropReplyRate ?? 0)) {
    counters.dropped++;
    return undefined;
  }
  let frame = encodeFrame(payload);
  if (rng.chance(faults.corruptCrcRate ?? 0)) {
    frame = frame.slice();
    const crcLo = frame.length - 2;
    frame[crcLo] = (frame[crcLo] ?? 0) ^ 0x5a;
    counters.corrupted++;
  }
  if (rng.chance(faults.garbageBetweenFrames ?? 0)) {
    const garbage = randomGarbage(rng, Math.max(1, faults.garbageMaxBytes ?? 16));
    const joined = new Uint8Array(garbage.length + frame.length);
    joined.set(garbage);
    joined.set(frame, garbage.length);
    frame = joined;
    counters.garbage++;
  }
  const reset = faults.resetMidFrame;
  if (reset === "once" || (typeof reset === "number" && rng.chance(reset))) {
    if (reset === "once") faults.resetMidFrame = undefined;
    counters.resets++;
    return { bytes: frame, cutAt: Math.max(1, Math.floor(frame.length / 2)) };
  }
  return { bytes: frame };
}

/**
 * Random bytes that cannot start a frame: a stray 0x02 followed by a large length byte would
 * make any decoder wait for that many bytes and hold back the good frame behind it, which
 * tests a session's timeout path, not resync; behaviours can send such bytes on purpose.
 */
export function randomGarbage(rng: Prng, maxBytes: number): Uint8Array {
  const out = new Uint8Array(rng.int(1, maxBytes));
  for (let i = 0; i < out.length; i++) {
    let b = rng.int(0, 255);
    if (b >= 2 && b <= 4) b += 3;
    out[i] = b;
  }
  return out;
}

/** Splits bytes into chunks of `size` (size < 1 or undefined = one chunk). */
export function splitBytes(bytes: Uint8Array, size: number | undefined): Uint8Array[] {
  if (!size || size < 1 || size >= bytes.length) return [bytes];
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

const FLAG_HELP =
  "latency=MS, jitter=MS, split=BYTES, garbage=P, garbage-size=N, corrupt=P, drop=P, stall, reset=P|once, slow-login=MS, old-firmware";

/**
 * Parses the CLI form `latency=50,split=1,drop=0.1,stall,old-firmware`. Returns the
 * settings or a one-line error naming the bad item.
 */
export function parseFaults(spec: string): FaultSettings | { error: string } {
  const out: FaultSettings = {};
  for (const raw of spec.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    const key = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : item.slice(eq + 1).trim();
    const num = (min: number, max: number): number | undefined => {
      if (value === undefined || value === "") return undefined;
      const n = Number(value);
      return Number.isFinite(n) && n >= min && n <= max ? n : undefined;
    };
    const bad = (what: string): { error: string } => ({ error: `fault "${item}": ${what}` });
    switch (key) {
      case "latency":
      case "jitter":
      case "slow-login": {
        const n = num(0, 600_000);
        if (n === undefined) return bad("expected milliseconds 0..600000");
        if (key === "latency") out.latencyMs = n;
        else if (key === "jitter") out.jitterMs = n;
        else out.slowLoginMs = n;
        break;
      }
      case "split": {
        const n = num(1, 65_536);
        if (n === undefined || !Number.isInteger(n)) return bad("expected a chunk size in bytes >= 1");
        out.splitReplies = n;
        break;
      }
      case "garbage-size": {
        const n = num(1, 4096);
        if (n === undefined || !Number.isInteger(n)) return bad("expected a byte count 1..4096");
        out.garbageMaxBytes = n;
        break;
      }
      case "garbage":
      case "corrupt":
      case "drop": {
        const n = value === undefined ? 1 : num(0, 1);
        if (n === undefined) return bad("expected a probability 0..1");
        if (key === "garbage") out.garbageBetweenFrames = n;
        else if (key === "corrupt") out.corruptCrcRate = n;
        else out.dropReplyRate = n;
        break;
      }
      case "reset": {
        if (value === "once") {
          out.resetMidFrame = "once";
          break;
        }
        const n = value === undefined ? 1 : num(0, 1);
        if (n === undefined) return bad('expected a probability 0..1 or "once"');
        out.resetMidFrame = n;
        break;
      }
      case "stall":
      case "old-firmware":
        if (value !== undefined) return bad("takes no value");
        if (key === "stall") out.stall = true;
        else out.oldFirmware = true;
        break;
      default:
        return { error: `unknown fault "${key}" (known: ${FLAG_HELP})` };
    }
  }
  return out;
}
