/**
 * Where the battery estimators' state survives restarts: one small SQLite file
 * (`<data_dir>/battery.db`, one row per BMS holding BatteryEstimator.snapshot() as JSON, keyed
 * by the device id for a device's own BMS and `<device id>:can<id>` for a CAN BMS node).
 * Separate from the history file on purpose: it exists whether history is on or off, and
 * history retention or a deleted history file never resets the energy counters.
 * Periodic saves are queued and written together, one transaction per batch (a fleet's
 * saves one by one were a statement and a WAL commit each); loading a queued key and close()
 * write the queue first. A failed write never throws into the reading path: the batch stays
 * queued (retried a batch delay later) and the failure is reported once per episode.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

export class BatteryStateError extends Error {
  override readonly name = "BatteryStateError";
}

/** Which pack the state was counted on: a device id reused for another device or pack must not inherit it. */
export interface BatteryIdentity {
  /** The device's UUID (COMM_FW_VERSION). */
  readonly deviceUuid: string;
  /** Cells in series as the BMS reports them. */
  readonly cells: number;
}

export interface StoredBatteryState {
  /** BatteryEstimator.snapshot() as stored; the caller validates it (BatteryEstimator.restore). */
  readonly snapshot: unknown;
  /** When it was saved, ms since the epoch. */
  readonly savedMs: number;
  /** Absent for a row saved without one. */
  readonly identity?: BatteryIdentity;
}

/** A BMS whose state is due to be written: asked for it when the batch goes out, not before. */
export interface PendingBatteryState {
  readonly key: string;
  /** The snapshot as of now, when it was taken (reading time) and the pack it was counted on. */
  state(): {
    readonly snapshot: unknown;
    readonly savedMs: number;
    readonly identity?: BatteryIdentity | undefined;
  };
  /** Told once the state last taken by state() is committed (only then is it safe to forget it). */
  saved?(): void;
}

/** How long a queued save may wait for others to join its batch, ms of reading time. */
export const DEFAULT_BATCH_MS = 1000;

interface Row {
  snapshot: string;
  saved_ms: number;
  device_uuid: string | null;
  cells: number | null;
}

export class BatteryStateStore {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[string], Row>;
  readonly #put: Database.Statement<[string, string, number, string | null, number | null]>;
  readonly #putAll: (rows: readonly PreparedRow[]) => void;
  /** Queued by key: a BMS queued again before the batch went out is written once. */
  readonly #queue = new Map<string, PendingBatteryState>();
  /** Reading time of the oldest queued save. */
  #queuedAtMs = 0;
  /** Latest reading time seen: a failed batch is retried a batch delay after it. */
  #nowMs = 0;
  /** In a failure episode (reported at its start and its end, never per batch). */
  #failing = false;
  /** Keys whose snapshot could not be taken, reported until they save again. */
  readonly #badKeys = new Set<string>();

