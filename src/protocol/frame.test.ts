import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixtureFrame, fixtureRequests, hex } from "../../test/helpers/hex.js";
import { type DecodeEvent, encodeFrame, FrameDecoder } from "./frame.js";

const frames = (events: DecodeEvent[]): Uint8Array[] =>
  events.flatMap((e) => (e.kind === "frame" ? [e.payload] : []));
const discarded = (events: DecodeEvent[]): number =>
  events.reduce((n, e) => n + (e.kind === "discarded" ? e.bytes.length : 0), 0);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds `stream` in pieces cut at `cuts` (sorted offsets). */
function feed(decoder: FrameDecoder, stream: Uint8Array, cuts: number[]): DecodeEvent[] {
  const events: DecodeEvent[] = [];
  let last = 0;
  for (const c of [...cuts, stream.length]) {
    events.push(...decoder.push(stream.subarray(last, c)));
    last = c;
  }
  return events;
}

/** What a session does on reply timeouts: gives up pending candidates until none is left. */
function drain(decoder: FrameDecoder): DecodeEvent[] {
  const events: DecodeEvent[] = [];
  while (decoder.pendingBytes > 0) events.push(...decoder.skipPending());
  return events;
}

const payloadArb = fc.uint8Array({ minLength: 1, maxLength: 700 });

/** Payloads that embed valid frames (which may embed frames again) between random bytes. */
const embedding = (inner: fc.Arbitrary<Uint8Array>, maxFiller: number): fc.Arbitrary<Uint8Array> =>
  fc
    .array(
      fc.oneof(
        { weight: 2, arbitrary: fc.uint8Array({ maxLength: 30 }) },
        { weight: 2, arbitrary: inner.map(encodeFrame) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: maxFiller - 50, maxLength: maxFiller }) },
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((parts) => concat(...parts))
    .filter((p) => p.length > 0);
const nestingPayloadArb = embedding(embedding(fc.uint8Array({ minLength: 1, maxLength: 60 }), 60), 300);

describe("encodeFrame", () => {
  it("reproduces every real request frame byte for byte", () => {
    for (const [name, frame] of fixtureRequests()) {
      const len = frame[1] as number;
      expect(encodeFrame(frame.subarray(2, 2 + len)), name).toEqual(frame);
    }
  });

  it("picks the length form by payload size", () => {
    expect(encodeFrame(new Uint8Array(255))[0]).toBe(2);
    expect(encodeFrame(new Uint8Array(256)).subarray(0, 3)).toEqual(Uint8Array.of(3, 1, 0));
    expect(encodeFrame(new Uint8Array(65535)).subarray(0, 3)).toEqual(Uint8Array.of(3, 0xff, 0xff));
    expect(encodeFrame(new Uint8Array(65536)).subarray(0, 4)).toEqual(Uint8Array.of(4, 1, 0, 0));
    expect(encodeFrame(new Uint8Array(300)).length).toBe(3 + 300 + 3);
  });

  it("refuses an empty payload", () => {
    expect(() => encodeFrame(new Uint8Array(0))).toThrowError(/empty/);
  });
});

