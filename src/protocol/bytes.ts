/**
 * Bounds-checked big-endian cursor reader/writer for VESC payloads (bldc `util/buffer.c`).
 * Every read past the end throws ProtocolError("Truncated"); nothing else is thrown.
 * "float16"/"float32" here are VESC's scaled fixed-point values, not IEEE halves:
 * int16/int32 divided by a scale. float32Auto is VESC's portable IEEE-754 binary32.
 * The *At functions read without a check, for decoders that check a whole block once.
 */
import { booleanArray, doubleArray } from "./arrays.js";
import { ProtocolError } from "./errors.js";

// Callers of the *At readers have checked the range, so the casts never hide an undefined.

/** Big-endian int16 at bytes[at] (unchecked). */
export function int16At(bytes: Uint8Array, at: number): number {
  return (((bytes[at] as number) << 24) >> 16) | (bytes[at + 1] as number);
}

/** Big-endian int32 at bytes[at] (unchecked). */
export function int32At(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) << 24) |
    ((bytes[at + 1] as number) << 16) |
    ((bytes[at + 2] as number) << 8) |
    (bytes[at + 3] as number)
  );
}

/** VESC float32_auto at bytes[at] (unchecked): IEEE binary32 for every value firmware encodes. */
export function float32AutoAt(bytes: Uint8Array, at: number): number {
  const bits = int32At(bytes, at) >>> 0;
  const e = (bits >>> 23) & 0xff;
  const m = bits & 0x7fffff;
  if (e === 0 && m === 0) return 0;
  // buffer_get_float32_auto: ldexp(m / 2^24 + 0.5, e - 126); NaN/Inf bit patterns decode as
  // large finite numbers, like the firmware, so a corrupt field can never publish NaN.
  const value = (m / 0x1000000 + 0.5) * 2 ** (e - 126);
  return bits >>> 31 ? -value : value;
}

/** n consecutive int16 / scale values from bytes[at] (unchecked): cells, temperatures. */
export function float16ArrayAt(bytes: Uint8Array, at: number, n: number, scale: number): number[] {
  const out = doubleArray(n);
  for (let i = 0, p = at; i < n; i++, p += 2) {
    out[i] = ((((bytes[p] as number) << 24) >> 16) | (bytes[p + 1] as number)) / scale;
  }
  return out;
}

/** n consecutive bool bytes from bytes[at] (unchecked). */
export function boolArrayAt(bytes: Uint8Array, at: number, n: number): boolean[] {
  const out = booleanArray(n);
  for (let i = 0; i < n; i++) out[i] = bytes[at + i] !== 0;
  return out;
}

export class ByteReader {
  private offset: number;

  // Indexes the bytes directly: a DataView per reply cost as much as decoding its cells.
  constructor(
    private readonly bytes: Uint8Array,
    offset = 0,
  ) {
    this.offset = offset;
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private take(n: number, what: string): number {
    if (this.remaining < n) {
      throw new ProtocolError(
        "Truncated",
        `payload ends at byte ${this.bytes.length} while reading ${what} (${n} bytes at offset ${this.offset})`,
      );
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  // take() has checked the range, so the casts below never hide an undefined.
  private u16At(at: number): number {
    const b = this.bytes;
    return ((b[at] as number) << 8) | (b[at + 1] as number);
  }
  private u32At(at: number): number {
    return this.u16At(at) * 0x10000 + this.u16At(at + 2);
  }

  uint8(what = "uint8"): number {
    return this.bytes[this.take(1, what)] as number;
  }
  int8(what = "int8"): number {
    return ((this.bytes[this.take(1, what)] as number) << 24) >> 24;
  }
  uint16(what = "uint16"): number {
    return this.u16At(this.take(2, what));
  }
  int16(what = "int16"): number {
    return (this.u16At(this.take(2, what)) << 16) >> 16;
  }
  uint32(what = "uint32"): number {
    return this.u32At(this.take(4, what));
  }
  int32(what = "int32"): number {
    return this.u32At(this.take(4, what)) | 0;
  }
  bool(what = "bool"): boolean {
    return this.uint8(what) !== 0;
  }
  /** int16 / scale (buffer_get_float16). */
  float16(scale: number, what = "float16"): number {
    return this.int16(what) / scale;
  }
  /** int32 / scale (buffer_get_float32). */
  float32(scale: number, what = "float32"): number {
    return this.int32(what) / scale;
  }
  /** VESC float32_auto (float32AutoAt). */
  float32Auto(what = "float32_auto"): number {
    return float32AutoAt(this.bytes, this.take(4, what));
  }
  /** n consecutive int16 / scale values after one range check (cell voltages, temperatures). */
  float16Array(n: number, scale: number, what = "float16[]"): number[] {
    return float16ArrayAt(this.bytes, this.take(2 * n, what), n, scale);
  }
  /** n consecutive bool bytes after one range check. */
  boolArray(n: number, what = "bool[]"): boolean[] {
    return boolArrayAt(this.bytes, this.take(n, what), n);
  }
  bytesN(n: number, what = "bytes"): Uint8Array {
    const at = this.take(n, what);
    return this.bytes.subarray(at, at + n);
  }
  /** NUL-terminated string; a missing NUL is a truncated payload. */
  string(what = "string"): string {
    const end = this.bytes.indexOf(0, this.offset);
    if (end < 0) {
      throw new ProtocolError("Truncated", `payload ends inside ${what} (no NUL terminator)`);
    }
    const text = decodeUtf8(this.bytes, this.offset, end);
    this.offset = end + 1;
    return text;
  }
  rest(): Uint8Array {
    return this.bytesN(this.remaining, "rest");
  }
}

// One decoder for the module rather than one per string read.
const UTF8 = new TextDecoder("utf-8", { fatal: false });

/** bytes[start, end) as UTF-8 (invalid sequences become U+FFFD). */
function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  return start === end ? "" : UTF8.decode(bytes.subarray(start, end));
}

function checkInt(value: number, min: number, max: number, what: string): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ProtocolError("ValueOutOfRange", `${what} ${value} does not fit in [${min}, ${max}]`);
  }
  return value;
}

