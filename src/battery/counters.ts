/**
 * Energy and charge counters: Wh and Ah charged / discharged, integrated from the measured
 * pack current and voltage at each reading (trapezoid of the charging and discharging
 * parts). A gap between readings longer than the gap limit is not bridged: the next reading
 * starts a new segment. Increments are never negative, so the totals never go backwards.
 */
import { z } from "zod";

export interface EnergyTotals {
  readonly whCharged: number;
  readonly whDischarged: number;
  readonly ahCharged: number;
  readonly ahDischarged: number;
}

export interface CounterOptions {
  /** The poll interval, ms, when known: a gap is then also > gapIntervals × intervalMs. */
  readonly intervalMs?: number;
  /** Gap limit in intervals (default 3). */
  readonly gapIntervals?: number;
  /** Gap limit, s (default 30, or gapIntervals × interval when that is longer). */
  readonly maxGapS?: number;
}

const totalsSchema = z.strictObject({
  whCharged: z.number().finite().min(0),
  whDischarged: z.number().finite().min(0),
  ahCharged: z.number().finite().min(0),
  ahDischarged: z.number().finite().min(0),
});

export const counterSnapshotSchema = z.strictObject({
  version: z.literal(1),
  totals: totalsSchema,
  /** Reading time of the last sample, ms; the next reading integrates from it if close enough. */
  last: z
    .strictObject({ tMs: z.number().finite(), voltageV: z.number().finite(), currentA: z.number().finite() })
    .optional(),
});
export type CounterSnapshot = z.output<typeof counterSnapshotSchema>;

export const ZERO_TOTALS: EnergyTotals = Object.freeze({
  whCharged: 0,
  whDischarged: 0,
  ahCharged: 0,
  ahDischarged: 0,
});

/**
 * ∫ of a quantity sampled as a at the start and b at the end of `seconds`, split into the
 * part above zero and the part below (both ≥ 0): the trapezoid of each part. Across a sign
 * change this gives each side half the interval, which is unbiased for a current that
 * steps at an unknown instant (throttle, brake): a straight line between the two samples
 * would put the crossing too early and shrink both parts. Their difference is the plain
 * trapezoid, so the net charge is the same either way.
 */
export function splitTrapezoid(
  a: number,
  b: number,
  seconds: number,
): { positive: number; negative: number } {
  return {
    positive: ((Math.max(0, a) + Math.max(0, b)) / 2) * seconds,
    negative: ((Math.max(0, -a) + Math.max(0, -b)) / 2) * seconds,
  };
}

export class EnergyCounter {
  private totals: EnergyTotals;
  /** The previous sample, in fields: an object per reading would be promoted garbage (docs/performance.md). */
  private hasLast = false;
  private lastMs = 0;
  private lastV = 0;
  private lastA = 0;
  private readonly gapS: number;
  private gap = false;
  private broken = false;

  constructor(options: CounterOptions = {}, snapshot?: CounterSnapshot) {
    const intervals = options.gapIntervals ?? 3;
    const byInterval = options.intervalMs === undefined ? 0 : (intervals * options.intervalMs) / 1000;
    const cap = options.maxGapS ?? Math.max(30, byInterval);
    this.gapS = byInterval > 0 ? Math.min(cap, byInterval) : cap;
    this.totals = snapshot ? { ...snapshot.totals } : ZERO_TOTALS;
    if (snapshot?.last) this.keepLast(snapshot.last.tMs, snapshot.last.voltageV, snapshot.last.currentA);
  }

  /** The longest gap between two readings that is still integrated, s. */
  get gapLimitS(): number {
    return this.gapS;
  }

  /** True when the last reading followed an earlier one too far back (or a clock step back) to bridge. */
  get lastWasGap(): boolean {
    return this.gap;
  }

  get value(): EnergyTotals {
    return this.totals;
  }

  /**
   * Adds one reading (time in ms, pack volts, pack amps with + = charging) and returns the
   * totals. A missing value or a clock that went back breaks the segment without counting.
   */
  add(tMs: number, voltageV: number | null, currentA: number | null): EnergyTotals {
    if (voltageV === null || currentA === null || !Number.isFinite(voltageV) || !Number.isFinite(currentA)) {
      if (this.hasLast) this.broken = true;
      this.hasLast = false;
      this.gap = false;
      return this.totals;
    }
    const had = this.hasLast;
    const prevMs = this.lastMs;
    const prevV = this.lastV;
    const prevA = this.lastA;
    this.keepLast(tMs, voltageV, currentA);
    this.gap = false;
    if (!had) {
      // After readings without a current or voltage the charge in between went uncounted.
      this.gap = this.broken;
      this.broken = false;
      return this.totals;
    }
    const dtS = (tMs - prevMs) / 1000;
    if (!(dtS > 0) || dtS > this.gapS) {
      this.gap = dtS !== 0;
      return this.totals;
    }
    const ah = splitTrapezoid(prevA, currentA, dtS / 3600);
    const wh = splitTrapezoid(prevA * prevV, currentA * voltageV, dtS / 3600);
    const t = this.totals;
    this.totals = {
      whCharged: t.whCharged + wh.positive,
      whDischarged: t.whDischarged + wh.negative,
      ahCharged: t.ahCharged + ah.positive,
      ahDischarged: t.ahDischarged + ah.negative,
    };
    return this.totals;
  }

  snapshot(): CounterSnapshot {
    return {
      version: 1,
      totals: { ...this.totals },
      ...(this.hasLast ? { last: { tMs: this.lastMs, voltageV: this.lastV, currentA: this.lastA } } : {}),
    };
  }

  private keepLast(tMs: number, voltageV: number, currentA: number): void {
    this.hasLast = true;
    this.lastMs = tMs;
    this.lastV = voltageV;
    this.lastA = currentA;
  }
}
