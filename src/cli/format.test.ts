import { describe, expect, it } from "vitest";
import { cellBar, cellBarScale } from "./format.js";

const filled = (bar: string) => [...bar].filter((c) => c === "█").length;

describe("cell bars", () => {
  it("scale around the pack's own min and max, so a few mV of imbalance are visible", () => {
    const cells = [3.727, 3.737, 3.732];
    const { low, high } = cellBarScale(cells);
    const bars = cells.map((v) => filled(cellBar(v, low, high, 24)));
    expect(bars[1]).toBe(24); // highest cell: full
    expect(bars[0]).toBeGreaterThan(0); // lowest cell: short, never empty
    expect(bars[0]).toBeLessThan(bars[2] as number);
    expect(bars[2]).toBeLessThan(24);
  });

  it("do not magnify noise: equal cells or sub-10 mV spreads use a 10 mV span", () => {
    const same = cellBarScale([4.1, 4.1]);
    expect(same.high - same.low).toBeCloseTo(0.0125, 9);
    expect(filled(cellBar(4.1, same.low, same.high, 24))).toBe(5);
    const tiny = cellBarScale([4.1, 4.101]);
    expect(filled(cellBar(4.101, tiny.low, tiny.high, 24))).toBeLessThan(24);
  });
});
