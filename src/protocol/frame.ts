/**
 * VESC packet framing (bldc `comm/packet.c`, vesc_tool `packet.cpp`):
 *   0x02 len8 | 0x03 len16 | 0x04 len24, payload, CRC16-XMODEM(payload) big-endian, 0x03.
 * FrameDecoder is incremental and total: any byte sequence, split anywhere, yields frames and
 * "discarded" events, never an exception. Like the firmware it waits for the length a start
 * byte declares and, when that frame turns out invalid, slides one byte and tries again; its
 * work is linear in the bytes received (docs/performance.md, "Frame decoder").
 */
import { objectArray } from "./arrays.js";
import { crc16, crc16Shift, crc16Step } from "./crc16.js";
import { ProtocolError } from "./errors.js";

export type DiscardReason =
  | "noStart" // bytes before any start byte
  | "badLength" // zero or non-minimal length field
  | "tooLong" // length above maxPayload
  | "badEnd" // stop byte is not 0x03
  | "badCrc"
  | "truncated"; // a partial frame given up by reset() or skipPending()

export type DecodeEvent =
  | { readonly kind: "frame"; readonly payload: Uint8Array }
  | { readonly kind: "discarded"; readonly reason: DiscardReason; readonly bytes: Uint8Array };

// Class instances, not literals: V8 cannot pretenure them (arrays.ts).
class FrameEvent {
  readonly kind = "frame";
  constructor(readonly payload: Uint8Array) {}
}
class DiscardEvent {
  readonly kind = "discarded";
  constructor(
    readonly reason: DiscardReason,
    readonly bytes: Uint8Array,
  ) {}
}

export interface FrameDecoderOptions {
  /** Longest payload accepted (default 10,000 like VESC Tool; firmware itself uses 512). */
  readonly maxPayload?: number;
}

/** Deterministic work counters: each grows by at most a constant per byte received or push. */
export interface FrameDecoderWork {
  bytesReceived: number;
  pushes: number;
  /** Start positions whose header was examined (a pending one again on each push). */
  startsTried: number;
  /** Bytes fed through a CRC step (at most two per byte: once directly, once as a prefix). */
  crcBytes: number;
  /** Pending bytes (and their prefix CRCs) copied when the buffer was compacted or replaced. */
  bytesMoved: number;
}

export interface FrameDecoderStats {
  framesDecoded: number;
  bytesDiscarded: number;
  crcErrors: number;
  /** Discard events by reason. */
  discards: Record<DiscardReason, number>;
  work: FrameDecoderWork;
}

/** VESC Tool's limit (packet.cpp): the largest payload any peer may send us. */
export const DEFAULT_MAX_PAYLOAD = 10_000;
/** PACKET_MAX_PL_LEN of bldc and vesc_express packet.c: no device sends a longer payload. */
export const FIRMWARE_MAX_PAYLOAD = 512;
const STOP_BYTE = 0x03;
const MAX_24BIT = 0xffffff;
const NO_BYTES = new Uint8Array(0);
const NO_CRCS = new Uint16Array(0);
/** Smallest buffer taken for a chunk that starts with no bytes pending (one reply, typically). */
const MIN_BUFFER_BYTES = 256;
/** Smallest buffer taken when a frame is pending across chunks (a stream): several chunks fit. */
const STREAM_BUFFER_BYTES = 16384;

