/**
 * Open-circuit voltage of one Li-ion (NMC) cell against state of charge, piecewise linear
 * through typical datasheet points: steep below 10 %, a long plateau, steep again near full.
 */

const SOC_POINTS = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] as const;
const OCV_POINTS = [3.0, 3.3, 3.45, 3.58, 3.66, 3.72, 3.78, 3.85, 3.93, 4.01, 4.09, 4.2] as const;

export const CELL_EMPTY_V = 3.0;
export const CELL_FULL_V = 4.2;

/** Cell OCV in volts for a state of charge 0..1 (clamped). */
export function ocv(soc: number): number {
  const s = Math.min(1, Math.max(0, soc));
  for (let i = 1; i < SOC_POINTS.length; i++) {
    const s1 = SOC_POINTS[i] as number;
    if (s <= s1) {
      const s0 = SOC_POINTS[i - 1] as number;
      const v0 = OCV_POINTS[i - 1] as number;
      const v1 = OCV_POINTS[i] as number;
      return v0 + ((v1 - v0) * (s - s0)) / (s1 - s0);
    }
  }
  return CELL_FULL_V;
}
