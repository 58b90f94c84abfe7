import { describe, expect, it } from "vitest";
import { RuntimeEstimator } from "./runtime.js";

describe("RuntimeEstimator", () => {
  it("time to empty from the smoothed discharge current", () => {
    const r = new RuntimeEstimator({ smoothingS: 60 });
    let e = r.update(0, -10, 50, 20);
    expect(e.discharging).toBe(true);
    expect(e.timeToEmptyS).toBe(3600); // 10 Ah left at 10 A
    expect(e.timeToFullS).toBeNull();
    // One second of −20 A moves a 60 s EMA by 1/60 of the difference, not to −20.
    e = r.update(1000, -20, 50, 20);
    expect(e.smoothedCurrentA).toBeCloseTo(-10 - 10 * (1 - Math.exp(-1 / 60)), 9);
  });

  it("time to full while charging; none without SOC or capacity", () => {
    const r = new RuntimeEstimator();
    const e = r.update(0, 5, 75, 20);
    expect(e.charging).toBe(true);
    expect(e.timeToFullS).toBe(3600);
    expect(new RuntimeEstimator().update(0, 5, null, 20).timeToFullS).toBeNull();
    expect(new RuntimeEstimator().update(0, 5, 50, null).timeToFullS).toBeNull();
  });

  it("charging has hysteresis: on above 0.5 A, off only below 0.25 A", () => {
    const r = new RuntimeEstimator({ smoothingS: 0.001 });
    const seq = [0.4, 0.6, 0.3, 0.26, 0.2, 0.4].map((i, k) => r.update(k * 1000, i, 50, 10).charging);
    expect(seq).toEqual([false, true, true, true, false, false]);
  });

  it("the 0.14 A a resting Express measures is neither charging nor discharging", () => {
    const r = new RuntimeEstimator();
    const e = r.update(0, 0.14, 100, null);
    expect(e.charging).toBe(false);
    expect(e.discharging).toBe(false);
  });
});
