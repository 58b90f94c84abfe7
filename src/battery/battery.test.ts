import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toBmsReading } from "../model/bmsReading.js";
import type { BmsReading, BmsValues } from "../model/reading.js";
import { BatteryEstimator, BatterySnapshotError } from "./battery.js";
import { cellVoltageAtSoc, ocvCurve } from "./chemistry.js";

const nmc = ocvCurve("nmc");

function reading(o: {
  soc?: number;
  current: number;
  cellSoc: number;
  cells?: number;
  bmsSoc?: number;
}): BmsReading {
  const n = o.cells ?? 4;
  const cells = Array.from(
    { length: n },
    (_, i) => cellVoltageAtSoc(nmc, o.cellSoc) + o.current * 0.01 * (i === 2 ? 1.5 : 1),
  );
  const v: BmsValues = {
    packVoltage: cells.reduce((a, b) => a + b, 0),
    chargeVoltage: 0,
    current: 0,
    currentIc: o.current,
    ampHours: 0,
    wattHours: 0,
    cells,
    balancing: cells.map(() => false),
    temperatures: [25],
    icTemperature: 30,
    humidityTemperature: 0,
    humidity: 0,
    maxCellTemperature: 0,
    soc: o.bmsSoc ?? 0,
    soh: 0,
    ampHoursChargedTotal: 0,
    wattHoursChargedTotal: 0,
    ampHoursDischargedTotal: 0,
    wattHoursDischargedTotal: 0,
  };
  return toBmsReading(v);
}

