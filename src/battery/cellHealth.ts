/**
 * Cell health from the cell voltages: each cell's internal resistance from ΔV/ΔI across
 * current steps between consecutive close readings (median of many steps, so noise and the
 * odd step with a moving OCV wash out); each cell's deviation from the pack mean at rest,
 * slowly averaged, and its trend in V per day; the weakest cell; and alert predicates.
 */
import { z } from "zod";

export interface CellHealthOptions {
  /** |current| at or below this is rest: the only time deviations are sampled, A. */
  readonly restCurrentA: number;
  /** Smallest |ΔI| between two readings that is a step, A (default 2). */
  readonly stepMinA?: number;
  /** Readings further apart than this are not a step: the OCV may have moved, s (default 5). */
  readonly maxStepGapS?: number;
  /** Resistance samples kept per cell (default 128). */
  readonly maxSamples?: number;
  /** Samples before a cell's resistance is published (default 10). */
  readonly minSteps?: number;
  /** Samples after which a cell's resistance becomes its baseline (default 50). */
  readonly baselineSteps?: number;
  /** Time constant of the deviation EMA, s (default 1 h). */
  readonly driftTauS?: number;
  /** One trend point per this many s (default 1 h), kept for trendSpanS (default 7 days). */
  readonly trendEveryS?: number;
  readonly trendSpanS?: number;
}

const nullableNumbers = z.array(z.number().finite().nullable());

/** Version 1: every number as JSON text (about 20 characters each). Still read. */
const snapshotV1 = z.strictObject({
  version: z.literal(1),
  resistanceSamples: z.array(z.array(z.number().finite())),
  baselineOhm: nullableNumbers,
  driftV: nullableNumbers,
  driftAtMs: z.number().finite().nullable(),
  trend: z.array(z.strictObject({ tMs: z.number().finite(), driftV: nullableNumbers })),
});

/**
 * A list of numbers as base64 of their float64 bytes (little-endian), NaN for null: 10.7
 * characters a number instead of about 20, exact, and far cheaper to write than JSON text.
 * The large lists (128 resistance samples a cell, a week of hourly drift points) use it.
 */
function packedNumbers(nullable: boolean) {
  return z.string().transform((text, ctx): (number | null)[] => {
    const bytes = Buffer.from(text, "base64");
    if (bytes.length % 8 !== 0 || bytes.toString("base64") !== text) {
      ctx.addIssue({ code: "custom", message: "expected base64 float64 values" });
      return z.NEVER;
    }
    const out: (number | null)[] = [];
    for (let i = 0; i < bytes.length; i += 8) {
      const v = bytes.readDoubleLE(i);
      if (Number.isFinite(v)) out.push(v);
      else if (nullable && Number.isNaN(v)) out.push(null);
      else {
        ctx.addIssue({ code: "custom", message: nullable ? "expected numbers or null" : "expected numbers" });
        return z.NEVER;
      }
    }
    return out;
  });
}

function packNumbers(values: readonly (number | null)[]): string {
  const bytes = Buffer.allocUnsafe(values.length * 8);
  for (let i = 0; i < values.length; i++) bytes.writeDoubleLE(values[i] ?? Number.NaN, i * 8);
  return bytes.toString("base64");
}

/** Version 2 (what snapshot() writes): the resistance samples and the trend's drift packed. */
const snapshotV2 = z.strictObject({
  version: z.literal(2),
  resistanceSamples: z.array(packedNumbers(false)),
  baselineOhm: nullableNumbers,
  driftV: nullableNumbers,
  driftAtMs: z.number().finite().nullable(),
  trend: z.array(z.strictObject({ tMs: z.number().finite(), driftV: packedNumbers(true) })),
});

/** Either version, read into version 1's shape (what CellHealth is made from). */
export const cellHealthSnapshotSchema = z.union([
  snapshotV1,
  snapshotV2.transform((s) => ({
    ...s,
    version: 1 as const,
    resistanceSamples: s.resistanceSamples as number[][],
  })),
]);
export type CellHealthSnapshot = z.output<typeof cellHealthSnapshotSchema>;
/** What snapshot() returns: version 2, plain JSON. */
export type StoredCellHealthSnapshot = z.input<typeof snapshotV2>;

const DAY_S = 86_400;
/** A ΔV/ΔI outside this is a glitch (a cell reading jumped), not a resistance, Ω. */
const PLAUSIBLE_OHM = { min: -0.05, max: 1 } as const;
/** A trend slope needs at least this long a history, s. */
const MIN_TREND_SPAN_S = 6 * 3600;

