import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cellStats } from "./cellStats.js";

describe("cellStats", () => {
  it("min/max with 1-based numbers, ties to the lowest number", () => {
    expect(cellStats([3.9, 3.8, 4.0, 3.8, 4.0])).toEqual({
      cellMin: 3.8,
      cellMinNumber: 2,
      cellMax: 4.0,
      cellMaxNumber: 3,
      cellAverage: 3.9,
      cellDelta: 0.2,
    });
  });

  it("is undefined for no cells", () => {
    expect(cellStats([])).toBeUndefined();
    expect(cellStats([null, null])).toBeUndefined();
  });

  it("leaves implausible (null) cells out and keeps the others' numbers", () => {
    expect(cellStats([3.9, null, 3.7, 4.0])).toEqual({
      cellMin: 3.7,
      cellMinNumber: 3,
      cellMax: 4.0,
      cellMaxNumber: 4,
      cellAverage: 3.8666667,
      cellDelta: 0.3,
    });
  });

  it("agrees with a straightforward reference on any cells", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.integer({ min: 0, max: 5000 }).map((mv) => mv / 1000),
          { minLength: 1, maxLength: 50 },
        ),
        (cells) => {
          const st = cellStats(cells);
          const min = Math.min(...cells);
          const max = Math.max(...cells);
          expect(st?.cellMin).toBe(min);
          expect(st?.cellMax).toBe(max);
          expect(st?.cellMinNumber).toBe(cells.indexOf(min) + 1);
          expect(st?.cellMaxNumber).toBe(cells.indexOf(max) + 1);
          expect(st?.cellDelta).toBeCloseTo(max - min, 6);
          expect(st?.cellAverage).toBeCloseTo(cells.reduce((a, b) => a + b, 0) / cells.length, 6);
        },
      ),
    );
  });
});
