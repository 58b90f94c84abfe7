/**
 * VESC packet framing (bldc `comm/packet.c`, vesc_tool `packet.cpp`):
 *   0x02 len8 | 0x03 len16 | 0x04 len24, payload, CRC16-XMODEM(payload) big-endian, 0x03.
 * FrameDecoder is incremental and total: any byte sequence, split anywhere, yields frames and
 * "discarded" events, never an exception. Like the firmware it waits for the length a start
 * byte declares and, when that frame turns out invalid, slides one byte and tries again, so a
 * good frame after garbage or a corrupt frame is still found.
 */
import { objectArray } from "./arrays.js";
import { crc16 } from "./crc16.js";
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

// Events are class instances, not literals, so V8 cannot pretenure them (see arrays.ts).
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

export interface FrameDecoderStats {
  framesDecoded: number;
  bytesDiscarded: number;
  crcErrors: number;
  /** Discard events by reason. */
  discards: Record<DiscardReason, number>;
}

export const DEFAULT_MAX_PAYLOAD = 10_000;
const STOP_BYTE = 0x03;
const MAX_24BIT = 0xffffff;
const REASONS: readonly DiscardReason[] = [
  "noStart",
  "badLength",
  "tooLong",
  "badEnd",
  "badCrc",
  "truncated",
];
const NO_BYTES = new Uint8Array(0);
/** Smallest buffer taken for a chunk that starts with no bytes pending (one reply, typically). */
const MIN_BUFFER_BYTES = 256;
/** Buffer taken when a frame is pending across chunks (a stream). */
const STREAM_BUFFER_BYTES = 4096;

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

/**
 * What tryFrame found at a position, as a number so the scan over garbage allocates nothing:
 * the frame's end (≥ 0), NEED (more bytes needed) or invalid(i) for the reason REASONS[i].
 */
const NEED = -1;
const invalid = (reasonIndex: number): number => -2 - reasonIndex;
const BAD_LENGTH = invalid(1);
const TOO_LONG = invalid(2);
const BAD_END = invalid(3);
const BAD_CRC = invalid(4);

export class FrameDecoder {
  readonly maxPayload: number;
  readonly stats: FrameDecoderStats = {
    framesDecoded: 0,
    bytesDiscarded: 0,
    crcErrors: 0,
    discards: { noStart: 0, badLength: 0, tooLong: 0, badEnd: 0, badCrc: 0, truncated: 0 },
  };
  // Events are views of buf, so bytes before `end` are never written again once one has gone
  // out (`lent`): when the buffer is full the decoder moves on to a new one instead of
  // compacting, and after a push() that consumed everything it lets go of the buffer, which
  // then belongs to the views alone. So a device's decoder holds nothing between replies, and
  // a reply's buffer dies with its payload rather than living on (and being promoted to V8's
  // old generation) for the next replies. Copying the consumed bytes out per push() instead
  // cost a second copy and a fresh off-heap ArrayBuffer per push: a third of the decoding
  // time in bench/decoder.ts.
  private buf: Uint8Array = NO_BYTES;
  private start = 0;
  private end = 0;
  private lent = false;
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
   * (mind `byteOffset` when using `.buffer`); holding one keeps its whole buffer alive (up to
   * 4 KiB when frames came as a stream), so `slice()` a payload to keep it for long.
   */
  push(chunk: Uint8Array): DecodeEvent[] {
    const events = objectArray<DecodeEvent>();
    this.append(chunk);
    const buf = this.buf;
    let pos = this.start;
    while (pos < this.end) {
      const b = buf[pos] as number;
      if (b < 2 || b > 4) {
        this.markDiscard(pos, "noStart");
        pos++;
        continue;
      }
      const attempt = this.tryFrame(pos);
      // Like packet.c: a frame that can still complete is waited for, never skipped.
      if (attempt === NEED) break;
      if (attempt < 0) {
        this.markDiscard(pos, REASONS[-2 - attempt] as DiscardReason);
        if (attempt === BAD_CRC) this.stats.crcErrors++;
        pos++;
        continue;
      }
      this.flushDiscard(pos, events);
      // The start byte is also the header length.
      events.push(new FrameEvent(this.view(pos + b, attempt - 3)));
      this.stats.framesDecoded++;
      pos = attempt;
    }
    this.flushDiscard(pos, events);
    this.start = pos;
    if (this.start === this.end) this.emptied();
    return events;
  }

  /**
   * Drops the partial frame being waited for (its first byte) and rescans what follows.
   * The session calls this when a reply times out: a garbage start byte with a large length
   * would otherwise hold back good frames until that many bytes arrived.
   */
  skipPending(): DecodeEvent[] {
    if (this.start === this.end) return [];
    const dropped = this.view(this.start, this.start + 1);
    this.start++;
    this.count("truncated", 1);
    const events: DecodeEvent[] = [new DiscardEvent("truncated", dropped)];
    return events.concat(this.push(new Uint8Array(0)));
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

  private tryFrame(pos: number): number {
    const buf = this.buf;
    const headerLen = buf[pos] as number; // 2, 3 or 4: the start byte is also the header length
    if (this.end - pos < headerLen) return NEED;
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
    if (len < minLen) return BAD_LENGTH;
    if (len > this.maxPayload) return TOO_LONG;
    const frameEnd = pos + headerLen + len + 3;
    if (frameEnd > this.end) return NEED;
    // Stop byte before CRC, in the firmware's order.
    if (buf[frameEnd - 1] !== STOP_BYTE) return BAD_END;
    const payloadStart = pos + headerLen;
    const crc = ((buf[frameEnd - 3] as number) << 8) | (buf[frameEnd - 2] as number);
    if (crc16(buf, payloadStart, payloadStart + len) !== crc) return BAD_CRC;
    return frameEnd;
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

  /**
   * Nothing is pending. Lent bytes must not be overwritten, so a lent buffer is let go (the
   * views own it now), as is one a one-off huge chunk made big; otherwise it is rewound.
   */
  private emptied(): void {
    if (this.lent || this.buf.length > 65536) {
      this.buf = NO_BYTES;
      this.lent = false;
    }
    this.start = this.end = 0;
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
    if (chunk.length === 0) return;
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const needed = live + chunk.length;
      if (this.lent || needed > this.buf.length) {
        // Lent bytes stay where they are: the pending ones move to a new buffer, sized for one
        // reply when none are pending, for a stream (and doubling for big frames) otherwise.
        const size =
          live === 0
            ? Math.max(needed, MIN_BUFFER_BYTES)
            : Math.max(needed, STREAM_BUFFER_BYTES, needed > this.buf.length ? this.buf.length * 2 : 0);
        const next = new Uint8Array(size);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
        this.lent = false;
      } else {
        this.buf.copyWithin(0, this.start, this.end);
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}
