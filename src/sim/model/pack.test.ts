import { describe, expect, it } from "vitest";
import { SimDevice } from "../device.js";
import { CAPTURED_TEMP_SLOTS } from "./capturedExpress.js";
import { ocv } from "./ocv.js";
import { PackModel } from "./pack.js";

describe("PackModel (ground truth for the battery estimates)", () => {
  it("has one weak cell: less capacity, more resistance", () => {
    const p = new PackModel({ seed: 7, weakCell: 5 });
    const t = p.truth();
    expect(t.weakestCell).toBe(5);
    const caps = t.cellCapacityAh.filter((_, i) => i !== 4);
    const rs = t.cellResistanceOhm.filter((_, i) => i !== 4);
    expect(t.cellCapacityAh[4]).toBeLessThan(Math.min(...caps) * 0.9);
    expect(t.cellResistanceOhm[4]).toBeGreaterThan(Math.max(...rs) * 1.4);
  });

  it("charges CC then CV and stops at C/20 near full; the charge counted equals the SOC gained", () => {
    const p = new PackModel({ seed: 1, startSoc: 0.3 });
    p.run([{ kind: "charge" }]);
    const before = p.truth();
    let t = 0;
    let peak = 0;
    while (!p.done && t < 6 * 3600_000) {
      t += 1000;
      p.advanceTo(t);
      peak = Math.max(peak, p.truth().currentA);
    }
    const after = p.truth();
    expect(p.done).toBe(true);
    expect(peak).toBeCloseTo(4.8, 6); // 0.4 C of 12 Ah
    expect(after.socPercent).toBeGreaterThan(97);
    expect(after.socPercent).toBeLessThan(100.5);
    const gained = after.cellSocPercent.map(
      (s, i) => ((s - (before.cellSocPercent[i] as number)) / 100) * (after.cellCapacityAh[i] as number),
    );
    for (const ah of gained) expect(ah).toBeCloseTo(after.ahCharged, 9);
    expect(after.ahDischarged).toBe(0);
  });

  it("after a current step the cell voltage jumps by I·R0 at once, then relaxes over minutes", () => {
    const p = new PackModel({ seed: 3, startSoc: 0.6, cells: 4 });
    p.run([
      { kind: "discharge", currentA: 10, seconds: 600 },
      { kind: "rest", seconds: 1200 },
    ]);
    const loaded = p.record(600_000).vCell[0] as number;
    const justAfter = p.record(601_000).vCell[0] as number;
    const later = p.record(1_800_000).vCell[0] as number;
    const t = p.truth();
    const r0 = t.cellResistanceOhm[0] as number;
    expect(justAfter - loaded).toBeGreaterThan(10 * r0 * 0.95);
    expect(later - justAfter).toBeGreaterThan(0.01); // polarisation relaxing
    expect(Math.abs(later - ocv((t.cellSocPercent[0] as number) / 100))).toBeLessThan(0.001);
  });

  it("a ride is a series of current steps between −30 A and +6 A", () => {
    const p = new PackModel({ seed: 4, startSoc: 0.9 });
    p.run([{ kind: "ride", seconds: 1800 }]);
    const currents = new Set<number>();
    let steps = 0;
    let prev = 0;
    for (let t = 1000; t <= 1_800_000; t += 1000) {
      const i = p.record(t).iInIc;
      if (Math.abs(i - prev) >= 2) steps++;
      prev = i;
      currents.add(Math.round(i));
      expect(i).toBeGreaterThanOrEqual(-30);
      expect(i).toBeLessThanOrEqual(6);
    }
    expect(steps).toBeGreaterThan(60);
    expect([...currents].some((i) => i > 0)).toBe(true);
    expect(p.truth().whDischarged).toBeGreaterThan(p.truth().whCharged);
  });

  it("express-6.05 profile: SOC, totals and i_in 0 like the real device, i_in_ic the true current", () => {
    const p = new PackModel({ seed: 5, startSoc: 0.5 });
    p.run([{ kind: "discharge", currentA: 12, seconds: 60 }]);
    const r = p.record(30_000, "express-6.05");
    expect(r.iIn).toBe(0);
    expect(r.soc).toBe(0);
    expect([r.ahCntChgTotal, r.whCntChgTotal, r.ahCntDisTotal, r.whCntDisTotal]).toEqual([0, 0, 0, 0]);
    expect(r.tempsAdc).toHaveLength(CAPTURED_TEMP_SLOTS);
    expect(Math.abs(r.iInIc - -12)).toBeLessThan(0.006);
    const m = p.record(30_000, "model");
    expect(m.soc).toBeCloseTo(p.truth().socPercent / 100, 9);
    expect(m.ahCntDisTotal).toBeCloseTo(p.truth().ahDischarged, 12);
  });

  it("is deterministic for a seed", () => {
    const run = () => {
      const p = new PackModel({ seed: 9 });
      p.run([{ kind: "ride", seconds: 300 }]);
      return p.record(300_000);
    };
    expect(run()).toEqual(run());
  });

  it("drives a SimDevice's BMS replies when given as its pack; the truth stays readable", () => {
    let now = 1_000_000;
    const pack = new PackModel({ seed: 11, startSoc: 0.6, cells: 16, now });
    pack.run([{ kind: "discharge", currentA: 8, seconds: 120 }]);
    const device = new SimDevice({ seed: 11, clock: () => now, profile: "express-6.05", pack });
    now += 60_000;
    const v = device.bmsValues();
    expect(device.cells).toBe(16);
    expect(v.cells).toHaveLength(16);
    expect(v.soc).toBe(0);
    expect(v.current).toBe(0);
    expect(Math.abs(v.currentIc - -8)).toBeLessThan(0.006);
    expect(device.pack?.truth().ahDischarged).toBeCloseTo((8 * 60) / 3600, 9);
    const model = new SimDevice({ seed: 11, clock: () => now, pack });
    expect(model.bmsValues().soc).toBeCloseTo(pack.truth().socPercent, 0);
  });
});
