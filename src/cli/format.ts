/**
 * Output of `read` and `scan`: the NDJSON object of the JSON contract (docs/cli.md) and the
 * human table, with one bar per cell (min/max and balancing marked) so a weak or
 * balancing cell stands out at a glance.
 */
import { escapeControl } from "../bridge/log.js";
import type { BmsReading, CanNodeReading, DeviceInfo, MotorValues, Reading } from "../model/reading.js";
import { bmsTemperatureLabel } from "../protocol/commands/bmsTemperatures.js";
import {
  BMS_SOURCES,
  CATALOGUE,
  type Catalogue,
  fieldOf,
  inPinnedOrder,
  RIDE_SOURCES,
  type ValueDef,
  type ValueSource,
  valuesWith,
} from "../values/index.js";

/** One line of `read --json`: exactly the contract's shape. */
export interface JsonReading {
  readonly device: JsonDevice;
  readonly bms?: BmsReading;
  readonly values?: MotorValues;
  /** A motor node's ride telemetry groups (docs/ride.md). */
  readonly setup?: CanNodeReading["setup"];
  readonly stats?: CanNodeReading["stats"];
  readonly imu?: CanNodeReading["imu"];
  readonly batteryCut?: CanNodeReading["batteryCut"];
  readonly refloat?: CanNodeReading["refloat"];
  readonly ride?: CanNodeReading["ride"];
}

export interface JsonDevice {
  readonly firmware: string;
  readonly hardware: string;
  readonly uuid: string;
  readonly canId?: number;
}

/** The contract's `device` object: identity fields only, canId only when reached through CAN. */
export function jsonDevice(info: DeviceInfo): JsonDevice {
  return {
    firmware: info.firmware,
    hardware: info.hardware,
    uuid: info.uuid,
    ...(info.canId === undefined ? {} : { canId: info.canId }),
  };
}

/**
 * The JSON line for a reading: the device's own BMS, or with `canId` that CAN node's
 * device and bms/values. Throws when the node did not answer (its error text).
 */
export function toJsonReading(reading: Reading, canId?: number): JsonReading {
  if (canId === undefined) {
    return { device: jsonDevice(reading.device), ...(reading.bms ? { bms: reading.bms } : {}) };
  }
  const node = reading.can?.[String(canId)];
  if (!node || node.error !== undefined || !node.device) {
    throw new Error(`CAN node ${canId}: ${node?.error ?? "no reply"}`);
  }
  return {
    device: jsonDevice(node.device),
    ...(node.bms ? { bms: node.bms } : {}),
    ...(node.values ? { values: node.values } : {}),
    ...(node.setup ? { setup: node.setup } : {}),
    ...(node.stats ? { stats: node.stats } : {}),
    ...(node.imu ? { imu: node.imu } : {}),
    ...(node.batteryCut ? { batteryCut: node.batteryCut } : {}),
    ...(node.refloat ? { refloat: node.refloat } : {}),
    ...(node.ride ? { ride: node.ride } : {}),
  };
}

const BAR_WIDTH = 24;
/** Below this spread the bars would only magnify noise. */
const MIN_BAR_SPAN_V = 0.01;

/**
 * The bars are scaled around the pack's own lowest and highest cell (like the dashboard):
 * on an absolute 3.0–4.2 V scale a 10 mV imbalance is invisible, and imbalance is what a
 * per-cell view is for. The lowest cell keeps a short bar so it never reads as "empty".
 */
export function cellBarScale(cells: readonly (number | null)[]): { low: number; high: number } {
  const known = cells.filter((c): c is number => c !== null);
  const min = Math.min(...known);
  const max = Math.max(...known);
  const span = Math.max(max - min, MIN_BAR_SPAN_V);
  return { low: min - span / 4, high: min + span };
}

export function cellBar(volts: number, low: number, high: number, width = BAR_WIDTH): string {
  const fraction = Math.min(1, Math.max(0, (volts - low) / (high - low)));
  const filled = Math.round(fraction * width);
  return "█".repeat(filled) + "░".repeat(width - filled);
}

/** "-" for a value not sent (undefined) or not plausible (null). */
const fixed = (n: number | null | undefined, digits: number): string =>
  n === undefined || n === null ? "-" : n.toFixed(digits);

export function formatDevice(device: DeviceInfo): string {
  const can = device.canId === undefined ? "" : `  CAN id ${device.canId}`;
  // Strings the device sent: escaped, so a name with ESC or CR cannot rewrite the terminal.
  const text = `${device.hardware || "(unnamed hardware)"}  firmware ${device.firmware}  uuid ${device.uuid || "-"}`;
  return escapeControl(text) + can;
}

type Row = ValueDef & { readonly cli: NonNullable<ValueDef["cli"]> };

/** The motor table's row order (by field) before the catalogue; values not listed follow in catalogue order. */
const MOTOR_ORDER = [
  "inputVoltage",
  "currentInput",
  "currentMotor",
  "dutyCycle",
  "erpm",
  "tempFet",
  "tempMotor",
  "ampHours",
  "ampHoursCharged",
  "wattHours",
  "wattHoursCharged",
  "tachometerAbs",
  "faultName",
];

const rowsMemo = new WeakMap<Catalogue, Map<ValueSource, readonly Row[]>>();
/** The catalogue values of a source that have a CLI row, in table order. */
function cliRows(cat: Catalogue, source: ValueSource): readonly Row[] {
  let m = rowsMemo.get(cat);
  if (!m) {
    m = new Map();
    rowsMemo.set(cat, m);
  }
  let rows = m.get(source);
  if (!rows) {
    rows = inPinnedOrder(
      valuesWith(cat, source, "cli"),
      source === "motor" ? MOTOR_ORDER : [],
      (v) => v.field,
    );
    m.set(source, rows);
  }
  return rows;
}

