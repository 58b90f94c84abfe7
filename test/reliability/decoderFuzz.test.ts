/**
 * Decoder fuzz: over a million generated streams through FrameDecoder, checked by an
 * independent oracle (streamAudit.ts). Streams come from a seeded xorshift PRNG, so a
 * failure names the seed and stream number that reproduce it; fast-check adds shrinkable
 * properties on top. Asserted: no throw, no frame accepted that is not byte-exact and
 * CRC-valid at its place, every byte accounted for, every intact frame found again after
 * garbage or a corrupt frame once pending candidates are given up (resync), unless a frame
 * that happens to be valid by chance overlaps it, and work per byte bounded (work counters).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../bench/prng.js";
import { type DecodeEvent, FrameDecoder, type FrameDecoderStats } from "../../src/protocol/index.js";
import { fixtureFrame } from "../helpers/hex.js";
import { type Audit, audit, oracleFrame, pushChunked } from "./streamAudit.js";

const SEED = 0x5eed_0009;
const RANDOM_STREAMS = 400_000;
const STRUCTURED_STREAMS = 450_000;

interface Totals {
  streams: number;
  frames: number;
  unplannedFrames: number;
  discardedBytes: number;
  resyncs: number;
}

const newTotals = (): Totals => ({
  streams: 0,
  frames: 0,
  unplannedFrames: 0,
  discardedBytes: 0,
  resyncs: 0,
});

type Work = FrameDecoderStats["work"];
const workOf = (d: FrameDecoder): Work => ({ ...d.stats.work });

/**
 * The decoder's work bounds, from its work counters (deterministic, no clock): every start
 * position examined once, plus once per push while it waits; at most two CRC steps per byte;
 * pending bytes and their prefix CRCs moved at most a few times each.
 */
function workProblem(before: Work, after: Work): string | undefined {
  const bytes = after.bytesReceived - before.bytesReceived;
  const pushes = after.pushes - before.pushes;
  const starts = after.startsTried - before.startsTried;
  const crc = after.crcBytes - before.crcBytes;
  const moved = after.bytesMoved - before.bytesMoved;
  if (starts > bytes + pushes) return `${starts} starts tried for ${bytes} bytes in ${pushes} pushes`;
  if (crc > 2 * bytes) return `${crc} CRC steps for ${bytes} bytes`;
  if (moved > 6 * bytes + pushes) return `${moved} bytes moved for ${bytes} bytes`;
  return undefined;
}

/** What a session does on reply timeouts: gives up pending candidates until none is left. */
function drain(decoder: FrameDecoder): DecodeEvent[] {
  const events: DecodeEvent[] = [];
  while (decoder.pendingBytes > 0) events.push(...decoder.skipPending());
  return events;
}

/**
 * Runs one stream through `decoder` (reused across streams: reset() afterwards clears its
 * pending tail, so every stream starts from an empty decoder). With `drainTail`, pending
 * candidates are given up with skipPending() first, as reply timeouts would.
 */
function decodeAndAudit(
  decoder: FrameDecoder,
  input: Uint8Array,
  rng: Rng,
  drainTail = false,
): Audit | string {
  const framesBefore = decoder.stats.framesDecoded;
  const discardedBefore = decoder.stats.bytesDiscarded;
  const workBefore = workOf(decoder);
  let events: DecodeEvent[];
  try {
    events = pushChunked(decoder, input, rng);
    if (drainTail) events.push(...drain(decoder));
  } catch (e) {
    return `threw ${String(e)}`;
  }
  const tooMuch = workProblem(workBefore, workOf(decoder));
  if (tooMuch) return tooMuch;
  const result = audit(input, events, decoder.pendingBytes, decoder.maxPayload);
  decoder.reset();
  if (typeof result === "string") return result;
  if (decoder.stats.framesDecoded - framesBefore !== result.frameOffsets.length) {
    return "stats.framesDecoded disagrees";
  }
  const pending = input.length - result.frameLengths.reduce((n, l) => n + l, 0) - result.discardedBytes;
  if (decoder.stats.bytesDiscarded - discardedBefore !== result.discardedBytes + pending) {
    return "stats.bytesDiscarded disagrees";
  }
  return result;
}

