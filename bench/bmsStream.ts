/**
 * Streams of real COMM_BMS_GET_VALUES frames for the decoder benchmark: the captured 20S
 * frame from test/fixtures plus variations of it re-encoded with our codec (other cell and
 * sensor counts, currents, tails cut where older firmware stops), optionally with noise.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { decodeBmsValues, encodeBmsValuesResponse, encodeFrame } from "../src/protocol/index.js";
import type { BmsValues } from "../src/model/reading.js";
import { Rng } from "./prng.js";
import { projectRoot } from "./report.js";

export const BMS_FIXTURE = "test/fixtures/frames/bmsGetValues-express-fw65-20s.hex";
/** 139 consecutive replies of a real VESC Express 6.05 (20 cells, 24 temperature slots). */
export const BMS_SEQUENCE_FIXTURE = "test/fixtures/frames/bms-express-fw605-sequence.txt";

/** The captured sequence's frames, in order (each line: seconds, then the frame in hex). */
export function realBmsFrames(): Uint8Array[] {
  const text = readFileSync(path.join(projectRoot(), BMS_SEQUENCE_FIXTURE), "utf8");
  return text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => {
      const hex = l.trim().split(/\s+/)[1] ?? "";
      return Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
    });
}

/** The real frames repeated in capture order until at least `bytes` bytes. */
export function realBmsStream(bytes: number): Uint8Array {
  const frames = realBmsFrames();
  const parts: Uint8Array[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const f = frames[i % frames.length] as Uint8Array;
    parts.push(f);
    n += f.length;
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * The decoder's worst pattern: a header promising 10,000 bytes, then 0x03 bytes, each
 * position of which promises a 771-byte frame whose stop byte is right but whose CRC is not.
 */
export function worstCaseStream(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes).fill(3);
  out.set([3, 0x27, 0x10]);
  return out;
}

/** The captured frame (whole frame, start byte to stop byte). */
export function fixtureBmsFrame(): Uint8Array {
  const text = readFileSync(path.join(projectRoot(), BMS_FIXTURE), "utf8");
  const hex = text
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("")
    .replace(/\s+/g, "");
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** `count` distinct frames: the fixture first, then seeded variations of it. */
export function bmsFrameVariants(count: number, seed = 1): Uint8Array[] {
  const fixture = fixtureBmsFrame();
  const base = decodeBmsValues(fixture.subarray(2, fixture.length - 3));
  const rng = new Rng(seed);
  const frames = [fixture];
  for (let i = 1; i < count; i++) {
    const cellCount = rng.pick([12, 13, 16, 20, 20, 20, 24, 32]);
    const v: Mutable<BmsValues> = {
      ...base,
      packVoltage: rng.range(30_000_000, 100_000_000) / 1e6,
      current: rng.range(-50_000_000, 50_000_000) / 1e6,
      currentIc: rng.range(-50_000_000, 50_000_000) / 1e6,
      ampHours: rng.range(0, 100_000) / 1e3,
      wattHours: rng.range(0, 4_000_000) / 1e3,
      cells: Array.from({ length: cellCount }, () => rng.range(3000, 4200) / 1e3),
      balancing: Array.from({ length: cellCount }, () => rng.chance(0.2)),
      temperatures: Array.from({ length: rng.range(0, 6) }, () => rng.range(-1000, 6000) / 1e2),
      soc: rng.range(0, 1000) / 10,
      soh: rng.range(800, 1000) / 10,
      status: rng.pick(["", "ok", "charging", "balancing"]),
    };
    // Older firmware stops early: drop the tail after soh or can_id sometimes.
    const cut = rng.int(4);
    if (cut === 0) {
      delete v.canId;
      delete v.ampHoursChargedTotal;
    } else if (cut === 1) {
      delete v.pressure;
    }
    frames.push(encodeFrame(encodeBmsValuesResponse(v)));
  }
  return frames;
}

export interface StreamOptions {
  readonly bytes: number;
  readonly seed: number;
  /** Fraction of frames with one byte flipped (0 = clean stream). */
  readonly corruptFraction: number;
  /** Fraction of gaps filled with 1..32 random garbage bytes. */
  readonly garbageFraction: number;
}

/** About `bytes` bytes of back-to-back frames drawn from `variants`. */
export function bmsStream(variants: readonly Uint8Array[], o: StreamOptions): Uint8Array {
  const rng = new Rng(o.seed);
  const out = new Uint8Array(o.bytes + 1024);
  let n = 0;
  while (n < o.bytes) {
    if (o.garbageFraction > 0 && rng.chance(o.garbageFraction)) {
      const g = rng.bytes(rng.range(1, 32));
      out.set(g, n);
      n += g.length;
    }
    const frame = rng.pick(variants);
    out.set(frame, n);
    if (o.corruptFraction > 0 && rng.chance(o.corruptFraction)) {
      const at = n + rng.int(frame.length);
      out[at] = (out[at] as number) ^ (1 << rng.int(8));
    }
    n += frame.length;
  }
  return out.slice(0, n);
}
