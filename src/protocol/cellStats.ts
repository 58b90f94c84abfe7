/** Derived cell statistics for the JSON contract's `stats` object. */
import type { CellStats } from "../model/reading.js";

/** min/max with 1-based cell numbers (ties → lowest number), average and delta; undefined for no cells. */
export function cellStats(cells: readonly number[]): CellStats | undefined {
  const first = cells[0];
  if (first === undefined) return undefined;
  let min = first;
  let max = first;
  let minAt = 0;
  let maxAt = 0;
  let sum = 0;
  cells.forEach((v, i) => {
    sum += v;
    if (v < min) {
      min = v;
      minAt = i;
    }
    if (v > max) {
      max = v;
      maxAt = i;
    }
  });
  // Rounded to 0.1 µV so float noise (4.1804000000000006) never reaches users; cells are mV-exact.
  const round = (x: number): number => Math.round(x * 1e7) / 1e7;
  return {
    cellMin: min,
    cellMinNumber: minAt + 1,
    cellMax: max,
    cellMaxNumber: maxAt + 1,
    cellAverage: round(sum / cells.length),
    cellDelta: round(max - min),
  };
}
