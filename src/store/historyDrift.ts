/**
 * Each cell's deviation from the pack mean at rest, per hour or day, from the raw history
 * rows: the imbalance trend of a pack over days. Rest is |pack current| at or below a
 * threshold (the current the BMS measures: i_in_ic unless only i_in reads), as the bridge's
 * cell-health estimate samples drift; under load a weak cell sags and says nothing about
 * balance. The work is bounded whatever the range: each bucket is read in evenly spaced
 * slots of at most ROWS_PER_SLOT rows (SQLite filters rest and missing cells), so 30 days
 * of 1 Hz readings cost at most MAX_SLOTS × ROWS_PER_SLOT rows, not 2.6 million.
 */
import type Database from "better-sqlite3";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Slots a whole range is read in, at most (each one index seek). */
export const MAX_SLOTS = 2000;
/** Rows read per slot, at most: at 1 Hz a 30-day range reads one run of 30 s every ~22 min. */
export const ROWS_PER_SLOT = 30;
/** A cell closer than this to the pack mean is not named as drifting: the BMS's resolution, mV. */
const MIN_NAMED_DRIFT_MV = 1;

export interface CellDriftQuery {
  /** ms since epoch, inclusive */
  readonly from: number;
  /** ms since epoch, inclusive */
  readonly to: number;
  /** HOUR_MS or DAY_MS (buckets are aligned to UTC). */
  readonly bucketMs: number;
  /** |pack current| at or below this is rest, A. */
  readonly restCurrentA: number;
}

export interface CellDriftPoint {
  /** ms since epoch: the mean time of the rest readings in this bucket */
  readonly t: number;
  /** rest readings averaged */
  readonly rows: number;
  /** [cell], cell 1 first: mean deviation from the pack mean, mV (0.1 mV); null = no plausible value */
  readonly driftMv: Array<number | null>;
}

export interface CellDriftSeries {
  readonly from: number;
  readonly to: number;
  readonly bucketMs: number;
  readonly restCurrentA: number;
  /** Cells per reading of the series: the newest rest reading's count (0 = no data). */
  readonly cells: number;
  readonly points: CellDriftPoint[];
  /**
   * The cell furthest from the pack mean in the newest point, with its change over the
   * series (newest − oldest known), mV; null without data or when every cell is within 1 mV.
   */
  readonly mostDrifting: {
    readonly cell: number;
    readonly driftMv: number;
    readonly changeMv: number;
  } | null;
  /** What the query read: slots, rest rows used, rest rows skipped for another cell count. */
  readonly sample: {
    readonly slots: number;
    readonly maxRowsRead: number;
    readonly restRows: number;
    readonly otherCellCountRows: number;
  };
}

const ABSENT = -32768;

/** Per-cell sums of one bucket for one cell count. */
interface Acc {
  rows: number;
  tSum: number;
  /** the newest row's time, averaged or not: which cell count is the pack's now */
  tMax: number;
  sum: Float64Array;
  count: Uint32Array;
}

/** The pack current in mA as SQL: i_in_ic unless it is missing or 0 and i_in reads (model/bmsReading.ts packCurrent). */
const PACK_CURRENT_MA =
  "CASE WHEN current_ic IS NULL OR current_ic = 0 THEN CASE WHEN current IS NOT NULL AND current <> 0 THEN current ELSE current_ic END ELSE current_ic END";

/** The slot statement: the first ROWS_PER_SLOT rows of a slot, of which the ones at rest with cells. */
function prepareDriftSlot(db: Database.Database): Database.Statement {
  return db
    .prepare(
      `SELECT t, cells FROM (
         SELECT t, cells, current, current_ic FROM readings
         WHERE device = ? AND t >= ? AND t < ? ORDER BY t LIMIT ${ROWS_PER_SLOT}
       ) WHERE cells IS NOT NULL AND abs(${PACK_CURRENT_MA}) <= ?`,
    )
    .raw();
}