/** A per-cell list handed out by CellHealth: frozen, and the same object until its inputs change. */
export type CellValues = readonly (number | null)[];

/** One cached per-cell output: valid for `cellCount` cells until set to undefined. */
interface Cached {
  cellCount: number;
  values: CellValues;
}

export class CellHealth {
  private samples: number[][] = [];
  /** Medians cached per cell; undefined = stale (sorting 20 × 128 samples per reading adds up). */
  private medians: (number | undefined)[] = [];
  private baseline: (number | null)[] = [];
  private drift: (number | null)[] = [];
  private driftAtMs: number | null = null;
  private trend: { tMs: number; driftV: (number | null)[] }[] = [];
  /**
   * The previous reading (for the next step), copied: holding its cell array would keep each
   * reading's array for an interval, long enough to be promoted (docs/performance.md).
   */
  private hasLast = false;
  private lastMs = 0;
  private lastCurrentA = 0;
  private lastCellCount = 0;
  private lastCells = new Float64Array(32);
  /** 1 where the previous reading had a number for the cell (not null or a hole). */
  private lastKnown = new Uint8Array(32);
  private readonly o: Required<CellHealthOptions>;
  /**
   * The outputs change only when a step sample, a rest sample or a trend point comes in:
   * most readings get the previous (frozen) arrays back, so the estimate, its alerts and
   * the published JSON need not be rebuilt per reading.
   */
  private cachedResistance: Cached | undefined;
  private cachedBaseline: Cached | undefined;
  private cachedDrift: Cached | undefined;
  private cachedRate: Cached | undefined;

  constructor(options: CellHealthOptions, snapshot?: CellHealthSnapshot) {
    this.o = {
      stepMinA: 2,
      maxStepGapS: 5,
      maxSamples: 128,
      minSteps: 10,
      baselineSteps: 50,
      driftTauS: 3600,
      trendEveryS: 3600,
      trendSpanS: 7 * DAY_S,
      ...options,
    };
    if (snapshot) {
      this.samples = snapshot.resistanceSamples.map((s) => s.slice(-this.o.maxSamples));
      this.baseline = [...snapshot.baselineOhm];
      this.drift = [...snapshot.driftV];
      this.driftAtMs = snapshot.driftAtMs;
      this.trend = snapshot.trend.map((p) => ({ tMs: p.tMs, driftV: [...p.driftV] }));
    }
  }

  update(tMs: number, currentA: number | null, cells: readonly (number | null)[]): void {
    if (currentA === null || !Number.isFinite(currentA)) {
      this.hasLast = false;
      return;
    }
    this.sampleResistance(tMs, currentA, cells);
    if (Math.abs(currentA) <= this.o.restCurrentA) this.sampleDrift(tMs, cells);
    this.keepLast(tMs, currentA, cells);
  }

  private keepLast(tMs: number, currentA: number, cells: readonly (number | null)[]): void {
    if (cells.length > this.lastCells.length) {
      this.lastCells = new Float64Array(cells.length);
      this.lastKnown = new Uint8Array(cells.length);
    }
    for (let i = 0; i < cells.length; i++) {
      const v = cells[i];
      const known = v !== null && v !== undefined;
      this.lastKnown[i] = known ? 1 : 0;
      this.lastCells[i] = known ? v : 0;
    }
    this.lastCellCount = cells.length;
    this.lastMs = tMs;
    this.lastCurrentA = currentA;
    this.hasLast = true;
  }

  /** Per-cell resistance, Ω (median of the step samples); null until minSteps. */
  resistanceOhm(cellCount: number): CellValues {
    const c = this.cachedResistance;
    if (c !== undefined && c.cellCount === cellCount) return c.values;
    const values = Object.freeze(this.computeResistance(cellCount));
    this.cachedResistance = { cellCount, values };
    return values;
  }

  private computeResistance(cellCount: number): (number | null)[] {
    const out: (number | null)[] = [];
    for (let i = 0; i < cellCount; i++) {
      const s = this.samples[i] ?? [];
      if (s.length < this.o.minSteps) {
        out.push(null);
        continue;
      }
      let m = this.medians[i];
      if (m === undefined) {
        m = median(s);
        this.medians[i] = m;
      }
      out.push(m);
    }
    return out;
  }

