/**
 * How a Reading becomes one compact history row and back. Scalars are stored as SQLite
 * INTEGERs at the protocol's own resolution (mV, mA, 0.01 %, 0.01 °C …): SQLite packs
 * small integers into 1–4 bytes where a REAL always takes 8. Cells and temperatures are
 * little-endian int16 BLOBs (1 mV / 0.01 °C, the resolution COMM_BMS_GET_VALUES sends),
 * balancing is a bit set. Nothing is lost that the device reported.
 */
import type { BmsReading, Reading } from "../model/reading.js";

type ScalarKey = {
  [K in keyof BmsReading]-?: NonNullable<BmsReading[K]> extends number ? K : never;
}[keyof BmsReading];

/** [column, BmsReading field, scale to integer]. Column order is the table's. */
export const SCALARS: ReadonlyArray<readonly [string, ScalarKey, number]> = [
  ["pack_voltage", "packVoltage", 1000],
  ["charge_voltage", "chargeVoltage", 1000],
  ["current", "current", 1000],
  ["current_ic", "currentIc", 1000],
  ["amp_hours", "ampHours", 1000],
  ["watt_hours", "wattHours", 1000],
  ["soc", "soc", 100],
  ["soh", "soh", 100],
  ["ic_temperature", "icTemperature", 100],
  ["humidity", "humidity", 100],
  ["humidity_temperature", "humidityTemperature", 100],
  ["max_cell_temperature", "maxCellTemperature", 100],
  ["amp_hours_charged_total", "ampHoursChargedTotal", 1000],
  ["watt_hours_charged_total", "wattHoursChargedTotal", 1000],
  ["amp_hours_discharged_total", "ampHoursDischargedTotal", 1000],
  ["watt_hours_discharged_total", "wattHoursDischargedTotal", 1000],
  ["pressure", "pressure", 1],
];

/** One stored row, in column order: device, t, ...SCALARS, latency_ms, cells, temps, balancing, can. */
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

/** The row for one reading (without the device key, which the store prepends). */
export function encodeReading(reading: Reading): Row {
  const bms = reading.bms;
  const row: Row = [Date.parse(reading.time)];
  for (const [, key, scale] of SCALARS) {
    const v = bms?.[key];
    row.push(typeof v === "number" && Number.isFinite(v) ? Math.round(v * scale) : null);
  }
  row.push(reading.latencyMs === undefined ? null : Math.round(reading.latencyMs));
  row.push(bms && bms.cells.length > 0 ? packInt16(bms.cells, 1000) : null);
  row.push(bms && bms.temperatures.length > 0 ? packInt16(bms.temperatures, 100) : null);
  row.push(bms ? packBits(bms.balancing) : null);
  row.push(canJson(reading));
  return row;
}

/**
 * A decoded row flattened to one numeric vector (NaN = absent), so raw rows and bucketed
 * averages share one code path. Layout: FIXED_FIELDS, then temperatures, cells, balancing.
 */
export const FIXED_FIELDS = [
  ...SCALARS.map(([, key]) => key),
  "latencyMs",
  "power",
  "cellMin",
  "cellMax",
  "cellAverage",
  "cellDelta",
] as const;

export type FixedField = (typeof FIXED_FIELDS)[number];

export interface Layout {
  readonly temps: number;
  readonly cells: number;
}

export const vectorLength = (l: Layout) => FIXED_FIELDS.length + l.temps + l.cells * 2;

/** Row as returned by better-sqlite3 in raw mode: t, ...SCALARS, latency, cells, temps, balancing. */
export function decodeToVector(row: readonly unknown[], layout: Layout, out: Float64Array): void {
  out.fill(Number.NaN);
  let k = 0;
  SCALARS.forEach(([, , scale], i) => {
    const v = row[i + 1];
    out[k++] = typeof v === "number" ? v / scale : Number.NaN;
  });
  const latency = row[SCALARS.length + 1];
  out[k++] = typeof latency === "number" ? latency : Number.NaN;
  // power = pack voltage × the current the BMS measures (model/bmsReading.ts packCurrent)
  const pv = out[0] ?? Number.NaN;
  const current = out[2] ?? Number.NaN;
  const currentIc = out[3] ?? Number.NaN;
  const icMissing = Number.isNaN(currentIc) || currentIc === 0;
  out[k++] = pv * (icMissing && !Number.isNaN(current) && current !== 0 ? current : currentIc);
  const cells = unpackInt16(row[SCALARS.length + 2] as Uint8Array | null, 1000);
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
  const temps = unpackInt16(row[SCALARS.length + 3] as Uint8Array | null, 100);
  for (let i = 0; i < layout.temps && i < temps.length; i++) out[k + i] = temps[i] ?? Number.NaN;
  k += layout.temps;
  const bal = row[SCALARS.length + 4] as Uint8Array | null;
  for (let i = 0; i < layout.cells && i < cells.length; i++) {
    out[k + i] = cells[i] ?? Number.NaN;
    out[k + layout.cells + i] = bit(bal, i);
  }
}

/** CSV header names for a layout, in vector order (after the leading `time`). */
export function csvColumns(layout: Layout): string[] {
  const fixed = FIXED_FIELDS.map((f) => {
    const s = SCALARS.find(([, key]) => key === f);
    return s ? s[0] : f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  });
  const temps = Array.from({ length: layout.temps }, (_, i) => `temperature_${i + 1}`);
  const cells = Array.from({ length: layout.cells }, (_, i) => `cell_${i + 1}`);
  const bal = Array.from({ length: layout.cells }, (_, i) => `balancing_${i + 1}`);
  return [...fixed, ...temps, ...cells, ...bal];
}

/** Rounds away float noise from averaging; 0.1 mV / 0.1 mA is below any sensor's resolution. */
export function tidy(v: number): number | null {
  return Number.isFinite(v) ? Math.round(v * 10000) / 10000 : null;
}