/** Frames a payload, choosing the shortest length form like packet_send_packet. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const len = payload.length;
  if (len === 0) throw new ProtocolError("ValueOutOfRange", "a frame cannot carry an empty payload");
  if (len > MAX_24BIT)
    throw new ProtocolError("ValueOutOfRange", `payload of ${len} bytes exceeds 24-bit length`);
  const header = len <= 0xff ? 2 : len <= 0xffff ? 3 : 4;
  const out = new Uint8Array(header + len + 3);
  out[0] = header;
  if (header === 2) {
    out[1] = len;
  } else if (header === 3) {
    out[1] = len >> 8;
    out[2] = len & 0xff;
  } else {
    out[1] = len >> 16;
    out[2] = (len >> 8) & 0xff;
    out[3] = len & 0xff;
  }
  out.set(payload, header);
  const crc = crc16(payload);
  out[header + len] = crc >> 8;
  out[header + len + 1] = crc & 0xff;
  out[header + len + 2] = STOP_BYTE;
  return out;
}

export class FrameDecoder {
  readonly maxPayload: number;
  readonly stats: FrameDecoderStats = {
    framesDecoded: 0,
    bytesDiscarded: 0,
    crcErrors: 0,
    discards: { noStart: 0, badLength: 0, tooLong: 0, badEnd: 0, badCrc: 0, truncated: 0 },
    work: { bytesReceived: 0, pushes: 0, startsTried: 0, crcBytes: 0, bytesMoved: 0 },
  };
  // Invariant: bytes of buf before `end` are never written again once lent out as a view.
  private buf: Uint8Array = NO_BYTES;
  private start = 0;
  private end = 0;
  private lent = false;
  // buf[crcTo..] has never been through a CRC: a candidate starting there is checked directly.
  private crcTo = 0;
  // prefix[i] = CRC of buf[prefixFrom, i) for i in [prefixFrom, prefixTo]; prefixTo < 0: none.
  private prefix: Uint16Array = NO_CRCS;
  private prefixFrom = 0;
  private prefixTo = -1;
  // The current run of discarded bytes, merged into one event; its reason is the first one seen.
  private discardFrom = -1;
  private discardReason: DiscardReason = "noStart";

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.maxPayload = Number.isInteger(max) && max >= 1 && max <= MAX_24BIT ? max : DEFAULT_MAX_PAYLOAD;
  }

  /** Bytes held while waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.end - this.start;
  }

  /**
   * Payloads and discarded bytes are views of bytes the decoder copied and never writes again:
   * they stay valid and unchanged for as long as they are held. Several share one ArrayBuffer
   * (mind `byteOffset` when using `.buffer`); holding one keeps its whole buffer alive (16 KiB
   * or more when frames came as a stream), so `slice()` a payload to keep it for long.
   */
  push(chunk: Uint8Array): DecodeEvent[] {
    const events = objectArray<DecodeEvent>();
    this.stats.work.pushes++;
    this.append(chunk);
    const buf = this.buf;
    const end = this.end;
    let pos = this.start;
    const work = this.stats.work;
    // One function for the scan and the candidate check: too big for V8 to inline into the
    // caller's loop, so it is compiled once, not again inside every caller.
    while (pos < end) {
      const headerLen = buf[pos] as number; // a start byte is also its header's length
      if (headerLen < 2 || headerLen > 4) {
        this.markDiscard(pos, "noStart");
        pos++;
        continue;
      }
      work.startsTried++;
      if (end - pos < headerLen) break;
      let len: number;
      let minLen: number;
      if (headerLen === 2) {
        len = buf[pos + 1] as number;
        minLen = 1;
      } else if (headerLen === 3) {
        len = ((buf[pos + 1] as number) << 8) | (buf[pos + 2] as number);
        minLen = 255; // packet.c accepts 255 in the long form, though senders never use it
      } else {
        len = ((buf[pos + 1] as number) << 16) | ((buf[pos + 2] as number) << 8) | (buf[pos + 3] as number);
        minLen = 65535;
      }
      let reason: DiscardReason;
      if (len < minLen) reason = "badLength";
      else if (len > this.maxPayload) reason = "tooLong";
      else {
        const frameEnd = pos + headerLen + len + 3;
        // Like packet.c: a frame that can still complete is waited for, never skipped.
        if (frameEnd > end) break;
        // Stop byte before CRC, in the firmware's order.
        if (buf[frameEnd - 1] !== STOP_BYTE) reason = "badEnd";
        else {
          const from = pos + headerLen;
          const to = from + len;
          // Bytes no CRC has seen are summed directly; a candidate over bytes already summed (a
          // resync inside a failed frame) is answered from prefix CRCs: ≤ 2 CRC steps per byte.
          let crc: number;
          if (from >= this.crcTo) {
            this.crcTo = to;
            work.crcBytes += len;
            crc = crc16(buf, from, to);
          } else {
            crc = this.prefixCrc(from, to);
          }
          if (crc === (((buf[to] as number) << 8) | (buf[to + 1] as number))) {
            this.flushDiscard(pos, events);
            events.push(new FrameEvent(this.view(from, to)));
            this.stats.framesDecoded++;
            pos = frameEnd;
            continue;
          }
          reason = "badCrc";
          this.stats.crcErrors++;
        }
      }
      this.markDiscard(pos, reason);
      pos++;
    }
    this.flushDiscard(pos, events);
    // emptied() inline, every field read on every push: a rarely taken path deoptimised push().
    const lent = this.lent;
    const big = buf.length > 65536;
    const idle = pos === end;
    const release = idle && (lent || big);
    this.buf = release ? NO_BYTES : buf;
    this.lent = lent && !release;
    this.start = idle ? 0 : pos;
    this.end = idle ? 0 : end;
    this.crcTo = idle ? 0 : this.crcTo;
    this.prefixTo = idle ? -1 : this.prefixTo;
    this.prefix = idle ? NO_CRCS : this.prefix; // an idle decoder holds no buffers
    return events;
  }

  /**
   * Drops the first byte of the partial frame being waited for and rescans what follows.
   * The session calls this when a reply times out: a garbage start byte with a large length
   * would otherwise hold back good frames until that many bytes arrived.
   */
  skipPending(): DecodeEvent[] {
    if (this.start === this.end) return [];
    const dropped = this.view(this.start, this.start + 1);
    this.start++;
    this.count("truncated", 1);
    const events: DecodeEvent[] = [new DiscardEvent("truncated", dropped)];
    return events.concat(this.push(NO_BYTES));
  }

  /** Forgets buffered bytes (on reconnect); they are reported as discarded. */
  reset(): DecodeEvent[] {
    const events: DecodeEvent[] = [];
    if (this.end > this.start) {
      const bytes = this.view(this.start, this.end);
      this.count("truncated", bytes.length);
      events.push(new DiscardEvent("truncated", bytes));
    }
    this.emptied();
    this.discardFrom = -1;
    return events;
  }

  /** CRC of buf[from, to) from prefix CRCs, extending them to `to`. */
  private prefixCrc(from: number, to: number): number {
    const work = this.stats.work;
    if (this.prefixTo < from || from < this.prefixFrom) {
      if (this.prefix.length < this.buf.length) this.prefix = new Uint16Array(this.buf.length);
      this.prefixFrom = this.prefixTo = from;
      this.prefix[from] = 0;
    }
    const prefix = this.prefix;
    if (to > this.prefixTo) {
      const buf = this.buf;
      let c = prefix[this.prefixTo] as number;
      for (let i = this.prefixTo; i < to; i++) {
        c = crc16Step(c, buf[i] as number);
        prefix[i + 1] = c;
      }
      work.crcBytes += to - this.prefixTo;
      this.prefixTo = to;
    }
    if (to > this.crcTo) this.crcTo = to;
    return (prefix[to] as number) ^ crc16Shift(prefix[from] as number, to - from);
  }

  // A run of discards is always contiguous (a frame or the end of push() flushes it), so it
  // spans [discardFrom, pos) and keeps the reason of its first byte.
  private markDiscard(pos: number, reason: DiscardReason): void {
    if (this.discardFrom < 0) {
      this.discardFrom = pos;
      this.discardReason = reason;
    }
  }

  private flushDiscard(pos: number, events: DecodeEvent[]): void {
    if (this.discardFrom < 0) return;
    const from = this.discardFrom;
    this.discardFrom = -1;
    if (pos === from) return;
    this.count(this.discardReason, pos - from);
    events.push(new DiscardEvent(this.discardReason, this.view(from, pos)));
  }

  /** Nothing pending: a lent or oversized buffer and the prefix CRCs are let go, else rewound. */
  private emptied(): void {
    if (this.lent || this.buf.length > 65536) {
      this.buf = NO_BYTES;
      this.lent = false;
    }
    this.prefix = NO_CRCS;
    this.start = this.end = this.crcTo = 0;
    this.prefixTo = -1;
  }

  /** buf[from, to) lent out: from now on those bytes are never overwritten. */
  private view(from: number, to: number): Uint8Array {
    this.lent = true;
    return new Uint8Array(this.buf.buffer, from, to - from);
  }

  private count(reason: DiscardReason, n: number): void {
    this.stats.bytesDiscarded += n;
    this.stats.discards[reason]++;
  }

  private append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    this.stats.work.bytesReceived += n;
    if (this.end + n > this.buf.length) this.relocate(n);
    this.buf.set(chunk, this.end);
    this.end += n;
  }

  /**
   * Moves the pending bytes to the front of a buffer with room for `n` more. The buffer keeps
   * at least as much free room as it holds pending bytes, so a move copies no more than twice
   * the bytes received since the previous one (linear in total).
   */
  private relocate(n: number): void {
    const start = this.start;
    const live = this.end - start;
    const room = live + n + live;
    const work = this.stats.work;
    if (this.lent || room > this.buf.length) {
      // Lent bytes stay where they are; sized for one reply when none are pending.
      const size = live === 0 ? Math.max(n, MIN_BUFFER_BYTES) : Math.max(room, STREAM_BUFFER_BYTES);
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(start, this.end));
      this.buf = next;
      this.lent = false;
    } else {
      this.buf.copyWithin(0, start, this.end);
    }
    work.bytesMoved += live;
    this.crcTo = Math.max(0, this.crcTo - start);
    if (this.prefixTo >= start) {
      const from = Math.max(this.prefixFrom, start);
      const old = this.prefix;
      if (old.length < this.buf.length) this.prefix = new Uint16Array(this.buf.length);
      this.prefix.set(old.subarray(from, this.prefixTo + 1), from - start);
      work.bytesMoved += this.prefixTo + 1 - from;
      this.prefixFrom = from - start;
      this.prefixTo -= start;
    } else {
      this.prefixTo = -1;
    }
    this.start = 0;
    this.end = live;
  }
}
