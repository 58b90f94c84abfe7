import { describe, expect, it } from "vitest";
import {
  CellHealth,
  cellHealthSnapshotSchema,
  driftingCells,
  highResistanceCells,
  weakestCell,
} from "./cellHealth.js";

const R = [0.008, 0.008, 0.012, 0.008];

/** Cells at 3.8 V + I·R_i + a small deterministic wobble, quantised to 1 mV like the wire. */
function cellsAt(i: number, k: number, rs = R, offsets = [0, 0, 0, 0]): number[] {
  return rs.map(
    (r, c) => Math.round((3.8 + i * r + (offsets[c] ?? 0) + 0.0004 * Math.sin(k * 7 + c)) * 1000) / 1000,
  );
}

describe("CellHealth: internal resistance", () => {
  it("finds each cell's resistance from ΔV/ΔI on steps, within 5 %", () => {
    const h = new CellHealth({ restCurrentA: 0.5 });
    for (let k = 0; k < 200; k++) {
      const i = k % 2 === 0 ? -5 : -15 - (k % 7);
      h.update(k * 1000, i, cellsAt(i, k));
    }
    const r = h.resistanceOhm(4);
    r.forEach((v, c) => {
      expect(Math.abs((v as number) / (R[c] as number) - 1)).toBeLessThan(0.05);
    });
  });

  it("ignores small steps and readings too far apart", () => {
    const h = new CellHealth({ restCurrentA: 0.5 });
    for (let k = 0; k < 50; k++) h.update(k * 1000, -5 - (k % 2), cellsAt(-5 - (k % 2), k)); // |ΔI| 1 A
    for (let k = 0; k < 50; k++)
      h.update(100_000 + k * 10_000, k % 2 ? -5 : -15, cellsAt(k % 2 ? -5 : -15, k));
    expect(h.resistanceSteps(4)).toEqual([0, 0, 0, 0]);
    expect(h.resistanceOhm(4)).toEqual([null, null, null, null]);
  });

  it("a reading glitch does not move the median", () => {
    const h = new CellHealth({ restCurrentA: 0.5 });
    for (let k = 0; k < 100; k++) {
      const i = k % 2 ? -5 : -15;
      const cells = cellsAt(i, k);
      if (k % 10 === 0) cells[0] = (cells[0] as number) + 0.05; // a 50 mV spike now and then
      h.update(k * 1000, i, cells);
    }
    expect(Math.abs((h.resistanceOhm(4)[0] as number) / 0.008 - 1)).toBeLessThan(0.05);
  });

  it("keeps the first settled value as the baseline and alerts when it rises 30 %", () => {
    const h = new CellHealth({ restCurrentA: 0.5, maxSamples: 60 });
    const young = [0.008, 0.008, 0.008, 0.008];
    let k = 0;
    for (; k < 60; k++) h.update(k * 1000, k % 2 ? -5 : -15, cellsAt(k % 2 ? -5 : -15, k, young));
    const baseline = h.baselineOhm(4);
    expect(baseline[2]).toBeCloseTo(0.008, 3);
    expect(highResistanceCells(h.resistanceOhm(4), baseline)).toEqual([]);
    // 1.35× its baseline, but still under 1.5× the others: only the rise alerts.
    const aged = [0.008, 0.008, 0.0108, 0.008];
    for (; k < 200; k++) h.update(k * 1000, k % 2 ? -5 : -15, cellsAt(k % 2 ? -5 : -15, k, aged));
    expect(highResistanceCells(h.resistanceOhm(4), h.baselineOhm(4))).toEqual([3]);
    expect(highResistanceCells(h.resistanceOhm(4), [])).toEqual([]);
  });
});

describe("CellHealth: imbalance trend", () => {
  it("averages each cell's deviation at rest and reports its drift per day", () => {
    const h = new CellHealth({ restCurrentA: 0.5, driftTauS: 600, trendEveryS: 600 });
    const DAY = 86_400_000;
    for (let t = 0; t <= 2 * DAY; t += 60_000) {
      const leak = -0.01 * (t / DAY); // cell 4 loses 10 mV a day against the others
      h.update(t, 0.1, cellsAt(0.1, t / 60_000, R, [0, 0, 0, leak]));
      if (t % (10 * 60_000) === 0) h.update(t + 1000, -20, cellsAt(-20, 0)); // loaded readings are ignored
    }
    const drift = h.driftV(4);
    const rate = h.driftRateVPerDay(4);
    // Cell 4 sits 20 mV low after two days, the other three share the mean's 5 mV shift.
    expect(drift[3]).toBeCloseTo(-0.015, 2);
    expect(rate[3]).toBeCloseTo(-0.0075, 3);
    expect(driftingCells(drift, rate)).toEqual([4]);
    const snap = cellHealthSnapshotSchema.parse(JSON.parse(JSON.stringify(h.snapshot())));
    expect(new CellHealth({ restCurrentA: 0.5 }, snap).driftRateVPerDay(4)).toEqual(rate);
  });

  it("no trend before six hours of history", () => {
    const h = new CellHealth({ restCurrentA: 0.5, trendEveryS: 600 });
    for (let t = 0; t < 3 * 3600_000; t += 60_000) h.update(t, 0, cellsAt(0, t));
    expect(h.driftRateVPerDay(4)).toEqual([null, null, null, null]);
  });
});

describe("predicates", () => {
  it("weakestCell: highest resistance and lowest capacity relative to the others", () => {
    expect(weakestCell([0.008, 0.008, 0.0125, 0.008], [12, 12, 10.5, 12])?.cell).toBe(3);
    expect(weakestCell([0.008, 0.0081, 0.008], [])).toBeNull(); // 1 %: nothing stands out
    const byCapacity = weakestCell([null, null, null], [12, 10, 12]);
    expect(byCapacity).toEqual({ cell: 2, resistanceRatio: null, capacityRatio: 1.2 });
  });

  it("driftingCells: far out, or moving away fast; a cell coming back is not drifting", () => {
    expect(driftingCells([0.001, -0.035, 0.012, -0.012], [0, 0, 0.006, 0.006])).toEqual([2, 3]);
  });

  it("highResistanceCells: 1.5× the others' median", () => {
    expect(highResistanceCells([0.008, 0.008, 0.0121, 0.008], [])).toEqual([3]);
    expect(highResistanceCells([0.008, 0.008, 0.0119, 0.008], [])).toEqual([]);
  });
});