  /** Step samples per cell so far (capped at maxSamples). */
  resistanceSteps(cellCount: number): number[] {
    return Array.from({ length: cellCount }, (_, i) => this.samples[i]?.length ?? 0);
  }

  baselineOhm(cellCount: number): CellValues {
    const c = this.cachedBaseline;
    if (c !== undefined && c.cellCount === cellCount) return c.values;
    const values = Object.freeze(Array.from({ length: cellCount }, (_, i) => this.baseline[i] ?? null));
    this.cachedBaseline = { cellCount, values };
    return values;
  }

  /** Each cell's slow-averaged deviation from the pack mean at rest, V. */
  driftV(cellCount: number): CellValues {
    const c = this.cachedDrift;
    if (c !== undefined && c.cellCount === cellCount) return c.values;
    const values = Object.freeze(Array.from({ length: cellCount }, (_, i) => this.drift[i] ?? null));
    this.cachedDrift = { cellCount, values };
    return values;
  }

  /** Least-squares slope of each cell's deviation, V per day; null under six hours of history. */
  driftRateVPerDay(cellCount: number): CellValues {
    const c = this.cachedRate;
    if (c !== undefined && c.cellCount === cellCount) return c.values;
    const values = Object.freeze(this.computeDriftRate(cellCount));
    this.cachedRate = { cellCount, values };
    return values;
  }

  private computeDriftRate(cellCount: number): (number | null)[] {
    const out: (number | null)[] = [];
    for (let i = 0; i < cellCount; i++) {
      const xs: number[] = [];
      const ys: number[] = [];
      for (const p of this.trend) {
        const v = p.driftV[i];
        if (v === null || v === undefined) continue;
        xs.push(p.tMs / 1000 / DAY_S);
        ys.push(v);
      }
      const span = xs.length > 0 ? ((xs[xs.length - 1] as number) - (xs[0] as number)) * DAY_S : 0;
      out.push(xs.length >= 3 && span >= MIN_TREND_SPAN_S ? slope(xs, ys) : null);
    }
    return out;
  }

  snapshot(): StoredCellHealthSnapshot {
    return {
      version: 2,
      resistanceSamples: this.samples.map(packNumbers),
      baselineOhm: [...this.baseline],
      driftV: [...this.drift],
      driftAtMs: this.driftAtMs,
      trend: this.trend.map((p) => ({ tMs: p.tMs, driftV: packNumbers(p.driftV) })),
    };
  }

  private sampleResistance(tMs: number, currentA: number, cells: readonly (number | null)[]): void {
    if (!this.hasLast) return;
    const dtS = (tMs - this.lastMs) / 1000;
    const dI = currentA - this.lastCurrentA;
    if (!(dtS > 0) || dtS > this.o.maxStepGapS || Math.abs(dI) < this.o.stepMinA) return;
    for (let i = 0; i < cells.length; i++) {
      const v1 = cells[i];
      if (v1 === null || v1 === undefined || i >= this.lastCellCount || this.lastKnown[i] === 0) continue;
      const v0 = this.lastCells[i] as number;
      const r = (v1 - v0) / dI;
      if (r < PLAUSIBLE_OHM.min || r > PLAUSIBLE_OHM.max) continue;
      const s = this.samples[i] ?? [];
      s.push(r);
      if (s.length > this.o.maxSamples) s.shift();
      this.samples[i] = s;
      this.medians[i] = undefined;
      this.cachedResistance = undefined;
      if ((this.baseline[i] ?? null) === null && s.length >= this.o.baselineSteps) {
        this.baseline[i] = median(s);
        this.cachedBaseline = undefined;
      }
    }
    while (this.baseline.length < this.samples.length) this.baseline.push(null);
  }