/** `(intN_t)(number * scale)` in bldc `util/buffer.c`, with C's single-precision floats. */
function truncatedProduct(v: number, scale: number): number {
  return Math.trunc(Math.fround(Math.fround(v) * Math.fround(scale)));
}

/**
 * Growable big-endian writer; scaled values are rounded to the nearest step, or truncated
 * like the firmware by the *Truncated variants (the simulator's encoders).
 */
export class ByteWriter {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private length = 0;

  // Callers must call ensure() before reading this.view: it may replace the buffer.
  private ensure(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  uint8(v: number): this {
    const at = this.ensure(1);
    this.view.setUint8(at, checkInt(v, 0, 0xff, "uint8"));
    return this;
  }
  int8(v: number): this {
    const at = this.ensure(1);
    this.view.setInt8(at, checkInt(v, -0x80, 0x7f, "int8"));
    return this;
  }
  uint16(v: number): this {
    const at = this.ensure(2);
    this.view.setUint16(at, checkInt(v, 0, 0xffff, "uint16"), false);
    return this;
  }
  int16(v: number): this {
    const at = this.ensure(2);
    this.view.setInt16(at, checkInt(v, -0x8000, 0x7fff, "int16"), false);
    return this;
  }
  uint32(v: number): this {
    const at = this.ensure(4);
    this.view.setUint32(at, checkInt(v, 0, 0xffffffff, "uint32"), false);
    return this;
  }
  int32(v: number): this {
    const at = this.ensure(4);
    this.view.setInt32(at, checkInt(v, -0x80000000, 0x7fffffff, "int32"), false);
    return this;
  }
  bool(v: boolean): this {
    return this.uint8(v ? 1 : 0);
  }
  float16(v: number, scale: number): this {
    return this.int16(Math.round(v * scale));
  }
  float32(v: number, scale: number): this {
    return this.int32(Math.round(v * scale));
  }
  /** buffer_append_float16 as the firmware computes it: float32 product, truncated toward 0. */
  float16Truncated(v: number, scale: number): this {
    return this.int16(truncatedProduct(v, scale));
  }
  /** buffer_append_float32 as the firmware computes it: float32 product, truncated toward 0. */
  float32Truncated(v: number, scale: number): this {
    return this.int32(truncatedProduct(v, scale));
  }
  /** IEEE binary32 big-endian; subnormals flushed to 0 like buffer_append_float32_auto. */
  float32Auto(v: number): this {
    if (!Number.isFinite(v)) throw new ProtocolError("ValueOutOfRange", `float32_auto ${v} is not finite`);
    const x = Math.abs(v) < 1.5e-38 ? 0 : v;
    const at = this.ensure(4);
    this.view.setFloat32(at, x, false);
    return this;
  }
  bytes(b: Uint8Array): this {
    const at = this.ensure(b.length);
    this.buf.set(b, at);
    return this;
  }
  string(s: string): this {
    const encoded = new TextEncoder().encode(s);
    if (encoded.includes(0)) throw new ProtocolError("ValueOutOfRange", "string contains a NUL byte");
    this.bytes(encoded);
    return this.uint8(0);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
