import { describe, expect, it } from "vitest";
import { CapacityLearner, capacitySnapshotSchema, CycleCounter } from "./capacity.js";
import type { SocAnchor } from "./soc.js";

const anchor = (episode: number, socPercent: number, netAh: number, cells: number[]): SocAnchor => ({
  kind: socPercent === 100 ? "full" : "rest",
  tMs: episode * 1000,
  socPercent,
  cellSocPercent: cells,
  netAh,
  episode,
});

describe("CapacityLearner", () => {
  it("learns capacity = ΔAh ÷ ΔSOC between two anchors ≥ 40 % apart, and per cell", () => {
    const l = new CapacityLearner({ ratedAh: 12 });
    expect(l.capacityAh()).toBe(12);
    l.observe(anchor(1, 100, 0, [100, 100, 100]));
    l.observe(anchor(1, 100, 0.1, [100, 100, 100])); // same episode: the later sample counts
    expect(l.learnedAh()).toBeNull();
    // 6.6 Ah out (from the episode's last mark at +0.1); the pack fell 60 %, cell 2 fell 70 %.
    l.observe(anchor(2, 40, -6.5, [40, 30, 40]));
    expect(l.learnedAh()).toBeCloseTo(11, 9);
    expect(l.sohPercent()).toBeCloseTo((11 / 12) * 100, 9);
    const cells = l.cellCapacityAh(3);
    expect(cells[0]).toBeCloseTo(11, 9);
    expect(cells[1]).toBeCloseTo(6.6 / 0.7, 9);
  });

  it("ignores small swings, counts of the wrong sign and implausible capacities", () => {
    const l = new CapacityLearner({ ratedAh: 12 });
    l.observe(anchor(1, 80, 0, [80]));
    l.observe(anchor(2, 60, -2.4, [60])); // 20 %: too small
    expect(l.learnedAh()).toBeNull();
    l.observe(anchor(3, 100, -2.4, [100])); // rose 40 % with no charge counted
    expect(l.learnedAh()).toBeNull();
    l.observe(anchor(4, 40, -80, [40])); // 133 Ah for a 12 Ah pack
    expect(l.learnedAh()).toBeNull();
    expect(l.capacityAh()).toBe(12);
  });

  it("without a rating: capacity unknown until learned, SOH unknown", () => {
    const l = new CapacityLearner();
    expect(l.capacityAh()).toBeNull();
    l.observe(anchor(1, 90, 0, [90]));
    l.observe(anchor(2, 40, -5, [40]));
    expect(l.capacityAh()).toBeCloseTo(10, 9);
    expect(l.sohPercent()).toBeNull();
  });

  it("weights samples by their SOC swing; snapshot round-trips", () => {
    const l = new CapacityLearner({ ratedAh: 10 });
    l.observe(anchor(1, 100, 0, [100]));
    l.observe(anchor(2, 50, -5, [50])); // 10 Ah over 50 %
    l.observe(anchor(3, 100, -1, [100])); // 4 Ah in over 50 %: 8 Ah
    l.observe(anchor(4, 0, -9, [0])); // 8 Ah out over 100 %
    expect(l.learnedAh()).toBeCloseTo((10 * 50 + 8 * 50 + 8 * 100) / 200, 9);
    const m = new CapacityLearner(
      { ratedAh: 10 },
      capacitySnapshotSchema.parse(JSON.parse(JSON.stringify(l.snapshot()))),
    );
    expect(m.learnedAh()).toBe(l.learnedAh());
  });
});

describe("CycleCounter", () => {
  it("adds discharged Ah ÷ capacity, keeps Ah seen before a capacity was known, never decreases", () => {
    const c = new CycleCounter();
    c.add(6, null);
    expect(c.value).toBe(0);
    c.add(6, 12);
    expect(c.value).toBeCloseTo(1, 12);
    c.add(-3, 12);
    expect(c.value).toBeCloseTo(1, 12);
    c.add(3, 6); // a smaller learned capacity makes later Ah count more, never the past less
    expect(c.value).toBeCloseTo(1.5, 12);
    expect(new CycleCounter(c.snapshot()).value).toBe(c.value);
  });
});
