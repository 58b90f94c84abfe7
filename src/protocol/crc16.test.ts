import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc16, crc16Shift, crc16Step } from "./crc16.js";

function bitwiseXmodem(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

describe("crc16 (CRC-16/XMODEM)", () => {
  it("has the standard check value 0x31C3 for '123456789'", () => {
    expect(crc16(new TextEncoder().encode("123456789"))).toBe(0x31c3);
  });

  it("matches the CRCs of real request frames", () => {
    expect(crc16(Uint8Array.of(0x00))).toBe(0x0000);
    expect(crc16(Uint8Array.of(0x04))).toBe(0x4084);
    expect(crc16(Uint8Array.of(0x60))).toBe(0x6ca6);
    expect(crc16(Uint8Array.of(0x3e))).toBe(0xd79d);
    expect(crc16(Uint8Array.of(0x22, 0x0a, 0x04))).toBe(0x47e9);
    expect(crc16(Uint8Array.of(0x5d, 0x00))).toBe(0x78e3);
  });

  it("equals a bitwise reference implementation for any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => crc16(bytes) === bitwiseXmodem(bytes)),
    );
  });

  it("honours start/end bounds", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const s = a % bytes.length;
        const e = s + (b % (bytes.length - s + 1));
        return crc16(bytes, s, e) === bitwiseXmodem(bytes.subarray(s, e));
      }),
    );
  });

  it("crc16Step is one byte of crc16", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 50 }), (bytes) => {
        let c = 0;
        for (const b of bytes) c = crc16Step(c, b);
        return c === crc16(bytes);
      }),
    );
  });

  it("crc16Shift joins CRCs: crc(A‖B) = shift(crc(A), |B|) ⊕ crc(B), any length below 2^24", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 9000 }), (a, b) => {
        const ab = new Uint8Array(a.length + b.length);
        ab.set(a);
        ab.set(b, a.length);
        return (crc16Shift(crc16(a), b.length) ^ crc16(b)) === crc16(ab);
      }),
      { numRuns: 200 },
    );
    // Long zero runs: shifting by n equals appending n zero bytes.
    for (const n of [0, 1, 4095, 4096, 4097, 70_000]) {
      expect(crc16Shift(0x1234, n), `n=${n}`).toBe(bitwiseAppendZeros(0x1234, n));
    }
    expect(crc16Shift(crc16Shift(0x1234, 0xffffff - 70_000), 70_000)).toBe(crc16Shift(0x1234, 0xffffff));
  });
});

function bitwiseAppendZeros(crc: number, n: number): number {
  let c = crc;
  for (let i = 0; i < n * 8; i++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  return c;
}
