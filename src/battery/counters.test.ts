import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { counterSnapshotSchema, EnergyCounter, splitTrapezoid } from "./counters.js";

describe("splitTrapezoid", () => {
  it("integrates a constant and a ramp", () => {
    expect(splitTrapezoid(2, 2, 3)).toEqual({ positive: 6, negative: 0 });
    expect(splitTrapezoid(-1, -3, 2)).toEqual({ positive: 0, negative: 4 });
  });

  it("gives each side of a sign change half the interval; the difference is the plain trapezoid", () => {
    // A current stepping from +4 A to −4 A at an unknown instant: on average half the time each.
    expect(splitTrapezoid(4, -4, 2)).toEqual({ positive: 4, negative: 4 });
    const s = splitTrapezoid(-1, 3, 4);
    expect(s).toEqual({ positive: 6, negative: 2 });
    expect(s.positive - s.negative).toBe(((-1 + 3) / 2) * 4);
  });
});

describe("EnergyCounter", () => {
  it("counts Wh and Ah charged and discharged with the trapezoid rule", () => {
    const c = new EnergyCounter({ maxGapS: 3600 });
    c.add(0, 80, 10);
    c.add(3600_000 / 10, 80, 10); // 6 min at 10 A → 1 Ah
    expect(c.value.ahCharged).toBeCloseTo(1, 9);
    expect(c.value.whCharged).toBeCloseTo(80, 9);
    c.add(3600_000 / 10 + 1000, 80, -10); // a step to −10 A within one second
    expect(c.value.ahCharged).toBeCloseTo(1 + 5 / 3600, 9);
    expect(c.value.ahDischarged).toBeCloseTo(5 / 3600, 9);
  });

  it("does not integrate across a gap longer than 3 intervals (or 30 s without an interval)", () => {
    const c = new EnergyCounter({ intervalMs: 1000 });
    expect(c.gapLimitS).toBe(3);
    c.add(0, 80, -10);
    c.add(1000, 80, -10);
    const before = c.value.ahDischarged;
    c.add(5000, 80, -10); // 4 s: gap
    expect(c.value.ahDischarged).toBe(before);
    expect(c.lastWasGap).toBe(true);
    c.add(6000, 80, -10); // counting resumes from the reading after the gap
    expect(c.lastWasGap).toBe(false);
    expect(c.value.ahDischarged).toBeCloseTo(before + 10 / 3600, 12);
    expect(new EnergyCounter().gapLimitS).toBe(30);
    expect(new EnergyCounter({ intervalMs: 60_000 }).gapLimitS).toBe(180);
    expect(new EnergyCounter({ intervalMs: 1000, maxGapS: 2 }).gapLimitS).toBe(2);
  });

  it("a missing value or a clock going back breaks the segment and counts nothing", () => {
    const c = new EnergyCounter();
    c.add(0, 80, 5);
    c.add(1000, null, 5);
    c.add(2000, 80, 5);
    expect(c.value.ahCharged).toBe(0);
    expect(c.lastWasGap).toBe(true);
    c.add(1500, 80, 5);
    expect(c.value.ahCharged).toBe(0);
    c.add(2500, 80, 5);
    expect(c.value.ahCharged).toBeCloseTo(5 / 3600, 12);
  });

  it("snapshot → JSON → restore continues where it left off", () => {
    const a = new EnergyCounter({ intervalMs: 1000 });
    a.add(0, 80, -10);
    a.add(1000, 80, -10);
    const json = JSON.parse(JSON.stringify(a.snapshot()));
    const b = new EnergyCounter({ intervalMs: 1000 }, counterSnapshotSchema.parse(json));
    a.add(2000, 80, -12);
    b.add(2000, 80, -12);
    expect(b.value).toEqual(a.value);
    expect(
      counterSnapshotSchema.safeParse({ ...json, totals: { ...json.totals, whCharged: -1 } }).success,
    ).toBe(false);
  });

  it("never decreases, whatever the readings (property)", () => {
    const sample = fc.record({
      dtMs: fc.integer({ min: -5000, max: 60_000 }),
      v: fc.option(fc.double({ min: 0, max: 150, noNaN: true }), { nil: null }),
      i: fc.option(fc.double({ min: -300, max: 300, noNaN: true }), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 60 }), (samples) => {
        const c = new EnergyCounter({ intervalMs: 1000 });
        let t = 0;
        let prev = c.value;
        for (const s of samples) {
          t += s.dtMs;
          const now = c.add(t, s.v, s.i);
          for (const k of ["whCharged", "whDischarged", "ahCharged", "ahDischarged"] as const) {
            expect(now[k]).toBeGreaterThanOrEqual(prev[k]);
            expect(Number.isFinite(now[k])).toBe(true);
          }
          prev = now;
        }
      }),
    );
  });

  it("charged − discharged equals the signed integral (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 2, maxLength: 40 }),
        (is) => {
          const c = new EnergyCounter({ intervalMs: 1000 });
          let signed = 0;
          is.forEach((i, k) => {
            c.add(k * 1000, 80, i);
            if (k > 0) signed += (((is[k - 1] as number) + i) / 2) * (1 / 3600);
          });
          expect(c.value.ahCharged - c.value.ahDischarged).toBeCloseTo(signed, 9);
          expect(c.value.whCharged - c.value.whDischarged).toBeCloseTo(signed * 80, 7);
        },
      ),
    );
  });
});
