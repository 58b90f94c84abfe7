import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cellSocs,
  cellVoltageAtSoc,
  ocvCurve,
  OcvCurveError,
  packSocFromCells,
  socFromCellVoltage,
} from "./chemistry.js";

describe("OCV curves", () => {
  it("NMC by default: 3.0 V empty, 4.2 V full, end of charge at the 97 % OCV", () => {
    const c = ocvCurve();
    expect(c.chemistry).toBe("nmc");
    expect(c.emptyCellV).toBe(3.0);
    expect(c.fullCellV).toBe(4.2);
    expect(c.endOfChargeCellV).toBeCloseTo(4.09 + 0.7 * 0.11, 6);
  });

  it("interpolates between points and clamps at the ends", () => {
    const c = ocvCurve("nmc");
    expect(socFromCellVoltage(c, 3.75)).toBeCloseTo(45, 6);
    expect(socFromCellVoltage(c, 4.19)).toBeCloseTo(90 + (10 * 0.1) / 0.11, 6);
    expect(socFromCellVoltage(c, 2.5)).toBe(0);
    expect(socFromCellVoltage(c, 4.35)).toBe(100);
  });

  it("LFP and LTO sit in their own voltage ranges", () => {
    expect(socFromCellVoltage(ocvCurve("lfp"), 3.31)).toBeCloseTo(50, 6);
    expect(socFromCellVoltage(ocvCurve("lto"), 2.35)).toBeCloseTo(50, 6);
    expect(ocvCurve("lfp").fullCellV).toBe(3.6);
  });

  it("custom needs points and checks them", () => {
    expect(() => ocvCurve("custom")).toThrow(OcvCurveError);
    expect(() => ocvCurve("custom", [[0, 3]])).toThrow(/at least 2/);
    expect(() =>
      ocvCurve("custom", [
        [0, 3],
        [50, 2.9],
      ]),
    ).toThrow(/volts must rise/);
    expect(() =>
      ocvCurve("custom", [
        [0, 3],
        [120, 4],
      ]),
    ).toThrow(/0–100/);
    const c = ocvCurve("custom", [
      [0, 3],
      [100, 4],
    ]);
    expect(socFromCellVoltage(c, 3.5)).toBeCloseTo(50, 9);
  });

  it("voltage → SOC → voltage round-trips on every chemistry (property)", () => {
    for (const chem of ["nmc", "lfp", "lto"] as const) {
      const c = ocvCurve(chem);
      fc.assert(
        fc.property(fc.double({ min: 0, max: 100, noNaN: true }), (soc) => {
          expect(socFromCellVoltage(c, cellVoltageAtSoc(c, soc))).toBeCloseTo(soc, 6);
        }),
      );
    }
  });

  it("SOC is monotonic in voltage and stays within 0–100 (property)", () => {
    const c = ocvCurve("nmc");
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 6, noNaN: true }),
        fc.double({ min: 0, max: 6, noNaN: true }),
        (a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const sLo = socFromCellVoltage(c, lo);
          const sHi = socFromCellVoltage(c, hi);
          expect(sLo).toBeLessThanOrEqual(sHi);
          expect(sLo).toBeGreaterThanOrEqual(0);
          expect(sHi).toBeLessThanOrEqual(100);
        },
      ),
    );
  });

  it("per-cell SOC removes I·R when the resistance is known; the pack SOC is the mean", () => {
    const c = ocvCurve("nmc");
    const socs = cellSocs(c, [3.78 + 10 * 0.01, null, 3.72], 10, [0.01, 0.01, 0]);
    expect(socs[0]).toBeCloseTo(50, 6);
    expect(socs[1]).toBeNull();
    expect(socs[2]).toBeCloseTo(40, 6);
    expect(packSocFromCells(socs)).toBeCloseTo(45, 6);
    expect(packSocFromCells([null])).toBeNull();
  });
});