/** `label  value unit` for each catalogue row the part holds (a number, yes/no, or device text escaped). */
function tableRows(rows: readonly Row[], part: object, width: number): string[] {
  const lines: string[] = [];
  for (const row of rows) {
    const v = fieldOf(row, part);
    const unit = row.cli.unit ?? row.unit ?? "";
    const label = (row.cli.label ?? row.label).padEnd(width);
    if (typeof v === "number") {
      const shown = (v * (row.cli.scale ?? 1)).toFixed(row.cli.digits);
      lines.push(`${label}${shown}${unit ? ` ${unit}` : ""}`);
    } else if (typeof v === "boolean") lines.push(`${label}${v ? "yes" : "no"}`);
    else if (typeof v === "string") lines.push(`${label}${escapeControl(v)}`);
  }
  return lines;
}

export function formatBms(bms: BmsReading, cat: Catalogue = CATALOGUE): string[] {
  const lines: string[] = [];
  const soc = bms.soc === undefined ? "" : `  SOC ${fixed(bms.soc, 0)} %`;
  const soh = bms.soh === undefined ? "" : `  SOH ${fixed(bms.soh, 0)} %`;
  lines.push(
    `Pack      ${fixed(bms.packVoltage, 3)} V  (charge ${fixed(bms.chargeVoltage, 2)} V)  current ${fixed(bms.packCurrent, 3)} A  power ${fixed(bms.packPower, 1)} W  (i_in ${fixed(bms.current, 2)} A, IC ${fixed(bms.currentIc, 3)} A)${soc}${soh}`,
  );
  lines.push(`Counters  ${fixed(bms.ampHours, 3)} Ah  ${fixed(bms.wattHours, 2)} Wh`);
  const s = bms.stats;
  if (s) {
    lines.push(
      `Cells     ${bms.cells.length}S  min ${fixed(s.cellMin, 3)} V (#${s.cellMinNumber})  max ${fixed(s.cellMax, 3)} V (#${s.cellMaxNumber})  avg ${fixed(s.cellAverage, 4)} V  delta ${fixed(s.cellDelta * 1000, 1)} mV`,
    );
  } else {
    lines.push("Cells     none reported");
  }
  const balancingCount = bms.balancing.filter(Boolean).length;
  const scale = cellBarScale(bms.cells);
  const lowest = s?.cellMin ?? scale.low;
  bms.cells.forEach((v, i) => {
    const n = i + 1;
    if (v === null) {
      lines.push(`  ${String(n).padStart(3)}  implausible reading`);
      return;
    }
    const marks = [
      s && n === s.cellMinNumber ? "min" : "",
      s && n === s.cellMaxNumber ? "max" : "",
      bms.balancing[i] ? "balancing" : "",
    ].filter((m) => m !== "");
    const above = `+${Math.round((v - lowest) * 1000)} mV`.padStart(7);
    lines.push(
      `  ${String(n).padStart(3)}  ${v.toFixed(3)} V ${above}  ${cellBar(v, scale.low, scale.high)}  ${marks.join(" ")}`.trimEnd(),
    );
  });
  if (balancingCount > 0) lines.push(`          ${balancingCount} cell(s) balancing`);
  // data_version 1 slots have roles (IC, Cell Min …): name them, as VESC Tool does.
  const labelled = bms.dataVersion === 1;
  const temps = bms.temperatures
    .map((t, i) => {
      const v = t === null ? "n/a" : t.toFixed(1);
      return labelled ? `${bmsTemperatureLabel(i, 1)} ${v}` : v;
    })
    .join(labelled ? ", " : " ");
  lines.push(
    `Temps     ${temps || "-"} °C   IC ${fixed(bms.icTemperature, 1)} °C   max cell ${fixed(bms.maxCellTemperature, 1)} °C`,
  );
  lines.push(`Humidity  ${fixed(bms.humidity, 1)} %  at ${fixed(bms.humidityTemperature, 1)} °C`);
  // The lines above lay out the device's own values; a catalogue value with a CLI row follows them.
  lines.push(...BMS_SOURCES.flatMap((source) => tableRows(cliRows(cat, source), bms, 10)));
  if (bms.canId !== undefined) lines.push(`BMS CAN   ${bms.canId === 255 ? "none heard" : bms.canId}`);
  if (bms.status) lines.push(`Status    ${escapeControl(bms.status)}`);
  return lines;
}

export function formatValues(values: MotorValues, cat: Catalogue = CATALOGUE): string[] {
  return tableRows(cliRows(cat, "motor"), values, 14);
}

/** A motor node's ride rows (src/values/ride.ts), under a "Ride" line; none without ride data. */
export function formatRide(node: JsonReading, cat: Catalogue = CATALOGUE): string[] {
  const rows = RIDE_SOURCES.flatMap((s) => tableRows(cliRows(cat, s), node, 14));
  return rows.length > 0 ? ["Ride", ...rows.map((r) => `  ${r}`)] : [];
}

/** The human block for one reading (no trailing newline). */
export function formatReading(reading: JsonReading, time?: string, cat: Catalogue = CATALOGUE): string {
  const lines = [formatDevice(reading.device) + (time ? `  at ${time}` : "")];
  if (reading.bms) lines.push(...formatBms(reading.bms, cat));
  if (reading.values) lines.push(...formatValues(reading.values, cat));
  lines.push(...formatRide(reading, cat));
  if (!reading.bms && !reading.values) lines.push("(no BMS values)");
  return lines.join("\n");
}