  private sampleDrift(tMs: number, cells: readonly (number | null)[]): void {
    let sum = 0;
    let n = 0;
    for (const c of cells) {
      if (c === null) continue;
      sum += c;
      n++;
    }
    if (n < 2) return;
    const mean = sum / n;
    const dtS = this.driftAtMs === null ? 0 : Math.max(0, (tMs - this.driftAtMs) / 1000);
    const alpha = 1 - Math.exp(-dtS / this.o.driftTauS);
    this.drift = cells.map((c, i) => {
      if (c === null) return this.drift[i] ?? null;
      const prev = this.drift[i];
      const dev = c - mean;
      return prev === null || prev === undefined ? dev : prev + (dev - prev) * alpha;
    });
    this.driftAtMs = tMs;
    this.cachedDrift = undefined;
    const lastPoint = this.trend[this.trend.length - 1];
    if (lastPoint === undefined || tMs - lastPoint.tMs >= this.o.trendEveryS * 1000) {
      this.trend.push({ tMs, driftV: [...this.drift] });
      while (this.trend.length > 0 && tMs - (this.trend[0] as { tMs: number }).tMs > this.o.trendSpanS * 1000)
        this.trend.shift();
      this.cachedRate = undefined;
    }
  }
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function medianOfKnown(values: readonly (number | null)[], skip = -1): number | null {
  const known = values.filter((v, i): v is number => v !== null && i !== skip);
  return known.length === 0 ? null : median(known);
}

export interface WeakestCell {
  /** 1-based cell number. */
  readonly cell: number;
  /** Its resistance ÷ the median of the others (1 = typical), when known. */
  readonly resistanceRatio: number | null;
  /** The median capacity of the others ÷ its capacity (1 = typical), when known. */
  readonly capacityRatio: number | null;
}

/**
 * The cell that stands out most by high resistance and low capacity, each as a ratio to
 * the other cells' median; null when no cell is at least `minExcess` (default 5 %) worse.
 */
export function weakestCell(
  resistanceOhm: readonly (number | null)[],
  capacityAh: readonly (number | null)[],
  minExcess = 0.05,
): WeakestCell | null {
  let best: WeakestCell | null = null;
  let bestScore = minExcess;
  const n = Math.max(resistanceOhm.length, capacityAh.length);
  for (let i = 0; i < n; i++) {
    const r = resistanceOhm[i] ?? null;
    const c = capacityAh[i] ?? null;
    const rMed = medianOfKnown(resistanceOhm, i);
    const cMed = medianOfKnown(capacityAh, i);
    const rr = r !== null && rMed !== null && rMed > 0 ? r / rMed : null;
    const cr = c !== null && cMed !== null && c > 0 ? cMed / c : null;
    const score = (rr === null ? 0 : rr - 1) + (cr === null ? 0 : cr - 1);
    if (score >= bestScore) {
      bestScore = score;
      best = { cell: i + 1, resistanceRatio: rr, capacityRatio: cr };
    }
  }
  return best;
}

export interface DriftThresholds {
  /** |deviation from the pack mean at rest| that alerts, V (default 0.03). */
  readonly maxDeviationV?: number;
  /** |trend| that alerts once the deviation is at least minDeviationV, V/day (default 0.005). */
  readonly maxRateVPerDay?: number;
  readonly minDeviationV?: number;
}

/** 1-based cells drifting away from the others: too far out, or moving out fast. */
export function driftingCells(
  driftV: readonly (number | null)[],
  rateVPerDay: readonly (number | null)[],
  t: DriftThresholds = {},
): number[] {
  const maxDev = t.maxDeviationV ?? 0.03;
  const maxRate = t.maxRateVPerDay ?? 0.005;
  const minDev = t.minDeviationV ?? 0.01;
  const out: number[] = [];
  driftV.forEach((d, i) => {
    if (d === null) return;
    const rate = rateVPerDay[i] ?? null;
    // Only a trend pointing away from the mean is drift; one coming back is recovery.
    const away = rate !== null && Math.sign(rate) === Math.sign(d) && Math.abs(rate) >= maxRate;
    if (Math.abs(d) >= maxDev || (Math.abs(d) >= minDev && away)) out.push(i + 1);
  });
  return out;
}

export interface ResistanceThresholds {
  /** A cell this many times the median of the others alerts (default 1.5). */
  readonly ratioToOthers?: number;
  /** A cell this many times its own baseline alerts (default 1.3). */
  readonly riseOverBaseline?: number;
}

/** 1-based cells whose resistance is high against the others or has risen over its baseline. */
export function highResistanceCells(
  resistanceOhm: readonly (number | null)[],
  baselineOhm: readonly (number | null)[],
  t: ResistanceThresholds = {},
): number[] {
  const ratio = t.ratioToOthers ?? 1.5;
  const rise = t.riseOverBaseline ?? 1.3;
  const out: number[] = [];
  resistanceOhm.forEach((r, i) => {
    if (r === null) return;
    const others = medianOfKnown(resistanceOhm, i);
    const base = baselineOhm[i] ?? null;
    const high = others !== null && others > 0 && r >= others * ratio;
    const risen = base !== null && base > 0 && r >= base * rise;
    if (high || risen) out.push(i + 1);
  });
  return out;
}