/** Adds one row's deviations (int16 LE mV cells, ABSENT = implausible) to `acc`. */
function addRow(acc: Acc, t: number, cells: Uint8Array, n: number): void {
  const view = new DataView(cells.buffer, cells.byteOffset, cells.byteLength);
  let sum = 0;
  let known = 0;
  for (let i = 0; i < n; i++) {
    const mv = view.getInt16(i * 2, true);
    if (mv === ABSENT) continue;
    sum += mv;
    known++;
  }
  // A mean of one cell is the cell itself: no deviation to speak of.
  if (known < 2) return;
  const mean = sum / known;
  for (let i = 0; i < n; i++) {
    const mv = view.getInt16(i * 2, true);
    if (mv === ABSENT) continue;
    acc.sum[i] = (acc.sum[i] ?? 0) + (mv - mean);
    acc.count[i] = (acc.count[i] ?? 0) + 1;
  }
  acc.rows++;
  acc.tSum += t;
  if (t > acc.tMax) acc.tMax = t;
}

const tenth = (v: number) => Math.round(v * 10) / 10;

/** Buckets that ended at least this long ago are complete: the history sink has flushed them. */
const SETTLE_MS = 2 * 60_000;
/** Cached buckets per device, at most (one Acc per cell count: ~250 bytes for 20 cells). */
const MAX_CACHED_BUCKETS = 5000;
/** Cached buckets over all devices, at most: a fleet's dashboards cannot grow it past ~5 MB. */
const MAX_CACHED_BUCKETS_TOTAL = 20_000;

/**
 * Drift queries of one database. A bucket that is complete (wholly inside the range and
 * settled) is read once and kept: a dashboard reloading the chart reads only the open
 * bucket again. A write into a cached bucket's past (a replay) or a prune forgets them.
 */
export class CellDriftReader {
  private readonly slot: Database.Statement;
  /** device → bucket key → sums per cell count */
  private readonly cache = new Map<number, Map<string, Map<number, Acc>>>();
  /** device → the end of its newest cached bucket */
  private readonly cachedUntil = new Map<number, number>();
  /** Buckets held in `cache`, over all devices. */
  private cachedBuckets = 0;

  constructor(db: Database.Database) {
    this.slot = prepareDriftSlot(db);
  }

  /** A reading of `device` at `t` was written: cached buckets it falls into are stale. */
  written(device: number, t: number): void {
    if (t < (this.cachedUntil.get(device) ?? Number.NEGATIVE_INFINITY)) this.forget(device);
  }

  /** Forgets the cached buckets of a device, or of all (after a prune). */
  forget(device?: number): void {
    if (device === undefined) {
      this.cache.clear();
      this.cachedUntil.clear();
      this.cachedBuckets = 0;
      return;
    }
    this.cachedBuckets -= this.cache.get(device)?.size ?? 0;
    this.cache.delete(device);
    this.cachedUntil.delete(device);
  }

