/**
 * The history file's tables and how an older file is brought up to date, in place, when it
 * is opened. Three kinds of change, none of which refuses a file:
 * - a numbered schema version with one migration per step (MIGRATIONS), run in order in
 *   one transaction;
 * - a value given a `history` column in the value catalogue (src/values/): the missing
 *   INTEGER column is added (old rows read it as absent), no version step needed;
 * - a change to what the minute averages hold (FIXED_FIELDS or VECTOR_REVISION): the
 *   averages are rebuilt from the raw rows, which have the same retention.
 * Only a file written by a newer vesc2mqtt (a higher version) is refused.
 */
import type Database from "better-sqlite3";
import {
  CELLS_AT,
  decodeToVector,
  FIXED_FIELDS,
  READING_SCALARS,
  SCALARS,
  vectorLength,
} from "./historyCodec.js";
import { MinuteRollup, ROLLUP_SCHEMA } from "./rollup.js";

export const SCHEMA_VERSION = 3;

/**
 * Bump when a derived value of decodeToVector (historyCodec.ts) is computed differently:
 * the stored minute averages then no longer match and are rebuilt on the next open.
 * 1: power = pack voltage × i_in. 2: power from the current the BMS measures (i_in_ic
 * unless it reads 0); cell stats over the plausible cells only.
 */
export const VECTOR_REVISION = 2;

/** What the minute averages of this build hold; stored in meta 'vector'. */
export const VECTOR_SIGNATURE = `${VECTOR_REVISION}:${FIXED_FIELDS.join(",")}`;

/** Row columns after device: t, the scalars, the reading's own (latency_ms), then the fixed tail. */
const STORED = [...SCALARS, ...READING_SCALARS];
export const COLUMNS = ["t", ...STORED.map(([c]) => c), "cells", "temps", "balancing", "can"];

const DDL = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS devices (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  CREATE TABLE IF NOT EXISTS readings (
    device INTEGER NOT NULL, t INTEGER NOT NULL,
    ${SCALARS.map(([c]) => `${c} INTEGER`).join(", ")},
    ${READING_SCALARS.map(([c]) => `${c} INTEGER, `).join("")}cells BLOB, temps BLOB, balancing BLOB, can TEXT,
    PRIMARY KEY (device, t)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS alerts (
    device INTEGER NOT NULL, t INTEGER NOT NULL, rule TEXT NOT NULL,
    active INTEGER NOT NULL, message TEXT NOT NULL, can_id INTEGER);
  CREATE INDEX IF NOT EXISTS alerts_device_t ON alerts (device, t);
  CREATE INDEX IF NOT EXISTS alerts_t ON alerts (t);
  ${ROLLUP_SCHEMA}
`;

/** The minute-average layout every schema-1 file was written with (before meta 'vector' existed). */
const V1_VECTOR_SIGNATURE =
  "1:packVoltage,chargeVoltage,current,currentIc,ampHours,wattHours,soc,soh,icTemperature,humidity," +
  "humidityTemperature,maxCellTemperature,ampHoursChargedTotal,wattHoursChargedTotal," +
  "ampHoursDischargedTotal,wattHoursDischargedTotal,pressure,latencyMs,power,cellMin,cellMax,cellAverage,cellDelta";

/** MIGRATIONS[v] upgrades a version-v file to v + 1. */
const MIGRATIONS: Record<number, (db: Database.Database) => void> = {
  // 2: meta 'vector' records what the minute averages hold, so a codec change can rebuild them.
  1: (db) => {
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('vector', ?)").run(V1_VECTOR_SIGNATURE);
  },
  // 3: alerts.can_id names the CAN BMS node an alert belongs to; NULL (every older row) is the device's own.
  2: (db) => {
    const columns = db.prepare("SELECT name FROM pragma_table_info('alerts')").pluck().all() as string[];
    if (!columns.includes("can_id")) db.exec("ALTER TABLE alerts ADD COLUMN can_id INTEGER");
  },
};

export class SchemaTooNew extends Error {}

/** What opening changed, for one log line. */
export interface SchemaChanges {
  readonly fromVersion: number | undefined;
  readonly addedColumns: readonly string[];
  readonly rebuiltMinutes: number;
}

/**
 * Creates a new file's tables or brings an older file up to date (in one transaction).
 * Throws SchemaTooNew for a file of a newer version; SQLite errors pass through.
 */
export function prepareSchema(db: Database.Database): SchemaChanges {
  return db
    .transaction((): SchemaChanges => {
      db.exec(DDL);
      const meta = db.prepare("SELECT value FROM meta WHERE key = ?").pluck();
      const setMeta = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
      const stored = meta.get("schema") as string | undefined;
      if (stored === undefined) {
        setMeta.run("schema", String(SCHEMA_VERSION));
        setMeta.run("vector", VECTOR_SIGNATURE);
        return { fromVersion: undefined, addedColumns: [], rebuiltMinutes: 0 };
      }
      const version = Number(stored);
      if (!Number.isInteger(version) || version < 1 || version > SCHEMA_VERSION)
        throw new SchemaTooNew(stored);
      for (let v = version; v < SCHEMA_VERSION; v++) {
        const step = MIGRATIONS[v];
        if (!step) throw new Error(`no migration from history schema ${v}`);
        step(db);
      }
      setMeta.run("schema", String(SCHEMA_VERSION));
      const addedColumns = addMissingColumns(db);
      let rebuiltMinutes = 0;
      if (meta.get("vector") !== VECTOR_SIGNATURE) {
        rebuiltMinutes = rebuildMinuteAverages(db);
        setMeta.run("vector", VECTOR_SIGNATURE);
      }
      return { fromVersion: version, addedColumns, rebuiltMinutes };
    })
    .immediate();
}

/** Adds the readings columns of scalars this build stores and the file does not have yet. */
function addMissingColumns(db: Database.Database): string[] {
  const have = new Set(
    (db.prepare("SELECT name FROM pragma_table_info('readings')").pluck().all() as string[]).map((n) =>
      n.toLowerCase(),
    ),
  );
  const added: string[] = [];
  for (const [column] of STORED) {
    if (have.has(column)) continue;
    db.exec(`ALTER TABLE readings ADD COLUMN ${column} INTEGER`);
    added.push(column);
  }
  return added;
}

/** Recomputes every minute average from the raw rows; returns how many minutes were written. */
function rebuildMinuteAverages(db: Database.Database): number {
  db.exec("DELETE FROM rollup_1m");
  const rollup = new MinuteRollup(db);
  const devices = db.prepare("SELECT id FROM devices").pluck().all() as number[];
  // Pages, not one iterator: better-sqlite3 cannot write while a read statement is open.
  const page = db
    .prepare(
      `SELECT ${COLUMNS.slice(0, -1).join(",")} FROM readings WHERE device = ? AND t > ? ORDER BY t LIMIT 5000`,
    )
    .raw();
  for (const device of devices) {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = page.all(device, after) as unknown[][];
      for (const row of rows) {
        const cells = row[CELLS_AT] as Uint8Array | null;
        const temps = row[CELLS_AT + 1] as Uint8Array | null;
        const layout = { cells: (cells?.byteLength ?? 0) >> 1, temps: (temps?.byteLength ?? 0) >> 1 };
        const v = new Float64Array(vectorLength(layout));
        decodeToVector(row, layout, v);
        rollup.add(device, row[0] as number, layout, v);
      }
      if (rows.length < 5000) break;
      after = rows[rows.length - 1]?.[0] as number;
    }
  }
  rollup.flush();
  return db.prepare("SELECT count(*) FROM rollup_1m").pluck().get() as number;
}