describe("FrameDecoder: serialport's checklist", () => {
  const bms = fixtureFrame("bmsGetValues-express-fw65-20s.hex");
  const fw = fixtureFrame("fwVersion-express-fw65.hex");

  it("decodes a single real frame (171-byte BMS reply: 8-bit length ≥ 128)", () => {
    const d = new FrameDecoder();
    const out = frames(d.push(bms));
    expect(out).toHaveLength(1);
    expect(out[0]?.length).toBe(166);
    expect(out[0]?.[0]).toBe(0x60);
    expect(d.stats.framesDecoded).toBe(1);
    expect(d.stats.bytesDiscarded).toBe(0);
  });

  it("decodes two frames in one chunk", () => {
    const d = new FrameDecoder();
    const out = frames(d.push(concat(fw, bms)));
    expect(out.map((p) => p[0])).toEqual([0x00, 0x60]);
  });

  it("decodes a frame split byte by byte", () => {
    const d = new FrameDecoder();
    const events: DecodeEvent[] = [];
    for (const b of bms) events.push(...d.push(Uint8Array.of(b)));
    expect(frames(events)).toEqual([bms.subarray(2, 168)]);
  });

  it("skips a garbage prefix and counts it", () => {
    const d = new FrameDecoder();
    const garbage = hex("ff 00 13 37 56 45 53 43 0a 00");
    const events = d.push(concat(garbage, fw));
    expect(frames(events)).toHaveLength(1);
    expect(discarded(events)).toBe(garbage.length);
    expect(d.stats.bytesDiscarded).toBe(garbage.length);
  });

  it("drops a frame with a bad CRC and finds the good frame after it (device limit 512)", () => {
    const bad = fw.slice();
    bad[10] = (bad[10] as number) ^ 0x01;
    const d = new FrameDecoder({ maxPayload: 512 });
    const events = d.push(concat(bad, bms));
    expect(frames(events)).toEqual([bms.subarray(2, 168)]);
    expect(d.stats.crcErrors).toBeGreaterThanOrEqual(1);
    expect(events.find((e) => e.kind === "discarded")).toMatchObject({ reason: "badCrc" });
    expect(discarded(events)).toBe(bad.length);
  });

  it("with VESC Tool's limit, waits for what the bad frame's stop byte + next header promise", () => {
    const bad = fw.slice();
    bad[10] = (bad[10] as number) ^ 0x01;
    const d = new FrameDecoder();
    // `03 02 a6` (stop byte, then the next frame's header) promises 678 bytes: a frame that
    // can still complete as far as a 10,000-byte decoder knows.
    const first = d.push(concat(bad, bms));
    expect(frames(first)).toEqual([]);
    expect(d.pendingBytes).toBe(bms.length + 1);
    const later = d.push(concat(...Array.from({ length: 4 }, () => bms)));
    expect(frames(later)).toEqual(Array.from({ length: 5 }, () => bms.subarray(2, 168)));
    expect(discarded([...first, ...later])).toBe(bad.length);
  });

  it("drops a frame with a bad stop byte", () => {
    const bad = fw.slice();
    bad[bad.length - 1] = 0x04;
    const d = new FrameDecoder();
    const events = d.push(concat(bad, fw));
    expect(frames(events)).toEqual([fw.subarray(2, 2 + 0x2b)]);
    expect(events[0]).toMatchObject({ kind: "discarded", reason: "badEnd" });
  });

  it("rejects zero and non-minimal lengths", () => {
    const d = new FrameDecoder();
    const events = d.push(concat(hex("02 00"), hex("03 00 10"), hex("04 00 00 10"), fw));
    expect(frames(events)).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: "discarded", reason: "badLength" });
  });

  it("accepts the 16-bit form with length 255 like packet.c", () => {
    const payload = new Uint8Array(255).fill(7);
    const short = encodeFrame(payload);
    const long = concat(Uint8Array.of(3, 0, 255), short.subarray(2));
    expect(frames(new FrameDecoder().push(long))).toEqual([payload]);
  });

  it("rejects lengths above maxPayload without waiting for them", () => {
    const d = new FrameDecoder({ maxPayload: 512 });
    const big = encodeFrame(new Uint8Array(513).fill(1));
    const events = d.push(concat(big, fw));
    expect(frames(events)).toEqual([fw.subarray(2, 2 + 0x2b)]);
    expect(events[0]).toMatchObject({ kind: "discarded", reason: "tooLong" });
  });

  it("decodes the maximum length and each length form", () => {
    for (const size of [1, 255, 256, 10_000]) {
      const payload = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);
      expect(frames(new FrameDecoder().push(encodeFrame(payload)))).toEqual([payload]);
    }
    const huge = Uint8Array.from({ length: 70_000 }, (_, i) => i & 0xff);
    expect(frames(new FrameDecoder({ maxPayload: 100_000 }).push(encodeFrame(huge)))).toEqual([huge]);
  });

  it("holds a truncated frame, then reports it on reset()", () => {
    const d = new FrameDecoder();
    expect(d.push(bms.subarray(0, 100))).toEqual([]);
    expect(d.pendingBytes).toBe(100);
    const events = d.reset();
    expect(events).toEqual([{ kind: "discarded", reason: "truncated", bytes: bms.subarray(0, 100) }]);
    expect(frames(d.push(fw))).toHaveLength(1);
  });

  it("waits for the length a start byte promises, like packet.c; skipPending() gives up on it", () => {
    const d = new FrameDecoder();
    // 0x03 0x27 0x00 promises 9984 bytes: it can still complete, so the frame behind it waits.
    expect(d.push(concat(hex("03 27 00"), fw))).toEqual([]);
    expect(d.pendingBytes).toBe(3 + fw.length);
    const events = d.skipPending();
    expect(frames(events)).toEqual([fw.subarray(2, 2 + 0x2b)]);
    expect(events[0]).toMatchObject({ kind: "discarded", reason: "truncated", bytes: hex("03") });
    expect(discarded(events)).toBe(3);
    expect(d.pendingBytes).toBe(0);
  });

  it("decodes a frame split after a valid inner frame as itself (81-byte BMS reply cut after byte 77)", () => {
    const frame = hex(
      `02 4c 60 02 fa f0 80 ${"00 ".repeat(20)}` +
        `02 0e 74 0e 74 00 00 01 09 c4 0b b8 00 00 00 00 0a 28 01 f4 03 e8 0a ${"00 ".repeat(16)}` +
        "00 00 01 53 02 01 41 58 e5 03 54 00 98 89 03",
    );
    expect(frame.length).toBe(81);
    // The first 77 bytes hold `02 01 41 58 e5 03`, a complete and valid [0x41] frame.
    expect(frames(new FrameDecoder().push(frame.subarray(0, 77)))).toEqual([]);
    const d = new FrameDecoder();
    const events = [...d.push(frame.subarray(0, 77)), ...d.push(frame.subarray(77))];
    expect(events).toEqual([{ kind: "frame", payload: frame.subarray(2, 78) }]);
    expect(frames(events)[0]?.[0]).toBe(0x60);
    expect(d.pendingBytes).toBe(0);
  });

  it("skipPending() drops a stalled partial frame (called on reply timeout)", () => {
    const d = new FrameDecoder();
    expect(d.push(hex("03 27 00 aa bb"))).toEqual([]);
    expect(d.pendingBytes).toBe(5);
    const events = d.skipPending();
    expect(discarded(events)).toBe(5);
    expect(d.pendingBytes).toBe(0);
    expect(frames(d.push(fw))).toHaveLength(1);
  });
});

