import { describe, expect, test } from "vitest";
import { nextDelay } from "./backoff.js";

describe("nextDelay", () => {
  test.each([
    // attempt, options, expected
    [0, {}, 1000],
    [1, {}, 2000],
    [2, {}, 4000],
    [5, {}, 32_000],
    [6, {}, 60_000], // 64 s capped at 60 s
    [50, {}, 60_000],
    [1e9, {}, 60_000],
    [Number.POSITIVE_INFINITY, {}, 1000], // nonsense attempt counts start over
    [-3, {}, 1000],
    [0, { initialMs: 250, factor: 3 }, 250],
    [2, { initialMs: 250, factor: 3 }, 2250],
    [3, { initialMs: 500, maxMs: 3000 }, 3000],
    [0, { random: 0 }, 800], // -20 %
    [0, { random: 1 }, 1200], // +20 %
    [0, { random: 0, jitter: 0.5 }, 500],
    [10, { random: 1 }, 60_000], // jitter never exceeds the cap
    [0, { initialMs: 0 }, 0],
    [2, { jitter: 0, random: 0.9 }, 4000],
  ] as const)("attempt %s with %j → %s ms", (attempt, opts, expected) => {
    expect(nextDelay(attempt, opts)).toBe(expected);
  });

  test("grows monotonically until the cap and stays within ±jitter", () => {
    let previous = 0;
    for (let attempt = 0; attempt < 20; attempt++) {
      const mid = nextDelay(attempt, { random: 0.5 });
      expect(mid).toBeGreaterThanOrEqual(previous);
      previous = mid;
      for (const random of [0, 0.25, 0.75, 0.999]) {
        const d = nextDelay(attempt, { random });
        expect(d).toBeGreaterThanOrEqual(Math.floor(mid * 0.8));
        expect(d).toBeLessThanOrEqual(60_000);
      }
    }
  });
});
