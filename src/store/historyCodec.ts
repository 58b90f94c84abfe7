/**
 * How a Reading becomes one compact history row and back. Scalars are stored as SQLite
 * INTEGERs at the protocol's own resolution (mV, mA, 0.01 %, 0.01 °C …): SQLite packs
 * small integers into 1–4 bytes where a REAL always takes 8. Cells and temperatures are
 * little-endian int16 BLOBs (1 mV / 0.01 °C, the resolution COMM_BMS_GET_VALUES sends),
 * balancing is a bit set. Nothing is lost that the device reported. Which values are stored,
 * under which column and at which scale, is the value catalogue's `history` (src/values/).
 */
import type { BmsReading, CanNodeReading, Reading } from "../model/reading.js";
import {
  BMS_SOURCES,
  CATALOGUE,
  type Catalogue,
  fieldOf,
  type HistorySpec,
  inPinnedOrder,
  RIDE_SOURCES,
  SOURCES,
  type ValueDef,
} from "../values/index.js";

/**
 * The column order of every file written so far (schema 2). A value stored later gets its
 * column after these (in catalogue order), which is where ALTER TABLE puts it in an old file.
 */
const SCHEMA_2_COLUMNS = [
  "pack_voltage",
  "charge_voltage",
  "current",
  "current_ic",
  "amp_hours",
  "watt_hours",
  "soc",
  "soh",
  "ic_temperature",
  "humidity",
  "humidity_temperature",
  "max_cell_temperature",
  "amp_hours_charged_total",
  "watt_hours_charged_total",
  "amp_hours_discharged_total",
  "watt_hours_discharged_total",
  "pressure",
];

/** [column, value id, scale to integer, the value]. */
export type StoredScalar = readonly [string, string, number, ValueDef];

type Stored = ValueDef & { readonly history: HistorySpec };
const storedAs = (v: Stored): StoredScalar => [v.history.column, v.id, v.history.scale, v] as const;

/**
 * The stored scalars of a catalogue read from a reading's BMS part (every BMS source: values,
 * statistics, summaries, estimates, verdicts) or its riding CAN node, in column order. Motor
 * values go to the `can` JSON whole.
 */
export function historyScalars(cat: Catalogue): readonly StoredScalar[] {
  // Catalogue order, not grouped by source: a value added later (any source) gets the last column.
  const stored = cat.values.filter(
    (v): v is Stored =>
      (BMS_SOURCES.includes(v.source) || RIDE_SOURCES.includes(v.source)) && v.history !== undefined,
  );
  return inPinnedOrder(stored, SCHEMA_2_COLUMNS, (v) => v.history.column).map(storedAs);
}

/** The stored values of the reading itself (the poll latency), in catalogue order. */
export function readingScalars(cat: Catalogue): readonly StoredScalar[] {
  return cat.values
    .filter((v): v is Stored => SOURCES[v.source].part === "reading" && v.history !== undefined)
    .map(storedAs);
}

/** [column, value id, scale to integer, the value]. Column order is the table's. */
export const SCALARS: readonly StoredScalar[] = historyScalars(CATALOGUE);

/** The reading's own columns, stored after SCALARS and before the BLOBs. */
export const READING_SCALARS: readonly StoredScalar[] = readingScalars(CATALOGUE);

/** Row position of the cells BLOB; temps and balancing follow it, then the `can` JSON. */
export const CELLS_AT = 1 + SCALARS.length + READING_SCALARS.length;

const familyScale = (field: string) =>
  CATALOGUE.families.find((f) => f.field === field)?.history?.scale ?? Number.NaN;
/** mV and 0.01 °C: the resolution COMM_BMS_GET_VALUES sends. */
const CELL_SCALE = familyScale("cells");
const TEMPERATURE_SCALE = familyScale("temperatures");

/** One stored row, in column order: t, ...SCALARS, ...READING_SCALARS, cells, temps, balancing, can. */
export type Row = Array<number | bigint | Buffer | string | null>;

