/** Derived cell statistics for the JSON contract's `stats` object. */
import type { CellStats } from "../model/reading.js";

/**
 * min/max with 1-based cell numbers (ties → lowest number), average and delta over the cells
 * that hold a value (null = implausible, left out); undefined when none does.
 */
export function cellStats(cells: readonly (number | null)[]): CellStats | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let minAt = -1;
  let maxAt = -1;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < cells.length; i++) {
    const v = cells[i];
    if (v === null || v === undefined) continue;
    sum += v;
    count++;
    if (v < min) {
      min = v;
      minAt = i;
    }
    if (v > max) {
      max = v;
      maxAt = i;
    }
  }
  if (count === 0) return undefined;
  // Rounded to 0.1 µV so float noise (4.1804000000000006) never reaches users; cells are mV-exact.
  const round = (x: number): number => Math.round(x * 1e7) / 1e7;
  return {
    cellMin: min,
    cellMinNumber: minAt + 1,
    cellMax: max,
    cellMaxNumber: maxAt + 1,
    cellAverage: round(sum / count),
    cellDelta: round(max - min),
  };
}
