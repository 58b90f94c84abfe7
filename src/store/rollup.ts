/**
 * Per-minute averages of every reading value, kept beside the raw rows so long ranges
 * (24 h, 7 d, 30 d) are drawn from ~1 row per minute instead of every reading: a 7-day
 * chart of a device polled every 5 s reads 10 080 rows, not 120 960. A minute row is the
 * average vector of historyCodec.ts (float32 BLOB) plus how many readings it holds, so
 * buckets made of minutes are weighted correctly. The current minute is written when the
 * next minute starts or the store closes; a restart inside a minute merges with the row.
 */
import type Database from "better-sqlite3";
import { type Layout, vectorLength } from "./historyCodec.js";

const MINUTE_MS = 60_000;

interface Accumulator {
  minute: number;
  layout: Layout;
  /** readings in this minute */
  n: number;
  sum: Float64Array;
  count: Float64Array;
}

export const ROLLUP_SCHEMA = `
  CREATE TABLE IF NOT EXISTS rollup_1m (
    device INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL,
    cells INTEGER NOT NULL, temps INTEGER NOT NULL, vec BLOB NOT NULL,
    PRIMARY KEY (device, t)
  ) WITHOUT ROWID;
`;

/** Copies a vector of one layout into another (fixed fields, then temps, cells, balancing). */
function remap(src: Float64Array | Float32Array, from: Layout, to: Layout, out: Float64Array): void {
  out.fill(Number.NaN);
  const fixed = vectorLength({ cells: 0, temps: 0 });
  for (let i = 0; i < fixed; i++) out[i] = src[i] ?? Number.NaN;
  for (let i = 0; i < Math.min(from.temps, to.temps); i++) out[fixed + i] = src[fixed + i] ?? Number.NaN;
  const c = Math.min(from.cells, to.cells);
  for (let i = 0; i < c; i++) {
    out[fixed + to.temps + i] = src[fixed + from.temps + i] ?? Number.NaN;
    out[fixed + to.temps + to.cells + i] = src[fixed + from.temps + from.cells + i] ?? Number.NaN;
  }
}

export class MinuteRollup {
  private readonly acc = new Map<number, Accumulator>();
  private readonly put: Database.Statement;
  private readonly get: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.put = db.prepare(
      "INSERT OR REPLACE INTO rollup_1m (device, t, n, cells, temps, vec) VALUES (?,?,?,?,?,?)",
    );
    this.get = db.prepare("SELECT n, cells, temps, vec FROM rollup_1m WHERE device = ? AND t = ?");
  }

  /** Adds one reading's vector (NaN = absent). Call inside the insert transaction. */
  add(device: number, t: number, layout: Layout, v: Float64Array): void {
    const minute = Math.floor(t / MINUTE_MS) * MINUTE_MS;
    let a = this.acc.get(device);
    if (a && (a.minute !== minute || a.layout.cells !== layout.cells || a.layout.temps !== layout.temps)) {
      this.write(device, a);
      a = undefined;
    }
    if (!a) {
      a = this.start(device, minute, layout);
      this.acc.set(device, a);
    }
    a.n++;
    for (let i = 0; i < v.length; i++) {
      const x = v[i] ?? Number.NaN;
      if (!Number.isNaN(x)) {
        a.sum[i] = (a.sum[i] ?? 0) + x;
        a.count[i] = (a.count[i] ?? 0) + 1;
      }
    }
  }

  /** Writes every open minute (on close). */
  flush(): void {
    for (const [device, a] of this.acc) this.write(device, a);
    this.acc.clear();
  }

  /** Minute rows of a range, remapped to `layout`: [minute start, readings, vector]. */
  *rows(device: number, from: number, to: number, layout: Layout): Generator<[number, number, Float64Array]> {
    const out = new Float64Array(vectorLength(layout));
    const it = this.db
      .prepare(
        "SELECT t, n, cells, temps, vec FROM rollup_1m WHERE device = ? AND t >= ? AND t <= ? ORDER BY t",
      )
      .raw()
      .iterate(device, Math.floor(from / MINUTE_MS) * MINUTE_MS, to) as IterableIterator<
      [number, number, number, number, Buffer]
    >;
    for (const [t, n, cells, temps, vec] of it) {
      const src = new Float32Array(vec.buffer.slice(vec.byteOffset, vec.byteOffset + vec.byteLength));
      remap(src, { cells, temps }, layout, out);
      yield [t, n, out];
    }
  }

  /** Deletes minutes before `cutoff`, device by device (walks the primary key, no t index needed). */
  prune(cutoff: number, devices: readonly number[]): number {
    const del = this.db.prepare("DELETE FROM rollup_1m WHERE device = ? AND t < ?");
    let n = 0;
    for (const d of devices) n += del.run(d, cutoff - MINUTE_MS).changes;
    return n;
  }

  /** A new minute; resumes the stored row of that minute after a restart. */
  private start(device: number, minute: number, layout: Layout): Accumulator {
    const len = vectorLength(layout);
    const a: Accumulator = { minute, layout, n: 0, sum: new Float64Array(len), count: new Float64Array(len) };
    const row = this.get.get(device, minute) as
      | { n: number; cells: number; temps: number; vec: Buffer }
      | undefined;
    if (row && row.cells === layout.cells && row.temps === layout.temps) {
      const prev = new Float32Array(
        row.vec.buffer.slice(row.vec.byteOffset, row.vec.byteOffset + row.vec.byteLength),
      );
      a.n = row.n;
      prev.forEach((x, i) => {
        if (!Number.isNaN(x)) {
          a.sum[i] = x * row.n;
          a.count[i] = row.n;
        }
      });
    }
    return a;
  }

  private write(device: number, a: Accumulator): void {
    const avg = new Float32Array(a.sum.length);
    for (let i = 0; i < avg.length; i++) {
      const c = a.count[i] ?? 0;
      avg[i] = c > 0 ? (a.sum[i] ?? 0) / c : Number.NaN;
    }
    this.put.run(device, a.minute, a.n, a.layout.cells, a.layout.temps, Buffer.from(avg.buffer));
  }
}