const INT16_MAX = 32767;
/** Stored for a null (not applicable / implausible) cell or temperature; clamp16 never yields it. */
const INT16_ABSENT = -32768;
const clamp16 = (v: number) => Math.max(-INT16_MAX, Math.min(INT16_MAX, Math.round(v)));

function packInt16(values: readonly (number | null)[], scale: number): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => {
    b.writeInt16LE(v === null ? INT16_ABSENT : clamp16(v * scale), i * 2);
  });
  return b;
}

function unpackInt16(b: Uint8Array | null, scale: number): number[] {
  if (!b) return [];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = new Array(b.byteLength >> 1);
  for (let i = 0; i < out.length; i++) {
    const raw = view.getInt16(i * 2, true);
    out[i] = raw === INT16_ABSENT ? Number.NaN : raw / scale;
  }
  return out;
}

function packBits(flags: readonly boolean[]): Buffer | null {
  if (!flags.some(Boolean)) return null; // the common case costs no bytes at all
  const b = Buffer.alloc(Math.ceil(flags.length / 8));
  flags.forEach((f, i) => {
    if (f) b[i >> 3] = (b[i >> 3] ?? 0) | (1 << (i & 7));
  });
  return b;
}

function bit(b: Uint8Array | null, i: number): number {
  return b && ((b[i >> 3] ?? 0) >> (i & 7)) & 1 ? 1 : 0;
}

/** Only what the charts and CSV need from CAN nodes: values/bms without device identity. */
function canJson(reading: Reading): string | null {
  if (!reading.can) return null;
  const out: Record<string, unknown> = {};
  for (const [id, node] of Object.entries(reading.can)) {
    if (node.values) out[id] = node.values;
  }
  return Object.keys(out).length > 0 ? JSON.stringify(out) : null;
}

/**
 * The CAN node whose ride values a row stores: the first with any. A board has one
 * controller that rides; a second one's trip and speed would only repeat it.
 */
function rideNodeOf(reading: Reading): CanNodeReading | undefined {
  for (const node of Object.values(reading.can ?? {})) if (node.ride) return node;
  return undefined;
}

/** A stored value as its integer: round(value × scale); a flag (a verdict) is 1 or 0; else null. */
function storedInteger(def: ValueDef, scale: number, part: object | undefined): number | null {
  const x = fieldOf(def, part);
  if (typeof x === "boolean") return x ? 1 : 0;
  return typeof x === "number" && Number.isFinite(x) ? Math.round(x * scale) : null;
}

/**
 * The row for one reading (without the device key, which the store prepends). `scalars`: the
 * catalogue's (tests pass their own catalogue's historyScalars).
 */
export function encodeReading(reading: Reading, scalars: readonly StoredScalar[] = SCALARS): Row {
  const bms = reading.bms;
  const ride = rideNodeOf(reading);
  const row: Row = [Date.parse(reading.time)];
  for (const [, , scale, def] of scalars)
    row.push(storedInteger(def, scale, RIDE_SOURCES.includes(def.source) ? ride : bms));
  for (const [, , scale, def] of READING_SCALARS) row.push(storedInteger(def, scale, reading));
  row.push(bms && bms.cells.length > 0 ? packInt16(bms.cells, CELL_SCALE) : null);
  row.push(bms && bms.temperatures.length > 0 ? packInt16(bms.temperatures, TEMPERATURE_SCALE) : null);
  row.push(bms ? packBits(bms.balancing) : null);
  row.push(canJson(reading));
  return row;
}

/**
 * A decoded row flattened to one numeric vector (NaN = absent), so raw rows and bucketed
 * averages share one code path. Layout: FIXED_FIELDS, then temperatures, cells, balancing.
 */
/** Numeric fields of the BMS reading: what a stored scalar's id names. */
type ScalarKey = {
  [K in keyof BmsReading]-?: NonNullable<BmsReading[K]> extends number ? K : never;
}[keyof BmsReading];

export type FixedField =
  | ScalarKey
  | "latencyMs"
  | "power"
  | "cellMin"
  | "cellMax"
  | "cellAverage"
  | "cellDelta";

