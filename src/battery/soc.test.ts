import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cellVoltageAtSoc, ocvCurve } from "./chemistry.js";
import { SocEstimator, type SocSample, socSnapshotSchema } from "./soc.js";

const curve = ocvCurve("nmc");
const CELLS = 4;
const cellsAt = (soc: number, offsetV = 0) =>
  Array.from({ length: CELLS }, () => cellVoltageAtSoc(curve, soc) + offsetV);

function estimator() {
  return new SocEstimator({ curve, restCurrentA: 0.5, restS: 600 });
}

function sample(p: Partial<SocSample> & { tMs: number }): SocSample {
  return { currentA: 0, cells: cellsAt(50), netAh: 0, gap: false, capacityAh: 10, ...p };
}

describe("SocEstimator", () => {
  it("starts from the OCV curve, uncalibrated, with low confidence", () => {
    const r = estimator().update(sample({ tMs: 0, cells: cellsAt(60) }));
    expect(r.socPercent).toBeCloseTo(60, 6);
    expect(r.method).toBe("ocv");
    expect(r.calibrated).toBe(false);
    expect(r.confidence).toBe(0.5);
    expect(r.anchor?.kind).toBe("initial");
  });

  it("counts charge against the capacity between anchors", () => {
    const e = estimator();
    e.update(sample({ tMs: 0, cells: cellsAt(60) }));
    const r = e.update(sample({ tMs: 1000, currentA: -10, netAh: -2, cells: cellsAt(60, -0.05) }));
    expect(r.socPercent).toBeCloseTo(40, 6);
    expect(r.method).toBe("coulomb");
    const g = e.update(sample({ tMs: 2000, currentA: -10, netAh: -3, gap: true, cells: cellsAt(60, -0.05) }));
    expect(g.socPercent).toBeCloseTo(40, 6); // across a gap nothing is counted
  });

  it("re-anchors from OCV only after the rest time, once the voltage stopped relaxing", () => {
    const e = estimator();
    e.update(sample({ tMs: 0, cells: cellsAt(80) }));
    // Discharge counted as 30 % but the cells say 45 %: the counting was off.
    e.update(sample({ tMs: 1000, currentA: -10, netAh: -3, cells: cellsAt(45, -0.05) }));
    let t = 2000;
    let r = e.update(sample({ tMs: t, netAh: -3, cells: cellsAt(45, -0.02) }));
    expect(r.socPercent).toBeCloseTo(50, 6);
    // Relaxing: 10 mV over 9 minutes, then flat.
    for (; t <= 2000 + 540_000; t += 10_000) {
      const relax = -0.01 * Math.max(0, 1 - (t - 2000) / 540_000);
      r = e.update(sample({ tMs: t, netAh: -3, cells: cellsAt(45, relax) }));
    }
    expect(r.calibrated).toBe(false);
    expect(r.socPercent).toBeCloseTo(50, 6);
    for (; t <= 2000 + 660_000; t += 10_000) r = e.update(sample({ tMs: t, netAh: -3, cells: cellsAt(45) }));
    expect(r.calibrated).toBe(true);
    expect(r.method).toBe("ocv");
    expect(r.socPercent).toBeCloseTo(45, 6);
    expect(r.anchor?.kind).toBe("rest");
    expect(r.confidence).toBe(0.95);
  });

  it("a voltage still moving at the end of the rest time delays the anchor", () => {
    const e = estimator();
    let r = e.update(sample({ tMs: 0, cells: cellsAt(50) }));
    for (let t = 0; t <= 900_000; t += 10_000) {
      r = e.update(sample({ tMs: t, cells: cellsAt(50, 0.00005 * (t / 1000)) })); // 3 mV per minute
    }
    expect(r.calibrated).toBe(false);
  });

  it("sets 100 % at the end of a charge: a cell at the end-of-charge voltage, current tapered", () => {
    const e = estimator();
    e.update(sample({ tMs: 0, currentA: 5, cells: cellsAt(70, 0.04) }));
    const charging = e.update(sample({ tMs: 1000, currentA: 5, netAh: 1, cells: cellsAt(99, 0.04) }));
    expect(charging.calibrated).toBe(false); // 5 A is no taper (C/20 = 0.5 A here)
    const full = e.update(sample({ tMs: 2000, currentA: 0.4, netAh: 1.1, cells: cellsAt(98) }));
    expect(full.socPercent).toBe(100);
    expect(full.calibrated).toBe(true);
    expect(full.anchor?.kind).toBe("full");
    expect(full.confidence).toBe(1);
    expect(full.anchoredNow).toBe(true);
  });

  it("a stop in the middle of a ride is no end of charge, even with one cell high", () => {
    const e = estimator();
    const high = [...cellsAt(90), 4.18].slice(1);
    e.update(sample({ tMs: 0, currentA: -10, cells: cellsAt(92) }));
    e.update(sample({ tMs: 40_000, currentA: -10, netAh: -0.11, cells: cellsAt(91) }));
    const stop = e.update(sample({ tMs: 41_000, currentA: 0, netAh: -0.11, cells: high }));
    expect(stop.calibrated).toBe(false);
    e.update(sample({ tMs: 42_000, currentA: 3, netAh: -0.11, cells: high }));
    e.update(sample({ tMs: 80_000, currentA: 3, netAh: -0.08, cells: high }));
    const charged = e.update(sample({ tMs: 81_000, currentA: 0.3, netAh: -0.08, cells: high }));
    expect(charged.anchor?.kind).toBe("full");
  });

  it("anchor episodes count up each time anchoring starts again", () => {
    const e = estimator();
    const a = e.update(sample({ tMs: 0, currentA: 0.2, cells: cellsAt(99) }));
    const b = e.update(sample({ tMs: 1000, currentA: 0.2, cells: cellsAt(99) }));
    e.update(sample({ tMs: 2000, currentA: -10, netAh: -1, cells: cellsAt(90) }));
    const c = e.update(sample({ tMs: 3000, currentA: 0.2, netAh: -1, cells: cellsAt(99) }));
    expect([a.anchor?.episode, b.anchor?.episode, c.anchor?.episode]).toEqual([1, 1, 2]);
  });

  it("confidence falls with the charge counted since the anchor", () => {
    const e = estimator();
    e.update(sample({ tMs: 0, currentA: 0.2, cells: cellsAt(99) }));
    const r = e.update(sample({ tMs: 1000, currentA: -10, netAh: -5, cells: cellsAt(50) }));
    expect(r.confidence).toBeCloseTo(0.9, 9); // 5 Ah of a 10 Ah pack: 1 − 0.2 × 0.5
  });

  it("snapshot round-trips through JSON", () => {
    const e = estimator();
    e.update(sample({ tMs: 0, currentA: 0.2, cells: cellsAt(99) }));
    e.update(sample({ tMs: 1000, currentA: -10, netAh: -2, cells: cellsAt(70) }));
    const snap = socSnapshotSchema.parse(JSON.parse(JSON.stringify(e.snapshot())));
    const f = new SocEstimator({ curve, restCurrentA: 0.5, restS: 600 }, snap);
    const s = sample({ tMs: 2000, currentA: -10, netAh: -3, cells: cellsAt(70) });
    expect(f.update(s)).toEqual(e.update(s));
  });

  it("stays within 0–100 % whatever is counted (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dAh: fc.double({ min: -30, max: 30, noNaN: true }),
            soc: fc.double({ min: 0, max: 100 }),
          }),
          {
            maxLength: 50,
          },
        ),
        (steps) => {
          const e = estimator();
          let net = 0;
          steps.forEach((s, k) => {
            net += s.dAh;
            const r = e.update(
              sample({ tMs: k * 1000, currentA: s.dAh * 10, netAh: net, cells: cellsAt(s.soc) }),
            );
            if (r.socPercent !== null) {
              expect(r.socPercent).toBeGreaterThanOrEqual(0);
              expect(r.socPercent).toBeLessThanOrEqual(100);
            }
            expect(r.confidence).toBeGreaterThanOrEqual(0);
            expect(r.confidence).toBeLessThanOrEqual(1);
          });
        },
      ),
    );
  });
});
