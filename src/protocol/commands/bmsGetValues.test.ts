import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixtureFrame, fixtureRequests, hex } from "../../../test/helpers/hex.js";
import type { BmsValues } from "../../model/reading.js";
import { cellStats } from "../cellStats.js";
import { isProtocolError } from "../errors.js";
import { FrameDecoder } from "../frame.js";
import { bmsGetValues, decodeBmsValues, encodeBmsValuesResponse } from "./bmsGetValues.js";

function realPayload(): Uint8Array {
  const [event] = new FrameDecoder().push(fixtureFrame("bmsGetValues-express-fw65-20s.hex"));
  if (event?.kind !== "frame") throw new Error("fixture is not a frame");
  return event.payload;
}

const scaled = (min: number, max: number, scale: number) =>
  fc.integer({ min: Math.ceil(min * scale), max: Math.floor(max * scale) }).map((n) => n / scale);

const fullArb: fc.Arbitrary<BmsValues> = fc.integer({ min: 0, max: 32 }).chain((n) =>
  fc.record({
    packVoltage: scaled(0, 200, 1e6),
    chargeVoltage: scaled(0, 200, 1e6),
    current: scaled(-500, 500, 1e6),
    currentIc: scaled(-500, 500, 1e6),
    ampHours: scaled(-1000, 1000, 1e3),
    wattHours: scaled(-1000, 1000, 1e3),
    cells: fc.array(scaled(0, 5, 1e3), { minLength: n, maxLength: n }),
    balancing: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    temperatures: fc.array(scaled(-40, 120, 1e2), { maxLength: 24 }),
    icTemperature: scaled(-40, 120, 1e2),
    humidityTemperature: scaled(-40, 120, 1e2),
    humidity: scaled(0, 100, 1e2),
    maxCellTemperature: scaled(-40, 120, 1e2),
    soc: scaled(0, 100, 10),
    soh: scaled(0, 100, 10),
    canId: fc.integer({ min: 0, max: 255 }),
    ampHoursChargedTotal: fc
      .float({ noNaN: true, noDefaultInfinity: true, min: 0, max: Math.fround(1e7) })
      .map(Math.fround),
    wattHoursChargedTotal: fc
      .float({ noNaN: true, noDefaultInfinity: true, min: 0, max: Math.fround(1e7) })
      .map(Math.fround),
    ampHoursDischargedTotal: fc
      .float({ noNaN: true, noDefaultInfinity: true, min: 0, max: Math.fround(1e7) })
      .map(Math.fround),
    wattHoursDischargedTotal: fc
      .float({ noNaN: true, noDefaultInfinity: true, min: 0, max: Math.fround(1e7) })
      .map(Math.fround),
    pressure: fc.integer({ min: -32768, max: 32767 }).map((r) => r * 10),
    dataVersion: fc.integer({ min: 0, max: 15 }),
    status: fc.stringMatching(/^[ -~]{0,40}$/),
  }),
);

const TAIL: ReadonlyArray<ReadonlyArray<keyof BmsValues>> = [
  ["soc"],
  ["soh"],
  ["canId"],
  ["ampHoursChargedTotal", "wattHoursChargedTotal", "ampHoursDischargedTotal", "wattHoursDischargedTotal"],
  ["pressure"],
  ["dataVersion"],
  ["status"],
];

// float32_auto flushes |x| < 1.5e-38 to 0; fast-check floats may hit those.
const flushTiny = (v: BmsValues): BmsValues => {
  const out: Record<string, unknown> = { ...v };
  for (const k of TAIL[3] ?? []) {
    const x = out[k];
    if (typeof x === "number" && Math.abs(x) < 1.5e-38) out[k] = 0;
  }
  return out as unknown as BmsValues;
};