export const FIXED_FIELDS: readonly FixedField[] = [
  ...SCALARS.map(([, key]) => key as ScalarKey),
  ...READING_SCALARS.map(([, key]) => key as FixedField),
  "power",
  "cellMin",
  "cellMax",
  "cellAverage",
  "cellDelta",
];

/** Positions of the stored scalars the derived power reads. */
const PACK_VOLTAGE = FIXED_FIELDS.indexOf("packVoltage");
const CURRENT = FIXED_FIELDS.indexOf("current");
const CURRENT_IC = FIXED_FIELDS.indexOf("currentIc");

export interface Layout {
  readonly temps: number;
  readonly cells: number;
}

export const vectorLength = (l: Layout) => FIXED_FIELDS.length + l.temps + l.cells * 2;

/** Row as returned by better-sqlite3 in raw mode: t, ...SCALARS, ...READING_SCALARS, cells, temps, balancing. */
export function decodeToVector(row: readonly unknown[], layout: Layout, out: Float64Array): void {
  out.fill(Number.NaN);
  let k = 0;
  SCALARS.forEach(([, , scale], i) => {
    const v = row[i + 1];
    out[k++] = typeof v === "number" ? v / scale : Number.NaN;
  });
  READING_SCALARS.forEach(([, , scale], i) => {
    const v = row[SCALARS.length + 1 + i];
    out[k++] = typeof v === "number" ? v / scale : Number.NaN;
  });
  // power = pack voltage × the current the BMS measures (model/bmsReading.ts packCurrent)
  const pv = out[PACK_VOLTAGE] ?? Number.NaN;
  const current = out[CURRENT] ?? Number.NaN;
  const currentIc = out[CURRENT_IC] ?? Number.NaN;
  const icMissing = Number.isNaN(currentIc) || currentIc === 0;
  out[k++] = pv * (icMissing && !Number.isNaN(current) && current !== 0 ? current : currentIc);
  const cells = unpackInt16(row[CELLS_AT] as Uint8Array | null, CELL_SCALE);
  if (cells.length > 0) {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let count = 0;
    for (const c of cells) {
      if (Number.isNaN(c)) continue;
      if (c < min) min = c;
      if (c > max) max = c;
      sum += c;
      count++;
    }
    if (count > 0) {
      out[k] = min;
      out[k + 1] = max;
      out[k + 2] = sum / count;
      out[k + 3] = max - min;
    }
  }
  k += 4;
  const temps = unpackInt16(row[CELLS_AT + 1] as Uint8Array | null, TEMPERATURE_SCALE);
  for (let i = 0; i < layout.temps && i < temps.length; i++) out[k + i] = temps[i] ?? Number.NaN;
  k += layout.temps;
  const bal = row[CELLS_AT + 2] as Uint8Array | null;
  for (let i = 0; i < layout.cells && i < cells.length; i++) {
    out[k + i] = cells[i] ?? Number.NaN;
    out[k + layout.cells + i] = bit(bal, i);
  }
}

const csvName = (field: string) => CATALOGUE.families.find((f) => f.field === field)?.history?.csv ?? field;

/** CSV header names for a layout, in vector order (after the leading `time`). */
export function csvColumns(layout: Layout): string[] {
  const fixed = FIXED_FIELDS.map((f) => {
    const s = SCALARS.find(([, key]) => key === f) ?? READING_SCALARS.find(([, key]) => key === f);
    return s ? s[0] : f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  });
  const temps = Array.from({ length: layout.temps }, (_, i) => `${csvName("temperatures")}_${i + 1}`);
  const cells = Array.from({ length: layout.cells }, (_, i) => `${csvName("cells")}_${i + 1}`);
  const bal = Array.from({ length: layout.cells }, (_, i) => `${csvName("balancing")}_${i + 1}`);
  return [...fixed, ...temps, ...cells, ...bal];
}

/** Rounds away float noise from averaging; 0.1 mV / 0.1 mA is below any sensor's resolution. */
export function tidy(v: number): number | null {
  return Number.isFinite(v) ? Math.round(v * 10000) / 10000 : null;
}