const FRAMING_BYTES = [0, 1, 2, 3, 4, 0xff];

/** Random bytes, half of them drawn from the bytes framing cares about. */
function randomStream(rng: Rng): Uint8Array {
  const n = rng.int(49);
  const out = new Uint8Array(n);
  const biased = rng.chance(0.5);
  for (let i = 0; i < n; i++) {
    out[i] = biased && rng.chance(0.5) ? rng.pick(FRAMING_BYTES) : rng.int(256);
  }
  return out;
}

function randomPayload(rng: Rng): Uint8Array {
  const r = rng.int(100);
  const len = r < 85 ? rng.range(1, 40) : r < 97 ? rng.range(200, 600) : rng.range(1, 255);
  return rng.bytes(len);
}

type Corruption = (frame: Uint8Array, rng: Rng) => Uint8Array;
const corruptions: readonly Corruption[] = [
  (f, rng) => {
    const out = f.slice(); // one bit flipped anywhere
    const i = rng.int(f.length);
    out[i] = (out[i] as number) ^ (1 << rng.int(8));
    return out;
  },
  (f, rng) => f.slice(0, rng.int(f.length)), // cut short
  (f, rng) => {
    const i = rng.int(f.length); // one byte lost
    const out = new Uint8Array(f.length - 1);
    out.set(f.subarray(0, i));
    out.set(f.subarray(i + 1), i);
    return out;
  },
  (f, rng) => {
    const i = rng.int(f.length + 1); // one byte too many
    const out = new Uint8Array(f.length + 1);
    out.set(f.subarray(0, i));
    out[i] = rng.int(256);
    out.set(f.subarray(i), i + 1);
    return out;
  },
  (f, rng) => {
    const out = f.slice(); // wrong stop byte
    out[f.length - 1] = rng.pick([0, 2, 4, 0xff]);
    return out;
  },
  (f, rng) => {
    const out = f.slice(); // wrong length field
    out[1] = rng.int(256);
    return out;
  },
];

interface Structured {
  readonly input: Uint8Array;
  /** [offset, length] of every frame written intact. */
  readonly intact: Array<[number, number]>;
}

function structuredStream(rng: Rng, bms: Uint8Array): Structured {
  const parts: Uint8Array[] = [];
  const intact: Array<[number, number]> = [];
  let size = 0;
  const segments = rng.range(1, 6);
  for (let s = 0; s < segments; s++) {
    const kind = rng.int(10);
    let part: Uint8Array;
    if (kind < 4) {
      part = rng.chance(0.05) ? bms : oracleFrame(randomPayload(rng));
      intact.push([size, part.length]);
    } else if (kind < 7) {
      part = rng.pick(corruptions)(rng.chance(0.1) ? bms : oracleFrame(randomPayload(rng)), rng);
    } else {
      part = rng.bytes(rng.range(1, 20));
    }
    parts.push(part);
    size += part.length;
  }
  const input = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    input.set(p, off);
    off += p.length;
  }
  return { input, intact };
}