describe("FrameDecoder: properties", () => {
  it("a valid frame, even one whose payload embeds valid frames, split anywhere decodes as itself", () => {
    fc.assert(
      fc.property(nestingPayloadArb, fc.nat(), (payload, rawSecond) => {
        const frame = encodeFrame(payload);
        const wrong: number[] = [];
        for (let cut = 0; cut <= frame.length; cut++) {
          const second = cut + (rawSecond % (frame.length - cut + 1));
          const d = new FrameDecoder();
          const events = feed(d, frame, [cut, second]);
          const only = events[0];
          const exact = events.length === 1 && only?.kind === "frame" && equalBytes(only.payload, payload);
          if (!exact || d.pendingBytes !== 0) wrong.push(cut);
        }
        expect(wrong).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("back-to-back frames that embed frames, in random pieces, come out exactly", () => {
    fc.assert(
      fc.property(
        fc.array(nestingPayloadArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (payloads, rawCuts) => {
          const stream = concat(...payloads.map(encodeFrame));
          const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const d = new FrameDecoder();
          expect(frames(feed(d, stream, cuts))).toEqual(payloads);
          expect(d.stats.bytesDiscarded).toBe(0);
          expect(d.pendingBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("every split point of a multi-frame stream yields the same frames", () => {
    const payloads = [
      Uint8Array.of(0),
      hex("3e 54"),
      fixtureFrame("bmsGetValues-express-fw65-20s.hex").subarray(2, 168),
    ];
    const stream = concat(...payloads.map(encodeFrame));
    for (let i = 0; i <= stream.length; i++) {
      for (const j of [i, Math.min(stream.length, i + 1), Math.min(stream.length, i + 37)]) {
        const out = frames(feed(new FrameDecoder(), stream, [i, j]));
        expect(out).toEqual(payloads);
      }
    }
  });

  it("random chunkings of random frames give back exactly those frames", () => {
    fc.assert(
      fc.property(
        fc.array(payloadArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (payloads, rawCuts) => {
          const stream = concat(...payloads.map(encodeFrame));
          const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const d = new FrameDecoder();
          const events = feed(d, stream, cuts);
          expect(frames(events)).toEqual(payloads);
          expect(discarded(events)).toBe(0);
        },
      ),
    );
  });

  it("bytes it handed out never change, whatever it is fed later (payloads are views)", () => {
    // Events are views of the decoder's buffer: it must move on to a new buffer, never
    // compact or rewind over bytes it lent. Streams of 2–30 KiB cross the 4 KiB buffer often.
    const op = fc.oneof(
      fc.record({
        frames: fc.array(payloadArb, { minLength: 1, maxLength: 40 }),
        garbage: fc.uint8Array({ maxLength: 64 }),
        cut: fc.nat(),
      }),
      fc.constant("reset" as const),
      fc.constant("skip" as const),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), (ops) => {
        const d = new FrameDecoder();
        const held: Array<[Uint8Array, Uint8Array]> = [];
        const hold = (events: DecodeEvent[]) => {
          for (const e of events) {
            const bytes = e.kind === "frame" ? e.payload : e.bytes;
            held.push([bytes, bytes.slice()]);
          }
        };
        for (const o of ops) {
          if (o === "reset") hold(d.reset());
          else if (o === "skip") hold(d.skipPending());
          else {
            const stream = concat(o.garbage, ...o.frames.map(encodeFrame));
            const cut = o.cut % (stream.length + 1);
            hold(d.push(stream.subarray(0, cut)));
            hold(d.push(stream.subarray(cut)));
          }
        }
        hold(d.push(encodeFrame(new Uint8Array(4000).fill(0x55))));
        for (const [view, copy] of held) expect(view).toEqual(copy);
      }),
      { numRuns: 200 },
    );
  });

  it("never throws on arbitrary bytes and accounts for every byte", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 10 }), (chunks) => {
        const d = new FrameDecoder({ maxPayload: 512 });
        let frameBytes = 0;
        let dropped = 0;
        let total = 0;
        for (const c of chunks) {
          total += c.length;
          for (const e of d.push(c)) {
            if (e.kind === "frame") frameBytes += e.payload.length + (e.payload.length <= 255 ? 5 : 6);
            else dropped += e.bytes.length;
          }
        }
        for (const e of d.reset()) dropped += e.kind === "discarded" ? e.bytes.length : 0;
        expect(frameBytes + dropped).toBe(total);
      }),
    );
  });

  it("garbage between valid frames: resynchronises on the next good frame, no wrong frame accepted", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), payloadArb), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (pairs, rawCuts) => {
          const stream = concat(...pairs.flatMap(([garbage, p]) => [garbage, encodeFrame(p)]));
          const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const d = new FrameDecoder();
          const out = frames([...feed(d, stream, cuts), ...drain(d)]);
          const sent = pairs.map(([, p]) => p);
          // Garbage may by chance contain a valid frame (astronomically rare with CRC16 + stop byte,
          // but possible); every sent frame must still come out, in order.
          let k = 0;
          for (const f of out) if (k < sent.length && equalBytes(f, sent[k] as Uint8Array)) k++;
          expect(k).toBe(sent.length);
        },
      ),
    );
  });

  it("a corrupted byte loses at most the frame it hit", () => {
    fc.assert(
      fc.property(
        fc.array(payloadArb, { minLength: 2, maxLength: 5 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (payloads, at, flip) => {
          const encoded = payloads.map(encodeFrame);
          const stream = concat(...encoded);
          const pos = at % stream.length;
          stream[pos] = (stream[pos] as number) ^ flip;
          const d = new FrameDecoder();
          const out = frames([...d.push(stream), ...drain(d)]);
          let hit = 0;
          for (let i = 0, start = 0; i < encoded.length; start += (encoded[i] as Uint8Array).length, i++) {
            if (pos >= start && pos < start + (encoded[i] as Uint8Array).length) hit = i;
          }
          const expected = payloads.filter((_, i) => i !== hit);
          for (const p of expected) expect(out.some((f) => equalBytes(f, p))).toBe(true);
          // A corrupted frame is never accepted as-is with wrong content passing CRC (except by the 1/65536 chance).
          expect(out.length).toBeLessThanOrEqual(payloads.length + 1);
        },
      ),
    );
  });
});

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