  /** Per-cell drift of one device (`device` = its key in the devices table). */
  query(device: number, q: CellDriftQuery, nowMs: number = Date.now()): CellDriftSeries {
    const restMa = q.restCurrentA * 1000;
    const firstBucket = Math.floor(q.from / q.bucketMs);
    const lastBucket = Math.floor(q.to / q.bucketMs);
    const slotsPerBucket = Math.max(1, Math.floor(MAX_SLOTS / (lastBucket - firstBucket + 1)));
    let cached = this.cache.get(device);
    // Bucket sums per cell count: a pack re-wired mid-range is drawn with its newest count only.
    const buckets: Array<Map<number, Acc>> = [];
    let newest = { t: Number.NEGATIVE_INFINITY, cells: 0 };
    let slots = 0;
    for (let b = firstBucket; b <= lastBucket; b++) {
      const start = b * q.bucketMs;
      const end = start + q.bucketMs;
      const complete = start >= q.from && end - 1 <= q.to && end <= nowMs - SETTLE_MS;
      const key = `${q.bucketMs}:${slotsPerBucket}:${restMa}:${b}`;
      let sums = complete ? cached?.get(key) : undefined;
      if (!sums) {
        sums = new Map();
        slots += this.readBucket(device, q, start, slotsPerBucket, restMa, sums);
        if (complete) {
          if (this.cachedBuckets >= MAX_CACHED_BUCKETS_TOTAL) {
            this.forget();
            cached = undefined;
          }
          if (!cached || cached.size >= MAX_CACHED_BUCKETS) {
            this.cachedBuckets -= cached?.size ?? 0;
            cached = new Map();
            this.cache.set(device, cached);
          }
          if (!cached.has(key)) this.cachedBuckets++;
          cached.set(key, sums);
          this.cachedUntil.set(device, Math.max(this.cachedUntil.get(device) ?? end, end));
        }
      }
      buckets.push(sums);
      for (const [n, acc] of sums) if (acc.tMax > newest.t) newest = { t: acc.tMax, cells: n };
    }
    const points: CellDriftPoint[] = [];
    let used = 0;
    let otherRows = 0;
    for (const sums of buckets) {
      for (const [n, acc] of sums) {
        if (acc.rows === 0) continue;
        if (n !== newest.cells) {
          otherRows += acc.rows;
          continue;
        }
        used += acc.rows;
        points.push({
          t: Math.round(acc.tSum / acc.rows),
          rows: acc.rows,
          driftMv: Array.from(acc.sum, (sum, i) => {
            const c = acc.count[i] ?? 0;
            return c > 0 ? tenth(sum / c) : null;
          }),
        });
      }
    }
    return {
      from: q.from,
      to: q.to,
      bucketMs: q.bucketMs,
      restCurrentA: q.restCurrentA,
      cells: points.length > 0 ? newest.cells : 0,
      points,
      mostDrifting: mostDrifting(points),
      sample: { slots, maxRowsRead: slots * ROWS_PER_SLOT, restRows: used, otherCellCountRows: otherRows },
    };
  }

  /** Reads one bucket's slots into `sums`; returns how many slots it read. */
  private readBucket(
    device: number,
    q: CellDriftQuery,
    start: number,
    slotsPerBucket: number,
    restMa: number,
    sums: Map<number, Acc>,
  ): number {
    const slotMs = q.bucketMs / slotsPerBucket;
    let slots = 0;
    for (let s = 0; s < slotsPerBucket; s++) {
      const lo = Math.max(q.from, Math.floor(start + s * slotMs));
      const hi = Math.min(q.to + 1, Math.floor(start + (s + 1) * slotMs));
      if (lo >= hi) continue;
      slots++;
      for (const [t, cells] of this.slot.all(device, lo, hi, restMa) as Array<[number, Uint8Array]>) {
        const n = cells.byteLength >> 1;
        if (n === 0) continue;
        let acc = sums.get(n);
        if (!acc) {
          acc = {
            rows: 0,
            tSum: 0,
            tMax: Number.NEGATIVE_INFINITY,
            sum: new Float64Array(n),
            count: new Uint32Array(n),
          };
          sums.set(n, acc);
        }
        addRow(acc, t, cells, n);
      }
    }
    return slots;
  }
}

/** The answer for a device without history. */
export function noDrift(q: CellDriftQuery): CellDriftSeries {
  return {
    from: q.from,
    to: q.to,
    bucketMs: q.bucketMs,
    restCurrentA: q.restCurrentA,
    cells: 0,
    points: [],
    mostDrifting: null,
    sample: { slots: 0, maxRowsRead: 0, restRows: 0, otherCellCountRows: 0 },
  };
}

function mostDrifting(points: readonly CellDriftPoint[]): CellDriftSeries["mostDrifting"] {
  const last = points[points.length - 1];
  if (!last) return null;
  let cell = -1;
  for (let i = 0; i < last.driftMv.length; i++) {
    const d = last.driftMv[i];
    if (d === null || d === undefined) continue;
    if (cell < 0 || Math.abs(d) > Math.abs(last.driftMv[cell] as number)) cell = i;
  }
  const driftMv = cell < 0 ? 0 : (last.driftMv[cell] as number);
  if (cell < 0 || Math.abs(driftMv) < MIN_NAMED_DRIFT_MV) return null;
  const first = points.find((p) => p.driftMv[cell] !== null)?.driftMv[cell] as number;
  return { cell: cell + 1, driftMv, changeMv: tenth(driftMv - first) };
}
