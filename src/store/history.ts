/**
 * History: every reading and alert in one SQLite file (better-sqlite3, WAL), a retention
 * window, and range queries that average into buckets when a range holds more rows than
 * the caller can draw. Rows are compact (see historyCodec.ts). Every SQLite failure leaves
 * here as a HistoryError with a code and a sentence a user can act on.
 */
import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Alert } from "../model/bus.js";
import type { Reading } from "../model/reading.js";
import { BucketAverager, type Point } from "./buckets.js";
import { MinuteRollup } from "./rollup.js";
import { type CellDriftQuery, CellDriftReader, type CellDriftSeries, noDrift } from "./historyDrift.js";
import { COLUMNS, prepareSchema, SCHEMA_VERSION, type SchemaChanges, SchemaTooNew } from "./historySchema.js";
import {
  csvColumns,
  decodeToVector,
  FIXED_FIELDS,
  type FixedField,
  type Layout,
  encodeReading,
  tidy,
  vectorLength,
} from "./historyCodec.js";

export type HistoryErrorCode = "Corrupt" | "Locked" | "Io" | "Closed" | "Incompatible";

export class HistoryError extends Error {
  override readonly name = "HistoryError";
  constructor(
    readonly code: HistoryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isHistoryError = (e: unknown): e is HistoryError => e instanceof HistoryError;

export interface HistoryOptions {
  /** The database file; its folder is created. */
  readonly path: string;
  /** Rows older than this are deleted by prune() (default 30). */
  readonly retentionDays?: number;
  /**
   * How long a statement waits for another connection's lock before failing with "Locked"
   * (default 20). SQLite waits synchronously, so this is time the event loop stands still.
   */
  readonly busyTimeoutMs?: number;
  /** Told once when opening upgraded an older file. */
  readonly log?: (message: string) => void;
}

export interface RangeQuery {
  readonly deviceId: string;
  /** ms since epoch, inclusive */
  readonly from: number;
  /** ms since epoch, inclusive */
  readonly to: number;
  /** Above this many rows the range is averaged into this many time buckets. */
  readonly maxPoints?: number;
}

/** Columnar (uPlot-ready) series; null = no value in that row/bucket. */
export interface HistorySeries {
  readonly deviceId: string;
  readonly from: number;
  readonly to: number;
  /** 0 = raw rows; otherwise the bucket width the values were averaged over. */
  readonly bucketMs: number;
  /** Stored rows in the range (before bucketing). */
  readonly rows: number;
  /** ms since epoch (bucket: mean time of its rows). */
  readonly time: number[];
  readonly series: Record<FixedField, Array<number | null>>;
  /** [sensor][point] */
  readonly temperatures: Array<Array<number | null>>;
  /** [cell][point], cell 1 first */
  readonly cells: Array<Array<number | null>>;
  /** [cell][point]: 1 balancing, 0 not; a bucket holds the share of rows that were. */
  readonly balancing: Array<Array<number | null>>;
}

export interface StoredAlert extends Alert {}

export interface PruneCounts {
  readonly readings: number;
  readonly alerts: number;
}

/** Short: a lock held elsewhere must cost the bridge milliseconds, not seconds (callers retry). */
export const DEFAULT_BUSY_TIMEOUT_MS = 20;
const DAY_MS = 86_400_000;
/** Buckets at least this wide are drawn from minute averages instead of raw rows. */
const ROLLUP_MIN_BUCKET_MS = 5 * 60_000;

function translate(path: string, e: unknown): HistoryError {
  if (e instanceof HistoryError) return e;
  const code = (e as { code?: unknown }).code;
  const what = `history database ${path}`;
  const detail = e instanceof Error ? e.message : String(e);
  if (code === "SQLITE_NOTADB" || (typeof code === "string" && code.startsWith("SQLITE_CORRUPT")))
    return new HistoryError(
      "Corrupt",
      `${what} is corrupt (${detail}); move it away and vesc2mqtt starts a new one`,
      { cause: e },
    );
  if (typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")))
    return new HistoryError("Locked", `${what} is locked by another process (${detail})`, { cause: e });
  if (e instanceof TypeError && /not open/.test(detail))
    return new HistoryError("Closed", `${what} is closed`, { cause: e });
  return new HistoryError("Io", `${what} cannot be used (${detail})`, { cause: e });
}

export class HistoryStore {
  private readonly deviceKeys = new Map<string, number>();
  private readonly rollup: MinuteRollup;
  private drift: CellDriftReader | undefined;
  private readonly stmts: {
    insert: Database.Statement;
    device: Database.Statement;
    newDevice: Database.Statement;
    alert: Database.Statement;
  };

  /** The file this store opened (device + inode), to notice it being deleted or replaced. */
  private readonly identity: { dev: number; ino: number };

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    readonly retentionDays: number,
  ) {
    const st = statSync(path);
    this.identity = { dev: st.dev, ino: st.ino };
    const placeholders = COLUMNS.map(() => "?").join(",");
    this.rollup = new MinuteRollup(db);
    this.stmts = {
      insert: db.prepare(
        `INSERT OR REPLACE INTO readings (device,${COLUMNS.join(",")}) VALUES (?,${placeholders})`,
      ),
      device: db.prepare("SELECT id FROM devices WHERE name = ?").pluck(),
      newDevice: db.prepare("INSERT INTO devices (name) VALUES (?)"),
      alert: db.prepare("INSERT INTO alerts (device, t, rule, active, message, can_id) VALUES (?,?,?,?,?,?)"),
    };
  }

  /** Opens (creating when absent) the database. Throws HistoryError. */
  static open(options: HistoryOptions): HistoryStore {
    const { path } = options;
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      db = new Database(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
      db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode: a power cut may lose the last commits, never corrupt the file.
      db.pragma("synchronous = NORMAL");
      let changes: SchemaChanges;
      try {
        changes = prepareSchema(db);
      } catch (e) {
        if (!(e instanceof SchemaTooNew)) throw e;
        throw new HistoryError(
          "Incompatible",
          `history database ${path} has schema ${e.message}, written by a newer vesc2mqtt; this one reads up to ${SCHEMA_VERSION}`,
        );
      }
      const { fromVersion, addedColumns, rebuiltMinutes } = changes;
      if (
        fromVersion !== undefined &&
        (fromVersion < SCHEMA_VERSION || addedColumns.length > 0 || rebuiltMinutes > 0)
      )
        options.log?.(
          `history: upgraded ${path} ${fromVersion < SCHEMA_VERSION ? `from schema ${fromVersion} to ${SCHEMA_VERSION}` : `(schema ${SCHEMA_VERSION})`}` +
            (addedColumns.length > 0 ? `, added ${addedColumns.join(", ")}` : "") +
            (rebuiltMinutes > 0 ? `, rebuilt ${rebuiltMinutes} minute averages` : ""),
        );
      return new HistoryStore(db, path, options.retentionDays ?? 30);
    } catch (e) {
      db?.close();
      throw translate(path, e);
    }
  }

  /**
   * True when the path no longer names the file this store writes to (deleted, or replaced
   * by another file): writes would go to an unlinked inode and be lost on close.
   */
  replacedOnDisk(): boolean {
    const st = statSync(this.path, { throwIfNoEntry: false });
    return st === undefined || st.ino !== this.identity.ino || st.dev !== this.identity.dev;
  }

  /** Writes the open minute averages and closes. Throws HistoryError (the file is closed anyway). */
  close(): void {
    if (!this.db.open) return;
    try {
      this.guard(() => this.rollup.flush());
    } finally {
      this.db.close();
    }
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw translate(this.path, e);
    }
  }

  private key(deviceId: string, create: boolean): number | undefined {
    const cached = this.deviceKeys.get(deviceId);
    if (cached !== undefined) return cached;
    let id = this.stmts.device.get(deviceId) as number | undefined;
    if (id === undefined && create) id = Number(this.stmts.newDevice.run(deviceId).lastInsertRowid);
    if (id !== undefined) this.deviceKeys.set(deviceId, id);
    return id;
  }

  /**
   * Stores readings in one transaction (all or none). IMMEDIATE: the write lock is taken
   * (or refused after the busy timeout) before any work, never halfway through.
   */
  insert(readings: readonly Reading[]): void {
    this.guard(() =>
      this.db
        .transaction(() => {
          for (const r of readings) {
            const key = this.key(r.deviceId, true) as number;
            const row = encodeReading(r);
            this.stmts.insert.run(key, ...row);
            this.drift?.written(key, row[0] as number);
            const layout = { cells: r.bms?.cells.length ?? 0, temps: r.bms?.temperatures.length ?? 0 };
            const v = new Float64Array(vectorLength(layout));
            decodeToVector(row, layout, v);
            this.rollup.add(key, row[0] as number, layout, v);
          }
        })
        .immediate(),
    );
  }

  insertAlerts(alerts: readonly Alert[]): void {
    this.guard(() =>
      this.db
        .transaction(() => {
          for (const a of alerts)
            this.stmts.alert.run(
              this.key(a.deviceId, true),
              Date.parse(a.time),
              a.rule,
              a.active ? 1 : 0,
              a.message,
              a.canId ?? null,
            );
        })
        .immediate(),
    );
  }

  /** Deletes rows older than the retention window, all at once; returns how many. */
  prune(now: number = Date.now()): PruneCounts {
    const steps = this.pruneSteps(now);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  }

  /**
   * Deletes rows older than the retention window in steps of at most about `maxRows` rows
   * (~3 µs each), yielding the running counts after each step, so a caller can let the event
   * loop run in between: an hour of a large fleet, or days after lowering retention_days,
   * are millions of rows. Per device, so each delete walks the (device, t) primary key
   * instead of needing a second index on t that would cost bytes in every row.
   */
  *pruneSteps(now: number = Date.now(), maxRows = 5000): Generator<PruneCounts, PruneCounts, void> {
    const cutoff = now - this.retentionDays * DAY_MS;
    const counts = { readings: 0, alerts: 0 };
    const { keys, nth, del, nthAlert, delAlerts } = this.guard(() => ({
      keys: this.db.prepare("SELECT id FROM devices").pluck().all() as number[],
      // The t of the budget-th oldest expired row: deleting up to it deletes `budget` rows.
      nth: this.db
        .prepare("SELECT t FROM readings WHERE device = ? AND t < ? ORDER BY t LIMIT 1 OFFSET ?")
        .pluck(),
      del: this.db.prepare("DELETE FROM readings WHERE device = ? AND t < ?"),
      nthAlert: this.db.prepare("SELECT t FROM alerts WHERE t < ? ORDER BY t LIMIT 1 OFFSET ?").pluck(),
      delAlerts: this.db.prepare("DELETE FROM alerts WHERE t < ?"),
    }));
    let budget = maxRows;
    for (const k of keys) {
      for (;;) {
        const edge = this.guard(() => nth.get(k, cutoff, budget - 1)) as number | undefined;
        const n = this.guard(() => del.run(k, edge === undefined ? cutoff : edge + 1).changes);
        // Minute averages are 1/12 of the rows or fewer: this device's go with its last step.
        budget -= n + (edge === undefined ? this.guard(() => this.rollup.prune(cutoff, [k])) : 0);
        counts.readings += n;
        if (n > 0) this.drift?.forget(k);
        if (budget <= 0) {
          yield { ...counts };
          budget = maxRows;
        }
        if (edge === undefined) break;
      }
    }
    for (;;) {
      const edge = this.guard(() => nthAlert.get(cutoff, Math.max(0, budget - 1))) as number | undefined;
      const n = this.guard(() => delAlerts.run(edge === undefined ? cutoff : edge + 1).changes);
      counts.alerts += n;
      if (edge === undefined) return counts;
      yield { ...counts };
      budget = maxRows;
    }
  }

  /** Device ids with stored data. */
  devices(): string[] {
    return this.guard(
      () => this.db.prepare("SELECT name FROM devices ORDER BY name").pluck().all() as string[],
    );
  }

  /** Row count and file size (bytes in the main file + WAL are what the user pays). */
  stats(): { readings: number; alerts: number; bytes: number } {
    return this.guard(() => {
      const pages = this.db.pragma("page_count", { simple: true }) as number;
      const size = this.db.pragma("page_size", { simple: true }) as number;
      const readings = this.db.prepare("SELECT count(*) FROM readings").pluck().get() as number;
      const alerts = this.db.prepare("SELECT count(*) FROM alerts").pluck().get() as number;
      return { readings, alerts, bytes: pages * size };
    });
  }

  /** Merges the WAL into the main file (used before measuring and on shutdown). */
  checkpoint(): void {
    this.guard(() => this.db.pragma("wal_checkpoint(TRUNCATE)"));
  }

  /** Alerts of one device (or all when deviceId is undefined) in a range, oldest first. */
  alerts(q: { deviceId?: string; from: number; to: number; limit?: number }): StoredAlert[] {
    return this.guard(() => {
      const rows = this.db
        .prepare(
          `SELECT d.name AS deviceId, a.can_id AS canId, a.t, a.rule, a.active, a.message FROM alerts a JOIN devices d ON d.id = a.device
           WHERE a.t >= ? AND a.t <= ? ${q.deviceId === undefined ? "" : "AND d.name = ?"} ORDER BY a.t, a.rowid LIMIT ?`,
        )
        .all(...[q.from, q.to, ...(q.deviceId === undefined ? [] : [q.deviceId]), q.limit ?? 1000]) as Array<{
        deviceId: string;
        canId: number | null;
        t: number;
        rule: string;
        active: number;
        message: string;
      }>;
      return rows.map((r) => ({
        deviceId: r.deviceId,
        // A device's own alert has no canId at all, so its JSON is what it was before nodes had alerts.
        ...(r.canId === null ? {} : { canId: r.canId }),
        rule: r.rule,
        active: r.active === 1,
        message: r.message,
        time: new Date(r.t).toISOString(),
      }));
    });
  }

  /**
   * Points of a range: raw rows, or bucket averages when the range holds more than
   * maxPoints rows. Yields [time, vector] with the vector layout of historyCodec.ts.
   */
  private *points(q: RangeQuery): Generator<Point, void, void> {
    const key = this.key(q.deviceId, false);
    if (key === undefined) return;
    const { layout, bucketMs } = this.plan(q);
    const row = new Float64Array(vectorLength(layout));
    const buckets = new BucketAverager(row.length);
    const bucketOf = (t: number) => Math.floor((t - q.from) / bucketMs);
    if (bucketMs >= ROLLUP_MIN_BUCKET_MS) {
      // Minute averages, weighted by their reading count; their readings sit mid-minute.
      for (const [t, n, v] of this.rollup.rows(key, q.from, q.to, layout)) {
        const done = buckets.push(bucketOf(t), t + 30_000, v, n);
        if (done) yield done;
      }
    } else {
      const rows = this.db
        .prepare(
          `SELECT ${COLUMNS.slice(0, -1).join(",")} FROM readings WHERE device = ? AND t >= ? AND t <= ? ORDER BY t`,
        )
        .raw()
        .iterate(key, q.from, q.to) as IterableIterator<unknown[]>;
      for (const r of rows) {
        const t = r[0] as number;
        decodeToVector(r, layout, row);
        if (bucketMs === 0) {
          yield [t, row];
          continue;
        }
        const done = buckets.push(bucketOf(t), t, row);
        if (done) yield done;
      }
    }
    const last = buckets.finish();
    if (last) yield last;
  }

  private plan(q: RangeQuery): { layout: Layout; bucketMs: number; rows: number } {
    const key = this.key(q.deviceId, false);
    const info = this.db
      .prepare(
        "SELECT count(*) AS n, max(length(cells)) AS c, max(length(temps)) AS tp FROM readings WHERE device = ? AND t >= ? AND t <= ?",
      )
      .get(key ?? -1, q.from, q.to) as { n: number; c: number | null; tp: number | null };
    const layout = { cells: (info.c ?? 0) >> 1, temps: (info.tp ?? 0) >> 1 };
    const max = Math.max(1, Math.floor(q.maxPoints ?? Number.POSITIVE_INFINITY));
    const bucketMs = info.n > max ? Math.ceil((q.to - q.from + 1) / max) : 0;
    return { layout, bucketMs, rows: info.n };
  }

  /** A range as columnar series (default at most 1000 points). */
  query(q: RangeQuery): HistorySeries {
    return this.guard(() => {
      const query = { ...q, maxPoints: q.maxPoints ?? 1000 };
      const { layout, bucketMs, rows } = this.plan(query);
      const col = () => [] as Array<number | null>;
      const series = Object.fromEntries(FIXED_FIELDS.map((f) => [f, col()])) as Record<
        FixedField,
        Array<number | null>
      >;
      const temperatures = Array.from({ length: layout.temps }, col);
      const cells = Array.from({ length: layout.cells }, col);
      const balancing = Array.from({ length: layout.cells }, col);
      const time: number[] = [];
      const fixed = FIXED_FIELDS.length;
      for (const [t, v] of this.points(query)) {
        time.push(t);
        const at = (i: number) => tidy(v[i] ?? Number.NaN);
        FIXED_FIELDS.forEach((f, i) => {
          series[f].push(at(i));
        });
        for (let i = 0; i < layout.temps; i++) temperatures[i]?.push(at(fixed + i));
        for (let i = 0; i < layout.cells; i++) {
          cells[i]?.push(at(fixed + layout.temps + i));
          balancing[i]?.push(at(fixed + layout.temps + layout.cells + i));
        }
      }
      return {
        deviceId: q.deviceId,
        from: q.from,
        to: q.to,
        bucketMs,
        rows,
        time,
        series,
        temperatures,
        cells,
        balancing,
      };
    });
  }

  /** Each cell's deviation from the pack mean at rest per hour or day (historyDrift.ts); bounded work. */
  cellDrift(q: CellDriftQuery & { readonly deviceId: string }): CellDriftSeries {
    return this.guard(() => {
      const key = this.key(q.deviceId, false);
      if (key === undefined) return noDrift(q);
      this.drift ??= new CellDriftReader(this.db);
      return this.drift.query(key, q);
    });
  }

  /**
   * CSV lines of a range (header first, each line ending in \n): one column per value,
   * every cell included. Raw rows unless maxPoints asks for buckets. Lazy, for big ranges.
   */
  *csv(q: RangeQuery): Generator<string, void, void> {
    const { layout } = this.guard(() => this.plan(q));
    yield `time,${csvColumns(layout).join(",")}\n`;
    const it = this.guard(() => this.points(q));
    for (;;) {
      const next = this.guard(() => it.next());
      if (next.done) return;
      const [t, v] = next.value;
      let line = new Date(t).toISOString();
      for (const x of v) line += `,${tidy(x) ?? ""}`;
      yield `${line}\n`;
    }
  }
}
