/**
 * Where the battery estimators' state survives restarts: one small SQLite file
 * (`<data_dir>/battery.db`, one row per device holding BatteryEstimator.snapshot() as JSON).
 * Separate from the history file on purpose: it exists whether history is on or off, and
 * history retention or a deleted history file never resets the energy counters.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

export class BatteryStateError extends Error {
  override readonly name = "BatteryStateError";
}

export interface StoredBatteryState {
  /** BatteryEstimator.snapshot() as stored; the caller validates it (BatteryEstimator.restore). */
  readonly snapshot: unknown;
  /** When it was saved, ms since the epoch. */
  readonly savedMs: number;
}

export class BatteryStateStore {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[string], { snapshot: string; saved_ms: number }>;
  readonly #put: Database.Statement<[string, string, number]>;

  constructor(readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.#db = new Database(path);
      this.#db.pragma("journal_mode = WAL");
      this.#db.exec(
        "CREATE TABLE IF NOT EXISTS battery_state (device_id TEXT PRIMARY KEY, snapshot TEXT NOT NULL, saved_ms INTEGER NOT NULL)",
      );
      this.#get = this.#db.prepare("SELECT snapshot, saved_ms FROM battery_state WHERE device_id = ?");
      this.#put = this.#db.prepare(
        "INSERT INTO battery_state (device_id, snapshot, saved_ms) VALUES (?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET snapshot = excluded.snapshot, saved_ms = excluded.saved_ms",
      );
    } catch (e) {
      throw new BatteryStateError(`battery state file ${path} cannot be opened: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** The device's saved state, or undefined when none (or it is not JSON: then the counters start anew). */
  load(deviceId: string): StoredBatteryState | undefined {
    const row = this.#get.get(deviceId);
    if (!row) return undefined;
    try {
      return { snapshot: JSON.parse(row.snapshot) as unknown, savedMs: row.saved_ms };
    } catch {
      return undefined;
    }
  }

  save(deviceId: string, snapshot: unknown, savedMs: number): void {
    this.#put.run(deviceId, JSON.stringify(snapshot), Math.round(savedMs));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
