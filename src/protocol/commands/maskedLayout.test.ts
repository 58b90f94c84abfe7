import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteReader, ByteWriter } from "../bytes.js";
import { CommandId } from "../commandId.js";
import { isProtocolError } from "../errors.js";
import { F32_AUTO, f16, f32, I32, U8, U32 } from "./fieldKind.js";
import { MaskedFields, MaskedLayout, type MaskedValues, maskedBit } from "./maskedLayout.js";

type Field = "a" | "x" | "fault" | "y" | "e" | "g" | "h";

const BITS = [
  maskedBit<Field>(0, ["a"], f16(10)),
  maskedBit<Field>(1, ["x", "fault", "y"], U8),
  maskedBit<Field>(2, ["e"], I32),
  maskedBit<Field>(3, ["g"], f32(100), 300),
  maskedBit<Field>(4, ["h"], U32, 400),
];
const toy = () =>
  new MaskedLayout({
    full: { id: CommandId.GetValues, name: "TOY" },
    selective: { id: CommandId.GetValuesSelective, name: "TOY_SELECTIVE" },
    bits: BITS,
    faultField: "fault",
  });

const ALL: Required<Record<Field, number>> = {
  a: 12.3,
  x: 7,
  fault: 30,
  y: 9,
  e: -5,
  g: 1.25,
  h: 4000000000,
};

/** The keys a reply to `mask` carrying the bits before `end` has, in wire order. */
function expectedKeys(mask: number, end: number): string[] {
  const keys = BITS.slice(0, end)
    .filter((b) => (mask >>> b.bit) & 1)
    .flatMap((b) => b.fields);
  return keys.includes("fault") ? [...keys, "faultName"] : keys;
}

/** Eight one-byte bits: 256 distinct masks, more than a layout keeps plans for. */
type Wide = "b0" | "b1" | "b2" | "b3" | "b4" | "b5" | "b6" | "b7";
const WIDE_FIELDS: readonly Wide[] = ["b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"];
const wide = () =>
  new MaskedLayout<Wide>({
    full: { id: CommandId.GetValues, name: "WIDE" },
    selective: { id: CommandId.GetValuesSelective, name: "WIDE_SELECTIVE" },
    bits: WIDE_FIELDS.map((f, bit) => maskedBit<Wide>(bit, [f], U8)),
  });