  constructor(
    readonly path: string,
    private readonly batchMs: number = DEFAULT_BATCH_MS,
    /** Told when saves fail (a line per episode) or a BMS's state cannot be taken; default stderr. */
    private readonly onError: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
  ) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.#db = new Database(path);
      this.#db.pragma("journal_mode = WAL");
      // No fsync per save (WAL + NORMAL syncs at checkpoints): saves run on the reading path,
      // and losing the last seconds on power loss only costs a few seconds of counting.
      this.#db.pragma("synchronous = NORMAL");
      this.#db.exec(
        "CREATE TABLE IF NOT EXISTS battery_state (device_id TEXT PRIMARY KEY, snapshot TEXT NOT NULL, saved_ms INTEGER NOT NULL)",
      );
      // Identity columns came later: an older file gets them (its rows read as without identity).
      const columns = new Set(
        (this.#db.pragma("table_info(battery_state)") as { name: string }[]).map((c) => c.name),
      );
      if (!columns.has("device_uuid")) this.#db.exec("ALTER TABLE battery_state ADD COLUMN device_uuid TEXT");
      if (!columns.has("cells")) this.#db.exec("ALTER TABLE battery_state ADD COLUMN cells INTEGER");
      this.#get = this.#db.prepare(
        "SELECT snapshot, saved_ms, device_uuid, cells FROM battery_state WHERE device_id = ?",
      );
      this.#put = this.#db.prepare(
        "INSERT INTO battery_state (device_id, snapshot, saved_ms, device_uuid, cells) VALUES (?, ?, ?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET snapshot = excluded.snapshot, saved_ms = excluded.saved_ms, device_uuid = excluded.device_uuid, cells = excluded.cells",
      );
      this.#putAll = this.#db.transaction((rows: readonly PreparedRow[]) => {
        for (const r of rows) this.#put.run(r.key, r.json, r.savedMs, r.deviceUuid, r.cells);
      });
    } catch (e) {
      throw new BatteryStateError(`battery state file ${path} cannot be opened: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /**
   * The state saved under `key` (batteryStateKey in src/bridge/batteryStage.ts), or undefined
   * when none (or it is not JSON: then the counters start anew).
   */
  load(key: string): StoredBatteryState | undefined {
    if (this.#queue.has(key)) this.flush();
    const row = this.#get.get(key);
    if (!row) return undefined;
    let snapshot: unknown;
    try {
      snapshot = JSON.parse(row.snapshot) as unknown;
    } catch {
      return undefined;
    }
    const identity =
      row.device_uuid !== null && row.cells !== null
        ? { deviceUuid: row.device_uuid, cells: row.cells }
        : undefined;
    return { snapshot, savedMs: row.saved_ms, ...(identity ? { identity } : {}) };
  }

  save(key: string, snapshot: unknown, savedMs: number, identity?: BatteryIdentity): void {
    const r = preparedRow(key, snapshot, savedMs, identity);
    this.#put.run(r.key, r.json, r.savedMs, r.deviceUuid, r.cells);
  }

  /**
   * Queues a save, written with the others queued within `batchMs` of reading time: by the
   * first queue() or flushDue() call after that, by flush(), close(), or load() of a queued key.
   */
  queue(pending: PendingBatteryState, nowMs: number): void {
    this.#nowMs = Math.max(this.#nowMs, nowMs);
    if (this.#queue.size === 0) this.#queuedAtMs = nowMs;
    this.#queue.set(pending.key, pending);
    this.flushDue(nowMs);
  }

  /** Writes the queue once its oldest save waited `batchMs`; cheap when it has not (called per reading). */
  flushDue(nowMs: number): void {
    this.#nowMs = Math.max(this.#nowMs, nowMs);
    if (this.#queue.size > 0 && nowMs - this.#queuedAtMs >= this.batchMs) this.flush();
  }

  /**
   * Writes everything queued now, in one transaction; false when it did not (never throws).
   * A BMS whose snapshot cannot be taken is left out (and reported); a failed transaction
   * puts the batch back in the queue, so no BMS is forgotten before its state is committed.
   */
  flush(): boolean {
    if (this.#queue.size === 0) return true;
    const pending = [...this.#queue.values()];
    this.#queue.clear();
    const rows: PreparedRow[] = [];
    const taken: PendingBatteryState[] = [];
    for (const p of pending) {
      try {
        rows.push(rowOf(p));
        taken.push(p);
      } catch (e) {
        // Not queued again: it stays unsaved (dirty) and its next periodic save tries again.
        if (!this.#badKeys.has(p.key))
          this.onError(`battery state ${p.key} not saved: ${(e as Error).message}`);
        this.#badKeys.add(p.key);
      }
    }
    try {
      this.#putAll(rows);
    } catch (e) {
      for (const p of taken) if (!this.#queue.has(p.key)) this.#queue.set(p.key, p);
      this.#queuedAtMs = this.#nowMs;
      if (!this.#failing)
        this.onError(`battery state not saved (retrying every batch): ${(e as Error).message}`);
      this.#failing = true;
      return false;
    }
    for (const p of taken) {
      p.saved?.();
      this.#badKeys.delete(p.key);
    }
    if (this.#failing) this.onError("battery state saves work again");
    this.#failing = false;
    return rows.length === pending.length;
  }

  /** Writes what is queued, then closes the file. */
  close(): void {
    if (!this.#db.open) return;
    this.flush();
    this.#db.close();
  }
}

/** A queued save as the statement takes it. */
interface PreparedRow {
  readonly key: string;
  readonly json: string;
  readonly savedMs: number;
  readonly deviceUuid: string | null;
  readonly cells: number | null;
}

function rowOf(p: PendingBatteryState): PreparedRow {
  const s = p.state();
  return preparedRow(p.key, s.snapshot, s.savedMs, s.identity);
}

function preparedRow(
  key: string,
  snapshot: unknown,
  savedMs: number,
  identity: BatteryIdentity | undefined,
): PreparedRow {
  const json = JSON.stringify(snapshot) as string | undefined;
  if (typeof json !== "string") throw new BatteryStateError("the snapshot is not JSON");
  return {
    key,
    json,
    savedMs: Math.round(savedMs),
    deviceUuid: identity?.deviceUuid ?? null,
    cells: identity?.cells ?? null,
  };
}
