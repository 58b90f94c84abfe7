import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteReader, ByteWriter } from "./bytes.js";
import { isProtocolError, ProtocolError } from "./errors.js";

describe("ByteWriter/ByteReader round trips", () => {
  it("u8/i8/u16/i16/u32/i32 big-endian", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: -0x80, max: 0x7f }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: -0x8000, max: 0x7fff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        (u8, i8, u16, i16, u32, i32) => {
          const bytes = new ByteWriter()
            .uint8(u8)
            .int8(i8)
            .uint16(u16)
            .int16(i16)
            .uint32(u32)
            .int32(i32)
            .finish();
          expect(bytes.length).toBe(14);
          const r = new ByteReader(bytes);
          expect([r.uint8(), r.int8(), r.uint16(), r.int16(), r.uint32(), r.int32()]).toEqual([
            u8,
            i8,
            u16,
            i16,
            u32,
            i32,
          ]);
          expect(r.remaining).toBe(0);
        },
      ),
    );
  });

  it("writes big-endian", () => {
    expect(Array.from(new ByteWriter().uint16(0x1234).int32(-2).finish())).toEqual([
      0x12, 0x34, 0xff, 0xff, 0xff, 0xfe,
    ]);
  });

  it("scaled float16/float32 round-trip to the scale's resolution", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -32768, max: 32767 }),
        fc.constantFrom(1, 10, 100, 1000),
        (raw, scale) => {
          const value = raw / scale;
          const r = new ByteReader(new ByteWriter().float16(value, scale).finish());
          expect(r.float16(scale)).toBe(value);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        fc.constantFrom(1, 100, 1e3, 1e4, 1e6),
        (raw, scale) => {
          const value = raw / scale;
          const r = new ByteReader(new ByteWriter().float32(value, scale).finish());
          expect(r.float32(scale)).toBe(value);
        },
      ),
    );
  });

  it("float32_auto equals IEEE binary32 and round-trips float32 values", () => {
    fc.assert(
      fc.property(
        fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) }),
        (x) => {
          const bytes = new ByteWriter().float32Auto(x).finish();
          const decoded = new ByteReader(bytes).float32Auto();
          const expected = Math.abs(x) < 1.5e-38 ? 0 : Math.fround(x);
          expect(decoded).toBe(expected === 0 ? 0 : expected);
        },
      ),
    );
  });

  it("float32_auto decodes a known word like the firmware", () => {
    // 1.0f = 0x3f800000; 83.6 ≈ 0x42a73333
    expect(new ByteReader(Uint8Array.of(0x3f, 0x80, 0, 0)).float32Auto()).toBe(1);
    expect(new ByteReader(Uint8Array.of(0xc2, 0xa7, 0x33, 0x33)).float32Auto()).toBeCloseTo(-83.6, 5);
    expect(new ByteReader(Uint8Array.of(0, 0, 0, 0)).float32Auto()).toBe(0);
  });

  it("float32_auto never yields NaN or Infinity for any 4 bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) =>
        Number.isFinite(new ByteReader(b).float32Auto()),
      ),
    );
  });

  it("NUL-terminated strings", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 40 }).filter((s) => !s.includes("\0")),
        (s) => {
          const r = new ByteReader(new ByteWriter().string(s).uint8(7).finish());
          expect(r.string()).toBe(s);
          expect(r.uint8()).toBe(7);
        },
      ),
    );
  });

  it("float16Array/boolArray read what n float16/bool reads would, any n up to 100", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -0x8000, max: 0x7fff }), { maxLength: 100 }), (raw) => {
        const w = new ByteWriter();
        for (const v of raw) w.int16(v);
        for (const v of raw) w.uint8(v & 0xff);
        const bytes = w.finish();
        const one = new ByteReader(bytes);
        const each = raw.map(() => one.float16(1e3));
        const flags = raw.map(() => one.bool());
        const bulk = new ByteReader(bytes);
        expect(bulk.float16Array(raw.length, 1e3)).toEqual(each);
        expect(bulk.boolArray(raw.length)).toEqual(flags);
        expect(bulk.remaining).toBe(0);
      }),
    );
  });
});

describe("bounds checks", () => {
  const readers: Array<[string, (r: ByteReader) => unknown, number]> = [
    ["uint8", (r) => r.uint8(), 1],
    ["int8", (r) => r.int8(), 1],
    ["uint16", (r) => r.uint16(), 2],
    ["int16", (r) => r.int16(), 2],
    ["uint32", (r) => r.uint32(), 4],
    ["int32", (r) => r.int32(), 4],
    ["float16", (r) => r.float16(10), 2],
    ["float32", (r) => r.float32(1e6), 4],
    ["float32Auto", (r) => r.float32Auto(), 4],
    ["float16Array of 3", (r) => r.float16Array(3, 10), 6],
    ["boolArray of 3", (r) => r.boolArray(3), 3],
  ];
  for (const [name, read, size] of readers) {
    it(`${name} on ${size - 1} bytes throws ProtocolError Truncated`, () => {
      const r = new ByteReader(new Uint8Array(size - 1));
      expect(() => read(r)).toThrowError(ProtocolError);
      try {
        read(new ByteReader(new Uint8Array(size - 1)));
      } catch (e) {
        expect(isProtocolError(e) && e.code).toBe("Truncated");
      }
    });
  }

  it("a string without NUL is truncated", () => {
    expect(() => new ByteReader(Uint8Array.of(0x41, 0x42)).string()).toThrowError(/NUL/);
  });

  it("writer rejects values that do not fit", () => {
    expect(() => new ByteWriter().uint8(256)).toThrowError(ProtocolError);
    expect(() => new ByteWriter().int16(40000)).toThrowError(ProtocolError);
    expect(() => new ByteWriter().float16(4000, 10)).toThrowError(ProtocolError);
    expect(() => new ByteWriter().float32Auto(Number.NaN)).toThrowError(ProtocolError);
    expect(() => new ByteWriter().string("a\0b")).toThrowError(ProtocolError);
  });
});
