/**
 * An independent oracle for FrameDecoder output: walks the decoder's events over the input
 * and checks that every byte is accounted for, in order: each frame is a well-formed frame
 * with a correct CRC at exactly the place it was taken from, each discard holds exactly the
 * input bytes at its place, and what is left is the decoder's pending tail. The CRC here is
 * computed bit by bit from the polynomial, not with src/protocol/crc16.ts.
 */
import type { DecodeEvent, FrameDecoder } from "../../src/protocol/index.js";
import type { Rng } from "../../bench/prng.js";

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** CRC-16/XMODEM; this test's own implementation. */
export function oracleCrc(bytes: Uint8Array): number {
  let c = 0;
  for (const b of bytes) c = ((TABLE[((c >> 8) ^ b) & 0xff] as number) ^ (c << 8)) & 0xffff;
  return c;
}

/** Builds a frame by hand (not with encodeFrame), in the shortest length form. */
export function oracleFrame(payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const hl = len <= 0xff ? 2 : len <= 0xffff ? 3 : 4;
  const out = new Uint8Array(hl + len + 3);
  out[0] = hl;
  for (let i = 1; i < hl; i++) out[i] = (len >> (8 * (hl - 1 - i))) & 0xff;
  out.set(payload, hl);
  const crc = oracleCrc(payload);
  out[hl + len] = crc >> 8;
  out[hl + len + 1] = crc & 0xff;
  out[hl + len + 2] = 3;
  return out;
}

export interface Audit {
  /** Input offsets of the frames emitted, in order. */
  readonly frameOffsets: number[];
  /** Whole-frame lengths, parallel to frameOffsets. */
  readonly frameLengths: number[];
  readonly discardedBytes: number;
}

const at = (b: Uint8Array, i: number): number => b[i] ?? -1;

/** Returns the audit, or a string saying what is wrong. */
export function audit(
  input: Uint8Array,
  events: readonly DecodeEvent[],
  pending: number,
  maxPayload = 10_000,
): Audit | string {
  let off = 0;
  let discardedBytes = 0;
  const frameOffsets: number[] = [];
  const frameLengths: number[] = [];
  for (const ev of events) {
    if (ev.kind === "discarded") {
      const b = ev.bytes;
      if (b.length === 0) return `empty discard event at ${off}`;
      for (let i = 0; i < b.length; i++) {
        if (b[i] !== at(input, off + i)) return `discarded bytes differ from the input at ${off + i}`;
      }
      off += b.length;
      discardedBytes += b.length;
      continue;
    }
    const p = ev.payload;
    const hl = at(input, off);
    if (hl < 2 || hl > 4) return `frame at ${off} starts with ${hl}`;
    let len = 0;
    for (let i = 1; i < hl; i++) len = len * 256 + at(input, off + i);
    const minLen = hl === 2 ? 1 : hl === 3 ? 255 : 65535;
    if (len !== p.length || len < minLen || len > maxPayload) {
      return `frame at ${off}: length field ${len}, payload ${p.length}`;
    }
    for (let i = 0; i < len; i++) {
      if (p[i] !== at(input, off + hl + i)) return `frame at ${off}: payload differs from the input`;
    }
    const crc = oracleCrc(p);
    const end = off + hl + len;
    if (at(input, end) !== crc >> 8 || at(input, end + 1) !== (crc & 0xff)) {
      return `frame at ${off} accepted with a wrong CRC`;
    }
    if (at(input, end + 2) !== 3) return `frame at ${off} accepted without stop byte`;
    frameOffsets.push(off);
    frameLengths.push(hl + len + 3);
    off = end + 3;
  }
  if (off + pending !== input.length) {
    return `accounting: ${off} bytes in events + ${pending} pending != ${input.length} input`;
  }
  return { frameOffsets, frameLengths, discardedBytes };
}

/** Pushes `input` in random pieces (whole, a few cuts, or byte by byte). */
export function pushChunked(decoder: FrameDecoder, input: Uint8Array, rng: Rng): DecodeEvent[] {
  const mode = rng.int(10);
  if (mode < 4 || input.length < 2) return decoder.push(input);
  const events: DecodeEvent[] = [];
  if (mode === 9 && input.length <= 256) {
    for (let i = 0; i < input.length; i++) events.push(...decoder.push(input.subarray(i, i + 1)));
    return events;
  }
  const cuts = Array.from({ length: rng.range(1, 5) }, () => rng.int(input.length + 1)).sort((a, b) => a - b);
  let last = 0;
  for (const c of [...cuts, input.length]) {
    events.push(...decoder.push(input.subarray(last, c)));
    last = c;
  }
  return events;
}