describe("COMM_BMS_GET_VALUES", () => {
  it("decodes the real 20S reply from a VESC Express fw 6.05 to the stated values", () => {
    const bms = decodeBmsValues(realPayload());
    expect(bms.packVoltage).toBeCloseTo(83.607992, 9);
    expect(bms.chargeVoltage).toBe(84);
    expect(bms.current).toBe(0);
    expect(bms.currentIc).toBeCloseTo(0.153749, 9);
    expect(bms.ampHours).toBe(0);
    expect(bms.wattHours).toBe(0);
    expect(bms.cells).toEqual([
      4.176, 4.178, 4.178, 4.182, 4.184, 4.18, 4.18, 4.18, 4.18, 4.18, 4.18, 4.182, 4.18, 4.182, 4.182, 4.18,
      4.182, 4.18, 4.182, 4.18,
    ]);
    const balancingCells = bms.balancing.flatMap((b, i) => (b ? [i + 1] : []));
    expect(balancingCells).toEqual([4, 5, 12, 14, 15, 17, 19]);
    expect(bms.temperatures).toEqual([27.49, 26.54, 26.32, 99, ...new Array(20).fill(0)]);
    expect(bms.icTemperature).toBe(38.45);
    expect(bms.humidityTemperature).toBe(0);
    expect(bms.humidity).toBe(0);
    expect(bms.maxCellTemperature).toBe(0);
    expect(bms.soc).toBe(0);
    expect(bms.soh).toBe(0);
    expect(bms.canId).toBe(255);
    expect(bms.ampHoursChargedTotal).toBe(0);
    expect(bms.wattHoursChargedTotal).toBe(0);
    expect(bms.ampHoursDischargedTotal).toBe(0);
    expect(bms.wattHoursDischargedTotal).toBe(0);
    expect(bms.pressure).toBe(0);
    // firmware 6.05 stops after pressure: undefined, never invented, and left out of JSON
    expect(bms.dataVersion).toBeUndefined();
    expect(bms.status).toBeUndefined();
    const json = JSON.parse(JSON.stringify(bms)) as Record<string, unknown>;
    expect(Object.keys(json)).not.toContain("dataVersion");
    expect(Object.keys(json)).not.toContain("status");
    expect(json.pressure).toBe(0);
    expect(cellStats(bms.cells)).toEqual({
      cellMin: 4.176,
      cellMinNumber: 1,
      cellMax: 4.184,
      cellMaxNumber: 5,
      cellAverage: 4.1804,
      cellDelta: 0.008,
    });
  });

  it("re-encodes the real reply byte for byte", () => {
    const payload = realPayload();
    expect(encodeBmsValuesResponse(decodeBmsValues(payload))).toEqual(payload);
  });

  it("encodes the request VESC Tool sends", () => {
    expect(fixtureRequests().get("BMS_GET_VALUES")?.subarray(2, 3)).toEqual(bmsGetValues.encodeRequest());
  });

  it("round-trips any reply and every old-firmware cut of the optional tail", () => {
    fc.assert(
      fc.property(fullArb, fc.integer({ min: 0, max: TAIL.length }), (full, keep) => {
        const cut: Record<string, unknown> = { ...flushTiny(full) };
        for (const fields of TAIL.slice(keep)) for (const f of fields) delete cut[f];
        const v = cut as unknown as BmsValues;
        expect(decodeBmsValues(encodeBmsValuesResponse(v))).toEqual(v);
      }),
    );
  });

  it("gives every reply the same keys, in wire order, whichever firmware cut the tail", () => {
    // One shape for all replies keeps property access monomorphic downstream; absent tail
    // fields are undefined (and so left out of JSON), never missing keys or invented values.
    const keyOrder = [
      "packVoltage",
      "chargeVoltage",
      "current",
      "currentIc",
      "ampHours",
      "wattHours",
      "cells",
      "balancing",
      "temperatures",
      "icTemperature",
      "humidityTemperature",
      "humidity",
      "maxCellTemperature",
      ...TAIL.flat(),
    ];
    fc.assert(
      fc.property(fullArb, fc.integer({ min: 0, max: TAIL.length }), (full, keep) => {
        const cut: Record<string, unknown> = { ...full };
        for (const fields of TAIL.slice(keep)) for (const f of fields) delete cut[f];
        const decoded = decodeBmsValues(encodeBmsValuesResponse(cut as unknown as BmsValues));
        expect(Object.keys(decoded)).toEqual(keyOrder);
        const json = Object.keys(JSON.parse(JSON.stringify(decoded)) as object);
        expect(json).toEqual(keyOrder.filter((k) => k in cut));
      }),
    );
  });

  const malformed: Array<[string, Uint8Array]> = [
    ["a 0x60 reply of 3 bytes", hex("60 04 fb")],
    ["only the id", hex("60")],
    [
      "a cell count promising more bytes than present",
      (() => {
        const p = realPayload().slice(0, 60);
        return p;
      })(),
    ],
    ["cell count 20 but the payload ends after the cells", realPayload().slice(0, 1 + 24 + 1 + 40)],
    ["the mandatory part cut before temp_max_cell", realPayload().slice(0, realPayload().length - 28)],
  ];
  for (const [what, payload] of malformed) {
    it(`rejects ${what} with ProtocolError, never numbers`, () => {
      let thrown: unknown;
      try {
        decodeBmsValues(payload);
      } catch (e) {
        thrown = e;
      }
      expect(isProtocolError(thrown)).toBe(true);
      expect(isProtocolError(thrown) && thrown.code).toBe("Truncated");
    });
  }

  it("decodes a reply with more cells than the Express stores (51 cells, mandatory part only)", () => {
    // The Express copies counts from CAN unclamped; VESC Tool reads whatever count arrives.
    const payload = hex(
      `60 ${"00 ".repeat(24)} 33 ${"0e 74 ".repeat(51)} ${"00 ".repeat(51)} 00 ${"00 ".repeat(8)}`,
    );
    expect(payload.length).toBe(188);
    const bms = decodeBmsValues(payload);
    expect(bms.cells).toEqual(new Array(51).fill(3.7));
    expect(bms.balancing).toEqual(new Array(51).fill(false));
    expect(bms.temperatures).toEqual([]);
    expect(bms.soc).toBeUndefined();
    expect(encodeBmsValuesResponse(bms)).toEqual(payload);
  });

  it("decodes the 51-cell reply with its whole tail", () => {
    const payload = hex(
      `60 ${"00 ".repeat(24)} 33 ${"0e 74 ".repeat(51)} ${"00 ".repeat(51)} 00 ${"00 ".repeat(32)} 00 00`,
    );
    const bms = decodeBmsValues(payload);
    expect(bms.cells).toHaveLength(51);
    expect(bms.pressure).toBe(0);
    expect(bms.dataVersion).toBe(0);
    expect(bms.status).toBe("");
  });

  it("decodes 60 cells and 60 sensors when the bytes hold them", () => {
    const v = decodeBmsValues(realPayload());
    const big: BmsValues = {
      ...v,
      cells: new Array(60).fill(3.3),
      balancing: new Array(60).fill(true),
      temperatures: new Array(60).fill(21.5),
    };
    expect(decodeBmsValues(encodeBmsValuesResponse(big))).toEqual(big);
  });

  it("still rejects a cell count the payload cannot hold (255 cells) as Truncated", () => {
    const p = realPayload();
    p[25] = 255;
    expect(() => decodeBmsValues(p)).toThrowError(/255 cells need 766 more bytes/);
  });

  it("rejects a sensor count the payload cannot hold as Truncated", () => {
    const p = realPayload();
    const tempCountAt = 1 + 24 + 1 + 20 * 3;
    expect(p[tempCountAt]).toBe(24);
    p[tempCountAt] = 200;
    expect(() => decodeBmsValues(p)).toThrowError(/200 sensors need 408 more bytes/);
  });

  it("decodes every truncation of the real payload to a ProtocolError or a value, nothing else", () => {
    const p = realPayload();
    for (let n = 0; n <= p.length; n++) {
      try {
        const v = decodeBmsValues(p.subarray(0, n));
        expect(v.cells).toHaveLength(20);
        for (const x of [v.packVoltage, ...v.cells, ...v.temperatures]) expect(Number.isFinite(x)).toBe(true);
      } catch (e) {
        expect(isProtocolError(e)).toBe(true);
      }
    }
  });
});