/** Every intact frame was emitted, or a chance-valid frame overlaps it. */
function checkResync(s: Structured, a: Audit, totals: Totals): string | undefined {
  const emitted = new Set(a.frameOffsets);
  const intactStarts = new Set(s.intact.map(([o]) => o));
  const chance: Array<[number, number]> = [];
  a.frameOffsets.forEach((o, i) => {
    if (!intactStarts.has(o)) chance.push([o, a.frameLengths[i] ?? 0]);
  });
  totals.unplannedFrames += chance.length;
  for (const [o, len] of s.intact) {
    if (emitted.has(o)) {
      if (o > 0) totals.resyncs++;
      continue;
    }
    const overlapped = chance.some(([c, n]) => c < o + len && o < c + n);
    if (!overlapped) return `intact frame at ${o} (${len} bytes) not found`;
  }
  return undefined;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const framesOf = (events: readonly DecodeEvent[]): Uint8Array[] =>
  events.flatMap((e) => (e.kind === "frame" ? [e.payload] : []));
const discardedOf = (events: readonly DecodeEvent[]): Uint8Array =>
  concat(events.flatMap((e) => (e.kind === "discarded" ? [e.bytes] : [])));

describe("FrameDecoder fuzz: a million generated streams", () => {
  const bms = fixtureFrame("bmsGetValues-express-fw65-20s.hex");
  const total = newTotals();

  it(`${RANDOM_STREAMS.toLocaleString("en-US")} random byte streams: no throw, every byte accounted for`, () => {
    const rng = new Rng(SEED);
    const failures: string[] = [];
    // Small maxPayload values make "tooLong" reachable with short streams.
    const decoders = [
      new FrameDecoder(),
      ...[1, 2, 5, 17, 64].map((maxPayload) => new FrameDecoder({ maxPayload })),
    ];
    for (let i = 0; i < RANDOM_STREAMS && failures.length < 5; i++) {
      const input = randomStream(rng);
      const decoder = rng.chance(0.7) ? (decoders[0] as FrameDecoder) : rng.pick(decoders);
      const r = decodeAndAudit(decoder, input, rng, i % 2 === 0);
      if (typeof r === "string") failures.push(`random stream #${i} (seed ${SEED}): ${r}`);
      else {
        total.frames += r.frameOffsets.length;
        total.unplannedFrames += r.frameOffsets.length;
        total.discardedBytes += r.discardedBytes;
      }
      total.streams++;
    }
    expect(failures).toEqual([]);
  });

  it(`${STRUCTURED_STREAMS.toLocaleString("en-US")} streams of frames, corrupt frames and garbage: resync, no wrong frame`, () => {
    const rng = new Rng(SEED + 1);
    const failures: string[] = [];
    let intactFrames = 0;
    let found = 0;
    const decoder = new FrameDecoder();
    for (let i = 0; i < STRUCTURED_STREAMS && failures.length < 5; i++) {
      const s = structuredStream(rng, bms);
      const r = decodeAndAudit(decoder, s.input, rng, true);
      const problem = typeof r === "string" ? r : checkResync(s, r, total);
      if (problem) failures.push(`structured stream #${i} (seed ${SEED + 1}): ${problem}`);
      else if (typeof r !== "string") {
        total.frames += r.frameOffsets.length;
        total.discardedBytes += r.discardedBytes;
        intactFrames += s.intact.length;
        found += s.intact.filter(([o]) => r.frameOffsets.includes(o)).length;
      }
      total.streams++;
    }
    expect(failures).toEqual([]);
    // The generator must really exercise resync, and chance frames must stay rare.
    expect(total.resyncs).toBeGreaterThan(100_000);
    expect(found / intactFrames).toBeGreaterThan(0.999);
  });

  it("every split point (pairs of cuts) of reference streams gives the same frames as one push", () => {
    const fw = fixtureFrame("fwVersion-express-fw65.hex");
    const long = oracleFrame(new Uint8Array(300).map((_, i) => (i * 7) & 0xff));
    const badCrc = bms.slice();
    badCrc[100] = (badCrc[100] as number) ^ 1;
    // [stream, frames it holds]
    // [stream, maxPayload, frames it holds]. With VESC Tool's 10,000 a stop byte followed by a
    // header (`03 03 02`, `03 02 a6`: 770 and 678 bytes promised) holds back what follows, as in
    // packet.c; with the firmware's 512 those cannot be frames.
    const refs: Array<[Uint8Array, number, number]> = [
      [concat([Uint8Array.of(0, 0xff, 2, 5), fw, bms, Uint8Array.of(3, 3), fw]), 10_000, 2],
      [concat([Uint8Array.of(0, 0xff, 2, 5), fw, bms, Uint8Array.of(3, 3), fw]), 512, 3],
      // The last fw waits inside the cut BMS frame, whose declared length is still to come.
      [concat([long, Uint8Array.of(2, 1), fw, bms.subarray(0, 50), fw]), 10_000, 2],
      [concat([badCrc, bms, Uint8Array.of(4, 0, 0, 9), fw]), 10_000, 0],
      [concat([badCrc, bms, Uint8Array.of(4, 0, 0, 9), fw]), 512, 2],
    ];
    const failures: string[] = [];
    refs.forEach(([input, maxPayload, frameCount], k) => {
      const whole = new FrameDecoder({ maxPayload });
      const expected = whole.push(input);
      const want = framesOf(expected);
      const wantDiscard = discardedOf(expected);
      const pending = whole.pendingBytes;
      for (let a = 0; a <= input.length && failures.length < 5; a++) {
        for (let b = a; b <= input.length; b++) {
          const d = new FrameDecoder({ maxPayload });
          const events = [
            ...d.push(input.subarray(0, a)),
            ...d.push(input.subarray(a, b)),
            ...d.push(input.subarray(b)),
          ];
          total.streams++;
          const got = framesOf(events);
          const same =
            got.length === want.length &&
            got.every((p, i) => p.length === want[i]?.length && p.every((x, j) => x === want[i]?.[j])) &&
            d.pendingBytes === pending &&
            discardedOf(events).every((x, j) => x === wantDiscard[j]);
          if (!same) failures.push(`reference stream ${k} cut at ${a},${b}: differs from one push`);
        }
      }
      expect(want.length, `reference stream ${k}`).toBe(frameCount);
    });
    expect(failures).toEqual([]);
  });

  it("covered over a million streams in all", () => {
    console.info(`decoder fuzz totals: ${JSON.stringify(total)}`);
    expect(total.streams).toBeGreaterThanOrEqual(1_000_000);
    expect(total.frames).toBeGreaterThan(500_000);
    expect(total.discardedBytes).toBeGreaterThan(1_000_000);
  });
});

describe("FrameDecoder properties (fast-check, shrinkable)", () => {
  const payloads = fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 6 });
  const cutsFor = (n: number) => fc.array(fc.integer({ min: 0, max: n }), { maxLength: 6 });

  const feed = (d: FrameDecoder, input: Uint8Array, cuts: number[]): DecodeEvent[] => {
    const events: DecodeEvent[] = [];
    let last = 0;
    for (const c of [...cuts].sort((x, y) => x - y).concat(input.length)) {
      events.push(...d.push(input.subarray(last, c)));
      last = c;
    }
    return events;
  };

  it("valid frames split anywhere come out exactly, nothing discarded", () => {
    fc.assert(
      fc.property(
        payloads.chain((ps) => {
          const input = concat(ps.map(oracleFrame));
          return fc.tuple(fc.constant(ps), fc.constant(input), cutsFor(input.length));
        }),
        ([ps, input, cuts]) => {
          const d = new FrameDecoder();
          const events = feed(d, input, cuts);
          expect(framesOf(events)).toEqual(ps);
          expect(d.stats.bytesDiscarded).toBe(0);
          expect(d.pendingBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("garbage without start bytes before valid frames is discarded and every frame found", () => {
    const garbage = fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((g) => g.map((b) => (b >= 2 && b <= 4 ? 0xaa : b)));
    fc.assert(
      fc.property(garbage, payloads, (g, ps) => {
        const d = new FrameDecoder();
        const events = d.push(concat([g, ...ps.map(oracleFrame)]));
        expect(framesOf(events)).toEqual(ps);
        expect(discardedOf(events)).toEqual(g);
      }),
      { numRuns: 300 },
    );
  });

  it("any bytes, any cuts, with skipPending() and reset() between pushes: every byte accounted for", () => {
    const op = fc.oneof(
      fc.record({ push: fc.uint8Array({ maxLength: 80 }) }),
      fc.constant({ skip: true as const }),
      fc.constant({ reset: true as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), fc.integer({ min: 1, max: 400 }), (ops, maxPayload) => {
        const d = new FrameDecoder({ maxPayload });
        const events: DecodeEvent[] = [];
        const input: Uint8Array[] = [];
        for (const o of ops) {
          if ("push" in o) {
            input.push(o.push);
            events.push(...d.push(o.push));
          } else if ("skip" in o) events.push(...d.skipPending());
          else events.push(...d.reset());
        }
        const result = audit(concat(input), events, d.pendingBytes, maxPayload);
        expect(typeof result === "string" ? result : "ok").toBe("ok");
      }),
      { numRuns: 2000 },
    );
  });
});

describe("FrameDecoder work is linear in the bytes received", () => {
  const repeat = (n: number, pattern: readonly number[]): Uint8Array =>
    Uint8Array.from({ length: n }, (_, i) => pattern[i % pattern.length] as number);
  const headerThen = (n: number, header: readonly number[], fill: number): Uint8Array => {
    const out = new Uint8Array(n).fill(fill);
    out.set(header);
    return out;
  };
  // Each promises long frames whose stop byte is right, so every resync position needs a CRC.
  const patterns: Array<[string, Uint8Array, number]> = [
    ["`03 27 10` (10,000 bytes promised) then 0x03", headerThen(5 * 10_006, [3, 0x27, 0x10], 3), 10_000],
    ["0x03 only (every position promises 771 bytes)", headerThen(60_000, [], 3), 10_000],
    ["`03 27 10` repeated", repeat(60_000, [3, 0x27, 0x10]), 10_000],
    ["`03 27 0f 03` repeated", repeat(60_000, [3, 0x27, 0x0f, 3]), 10_000],
    ["`02 ff 03` repeated", repeat(60_000, [2, 0xff, 3]), 10_000],
    ["`03 ff ff 03` repeated, 65,535 allowed", repeat(300_000, [3, 0xff, 0xff, 3]), 65_535],
    ["`04 01 00 00 03 03` repeated, 24-bit lengths allowed", repeat(300_000, [4, 1, 0, 0, 3, 3]), 100_000],
  ];

  for (const [name, input, maxPayload] of patterns) {
    it(`${name}: bounded work per byte in 1-, 4- and 4096-byte pushes`, () => {
      for (const step of [1, 4, 4096]) {
        if (step === 1 && input.length > 100_000) continue;
        const d = new FrameDecoder({ maxPayload });
        const before = workOf(d);
        const events: DecodeEvent[] = [];
        for (let i = 0; i < input.length; i += step) events.push(...d.push(input.subarray(i, i + step)));
        events.push(...drain(d));
        expect(workProblem(before, workOf(d)), `${step}-byte pushes`).toBeUndefined();
        expect(d.stats.work.bytesReceived).toBe(input.length);
        const result = audit(input, events, d.pendingBytes, maxPayload);
        expect(typeof result === "string" ? result : "ok").toBe("ok");
      }
    });
  }

  it("the reported pattern costs at most two CRC steps per byte (not one long CRC per position)", () => {
    const d = new FrameDecoder();
    const input = headerThen(10_006, [3, 0x27, 0x10], 3);
    for (let i = 0; i < input.length; i += 4) d.push(input.subarray(i, i + 4));
    expect(d.stats.work.crcBytes).toBeLessThanOrEqual(2 * input.length);
    expect(d.stats.work.startsTried).toBeLessThanOrEqual(input.length + d.stats.work.pushes);
  });

  it("any mix of long headers, stop bytes, frames and noise, any pushes: bounded work (fast-check)", () => {
    const atom = fc.oneof(
      fc.constantFrom(
        Uint8Array.of(3, 0x27, 0x10),
        Uint8Array.of(3, 0x01, 0x00),
        Uint8Array.of(2, 0xff),
        Uint8Array.of(4, 0, 0xff, 0xff),
        Uint8Array.of(3),
      ),
      fc.integer({ min: 1, max: 400 }).map((n) => new Uint8Array(n).fill(3)),
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map(oracleFrame),
      fc.uint8Array({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(
        fc.array(atom, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 600 }),
        fc.constantFrom(512, 10_000, 70_000),
        (atoms, step, maxPayload) => {
          const input = concat(atoms);
          const d = new FrameDecoder({ maxPayload });
          const before = workOf(d);
          for (let i = 0; i < input.length; i += step) d.push(input.subarray(i, i + step));
          drain(d);
          expect(workProblem(before, workOf(d))).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });
});