describe("MaskedLayout", () => {
  it("stays right and bounded past its plan cache, keeping the all-bits plan", () => {
    const layout = wide();
    const plans = (layout as unknown as { table: { plans: Map<number, unknown> } }).table.plans;
    const values = Object.fromEntries(WIDE_FIELDS.map((f, i) => [f, i + 1])) as Record<Wide, number>;
    expect(layout.decodeFull(layout.encodeFull(values))).toEqual(values);
    const allPlan = plans.get(0xff);
    expect(allPlan).toBeDefined();
    for (let n = 0; n < 3 * 256; n++) {
      const mask = (n * 37) & 0xff;
      const decoded = layout.decodeSelective(layout.encodeSelective({ mask, values }));
      const want = WIDE_FIELDS.filter((_, bit) => (mask >>> bit) & 1);
      expect(Object.keys(decoded.values)).toEqual(want);
      for (const f of want) expect(decoded.values[f]).toBe(values[f]);
      expect(plans.size).toBeLessThanOrEqual(64);
    }
    expect(plans.get(0xff)).toBe(allPlan);
  });

  it("names the fault of a bit that carries several fields", () => {
    const layout = toy();
    const v = layout.decodeFull(layout.encodeFull(ALL));
    expect(v).toEqual({ ...ALL, faultName: "FAULT_CODE_ENCODER_SLIP" });
    expect(Object.keys(v)).toEqual(expectedKeys(0xff, 5));
  });

  it("decodes any mask at any firmware cut to exactly its keys, in wire order", () => {
    // One layout for every run: the plans it keeps are reused across masks.
    const layout = toy();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 3, max: 5 }), (mask, end) => {
        const values: MaskedValues<Field> = Object.fromEntries(
          BITS.slice(0, end).flatMap((b) => b.fields.map((f) => [f, ALL[f]])),
        );
        const payload = layout.encodeSelective({ mask, values });
        const decoded = layout.decodeSelective(payload);
        expect(decoded.mask).toBe(mask >>> 0);
        expect(Object.keys(decoded.values)).toEqual(expectedKeys(mask, end));
        for (const k of expectedKeys(mask, end).filter((k) => k !== "faultName"))
          expect(decoded.values[k as Field]).toBe(ALL[k as Field]);
      }),
      { numRuns: 2000 },
    );
  });

  it("a cut inside the always-sent bits is Truncated, never a shorter value", () => {
    const layout = toy();
    const full = layout.encodeFull(ALL);
    const mandatory = 1 + 2 + 3 + 4;
    for (let n = 0; n < mandatory; n++) {
      let err: unknown;
      try {
        layout.decodeFull(full.subarray(0, n));
      } catch (e) {
        err = e;
      }
      expect(isProtocolError(err), `cut at ${n}`).toBe(true);
    }
  });

  it("a reply ending inside an optional bit ends before it, also after a bit that fits", () => {
    const layout = toy();
    const { h: _h, ...noH } = ALL;
    const upToG = layout.encodeFull(noH);
    const mandatory = upToG.subarray(0, upToG.length - 4);
    const ends = (payload: Uint8Array) => Object.keys(layout.decodeFull(payload));
    // 3 of g's 4 bytes: no g; g and 2 of h's 4 bytes: g but no h.
    expect(ends(Uint8Array.of(...mandatory, 0, 0, 0))).toEqual(expectedKeys(0xff, 3));
    expect(ends(Uint8Array.of(...upToG, 0, 0))).toEqual(expectedKeys(0xff, 4));
    expect(layout.decodeFull(Uint8Array.of(...upToG, 0, 0)).g).toBe(ALL.g);
  });

  it("an absent optional field ends the encoded reply; an absent mandatory one is an error", () => {
    const layout = toy();
    const { g: _g, ...noG } = ALL;
    expect(layout.encodeFull(noG).length).toBe(1 + 2 + 3 + 4);
    const { e: _e, ...noE } = ALL;
    expect(() => layout.encodeFull(noE)).toThrow(/TOY field e missing/);
  });

  it("the mask, the since of each bit, and a since before an always-sent bit rejected", () => {
    const layout = toy();
    expect(layout.mask(["fault", "h"])).toBe(0b10010);
    expect(layout.sinceByBit()).toEqual({ 3: 300, 4: 400 });
    expect(
      () =>
        new MaskedLayout({
          full: { id: CommandId.GetValues, name: "BAD" },
          selective: { id: CommandId.GetValuesSelective, name: "BAD_SELECTIVE" },
          bits: [maskedBit(0, ["a"], U8, 300), maskedBit(1, ["b"], U8)],
        }),
    ).toThrow(/suffix/);
  });
});

describe("MaskedFields", () => {
  type Stat = "p" | "q" | "r" | "id";
  const table = new MaskedFields<Stat>({
    name: "STAT",
    bits: [
      maskedBit(0, ["p"], F32_AUTO),
      maskedBit(1, ["q"], F32_AUTO),
      maskedBit(2, ["r"], F32_AUTO),
      maskedBit(16, ["id"], U8, 605),
    ],
    absentAsZero: true,
  });
  const encode = (values: MaskedValues<Stat>, mask: number) => {
    const w = new ByteWriter();
    table.encode(w, values, mask);
    return w.finish();
  };

  it("with absentAsZero an absent field is sent as 0; an absent optional one still ends the reply", () => {
    expect(encode({ r: 1.5 }, 0b101)).toEqual(Uint8Array.of(0, 0, 0, 0, 0x3f, 0xc0, 0, 0));
    expect(encode({ p: -2, id: 7 }, 0x10001)).toEqual(Uint8Array.of(0xc0, 0, 0, 0, 7));
    expect(encode({ p: -2 }, 0x10001)).toEqual(Uint8Array.of(0xc0, 0, 0, 0));
  });

  it("float32_auto fields decode as written, the optional byte only when it is there", () => {
    const payload = encode({ p: 0.1, q: -3.25, r: 1e6, id: 84 }, 0x10007);
    expect(table.decode(new ByteReader(payload), 0x10007)).toStrictEqual({
      p: Math.fround(0.1),
      q: -3.25,
      r: 1e6,
      id: 84,
    });
    expect(table.decode(new ByteReader(payload.subarray(0, 12)), 0x10007)).toStrictEqual({
      p: Math.fround(0.1),
      q: -3.25,
      r: 1e6,
    });
  });
});