describe("BatteryEstimator", () => {
  it("publishes its own SOC when the BMS reports 0, the BMS's beside its own otherwise", () => {
    const e = new BatteryEstimator({ config: { capacityAh: 10 } });
    const own = e.update(0, reading({ current: 0, cellSoc: 60 }));
    expect(own.socSource).toBe("estimate");
    expect(own.socPercent).toBeCloseTo(60, 6);
    expect(own.bmsSocPercent).toBeNull();
    const bms = e.update(1000, reading({ current: 0, cellSoc: 60, bmsSoc: 55 }));
    expect(bms.socSource).toBe("bms");
    expect(bms.socPercent).toBe(55);
    expect(bms.socEstimatePercent).toBeCloseTo(60, 6);
  });

  it("counts energy from packCurrent (i_in_ic when i_in is 0), with cycles and runtime", () => {
    const e = new BatteryEstimator({ config: { capacityAh: 10 }, intervalMs: 1000 });
    let est = e.update(0, reading({ current: -10, cellSoc: 80 }));
    for (let t = 1000; t <= 360_000; t += 1000) est = e.update(t, reading({ current: -10, cellSoc: 80 }));
    expect(est.ahDischarged).toBeCloseTo(1, 9);
    expect(est.ahCharged).toBe(0);
    expect(est.whDischarged).toBeCloseTo(1 * (cellVoltageAtSoc(nmc, 80) * 4 - 0.1 * 4.5), 6);
    expect(est.cycles).toBeCloseTo(0.1, 9);
    expect(est.discharging).toBe(true);
    expect(est.timeToEmptyS).not.toBeNull();
    expect(est.socPercent).toBeCloseTo(est.socEstimatePercent as number, 9);
    expect(est.bmsTotals).toBeNull();
  });

  it("returns a frozen estimate", () => {
    const est = new BatteryEstimator().update(0, reading({ current: 0, cellSoc: 50 }));
    expect(Object.isFrozen(est)).toBe(true);
    expect(Object.isFrozen(est.cellResistanceOhm)).toBe(true);
    expect(Object.isFrozen(est.alerts.driftingCells)).toBe(true);
  });

  it("learns per-cell resistance and names the weakest cell from load steps", () => {
    const e = new BatteryEstimator({ config: { capacityAh: 10 } });
    let est = e.update(0, reading({ current: -5, cellSoc: 70 }));
    for (let k = 1; k < 40; k++)
      est = e.update(k * 1000, reading({ current: k % 2 ? -15 : -5, cellSoc: 70 }));
    expect(est.cellResistanceOhm.map((r) => Math.round((r as number) * 10_000) / 10_000)).toEqual([
      0.01, 0.01, 0.015, 0.01,
    ]);
    expect(est.weakestCell).toBe(3);
  });

  it("snapshot → JSON → restore gives the same next estimate, and the counters carry on", () => {
    const opts = { config: { capacityAh: 10 }, intervalMs: 1000 };
    const a = new BatteryEstimator(opts);
    for (let k = 0; k < 30; k++) a.update(k * 1000, reading({ current: k % 2 ? -15 : -5, cellSoc: 70 }));
    const b = BatteryEstimator.restore(opts, JSON.parse(JSON.stringify(a.snapshot())));
    const next = reading({ current: -10, cellSoc: 70 });
    const ea = a.update(30_000, next);
    const eb = b.update(30_000, next);
    expect(eb).toEqual(ea);
    expect(eb.ahDischarged).toBeGreaterThan(0);
  });

  it("a restore after a long stop does not bridge the stop", () => {
    const opts = { config: { capacityAh: 10 }, intervalMs: 1000 };
    const a = new BatteryEstimator(opts);
    a.update(0, reading({ current: -10, cellSoc: 70 }));
    const before = a.update(1000, reading({ current: -10, cellSoc: 70 }));
    const b = BatteryEstimator.restore(opts, a.snapshot());
    const after = b.update(3_600_000, reading({ current: -10, cellSoc: 70 }));
    expect(after.ahDischarged).toBe(before.ahDischarged);
  });

  it("a corrupt snapshot is a typed error naming the field", () => {
    const snap = JSON.parse(JSON.stringify(new BatteryEstimator().snapshot()));
    snap.counters.totals.whCharged = -5;
    expect(() => BatteryEstimator.restore({}, snap)).toThrow(BatterySnapshotError);
    expect(() => BatteryEstimator.restore({}, snap)).toThrow(/counters\.totals\.whCharged/);
    expect(() => BatteryEstimator.restore({}, { version: 2 })).toThrow(BatterySnapshotError);
    expect(() => BatteryEstimator.restore({}, "nope")).toThrow(BatterySnapshotError);
  });

  it("a damaged or unknown-version cell health section starts anew; the counters and capacity survive", () => {
    const opts = { config: { capacityAh: 10 }, intervalMs: 1000 };
    const a = new BatteryEstimator(opts);
    a.update(0, reading({ current: -10, cellSoc: 70 }));
    a.update(1000, reading({ current: -10, cellSoc: 70 }));
    const snap = JSON.parse(JSON.stringify(a.snapshot()));
    snap.cellHealth = { version: 3, whatever: true };
    const told: string[] = [];
    const b = BatteryEstimator.restore(opts, snap, (m) => told.push(m));
    expect(b.snapshot().counters).toEqual(a.snapshot().counters);
    expect(b.snapshot().capacity).toEqual(a.snapshot().capacity);
    expect(b.snapshot().soc).toEqual(a.snapshot().soc);
    expect(b.snapshot().cellHealth).toEqual(new BatteryEstimator(opts).snapshot().cellHealth);
    expect(told).toEqual([
      expect.stringMatching(/^battery state partly restored: cellHealth.*; that section starts anew$/),
    ]);
    // Damaged counters still refuse the whole snapshot.
    snap.counters.totals.whCharged = "x";
    expect(() => BatteryEstimator.restore(opts, snap)).toThrow(/counters\.totals\.whCharged/);
  });

  it("rest current defaults to 0.5 A, or C/50 for a big pack; the config can set it", () => {
    expect(new BatteryEstimator().restCurrentA).toBe(0.5);
    expect(new BatteryEstimator({ config: { capacityAh: 100 } }).restCurrentA).toBe(2);
    expect(new BatteryEstimator({ config: { restCurrentA: 0.2 } }).restCurrentA).toBe(0.2);
  });

  it("counters and cycles never decrease, SOC stays 0–100, nothing is NaN, whatever comes in (property)", () => {
    const step = fc.record({
      dtMs: fc.integer({ min: -2000, max: 120_000 }),
      current: fc.double({ min: -60, max: 30, noNaN: true }),
      cellSoc: fc.double({ min: -10, max: 110, noNaN: true }),
      bmsSoc: fc.constantFrom(0, 0, 42),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), fc.boolean(), (steps, rated) => {
        const e = new BatteryEstimator({ config: rated ? { capacityAh: 10 } : {}, intervalMs: 1000 });
        let t = 0;
        let prev: ReturnType<BatteryEstimator["update"]> | null = null;
        for (const s of steps) {
          t += s.dtMs;
          const est = e.update(t, reading({ current: s.current, cellSoc: s.cellSoc, bmsSoc: s.bmsSoc }));
          for (const k of ["whCharged", "whDischarged", "ahCharged", "ahDischarged", "cycles"] as const) {
            expect(Number.isFinite(est[k])).toBe(true);
            if (prev) expect(est[k]).toBeGreaterThanOrEqual(prev[k]);
          }
          for (const v of [est.socPercent, est.socEstimatePercent]) {
            if (v === null) continue;
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(100);
          }
          expect(est.socConfidence).toBeGreaterThanOrEqual(0);
          expect(est.socConfidence).toBeLessThanOrEqual(1);
          for (const r of est.cellResistanceOhm) if (r !== null) expect(Number.isFinite(r)).toBe(true);
          prev = est;
        }
      }),
      { numRuns: 60 },
    );
  });
});
