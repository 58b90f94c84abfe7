/**
 * Alert rules, PURE: (reading or status, thresholds, previous state) → (new state, the
 * alerts that changed). Hysteresis: a rule turns on past its limit and only turns off once
 * the value is back by the hysteresis margin, so a cell hovering at the limit does not flap.
 * One alert per rule per device and per CAN BMS node; its message names the worst cell/sensor
 * and its value.
 */
import type { Alert } from "../model/bus.js";
import type { BmsReading, DeviceStatus, Reading } from "../model/reading.js";
import { fittedTemperature, fittedValue } from "../model/sensorHealth.js";

export interface AlertHysteresis {
  /** V, for cell under/over voltage. */
  readonly voltage: number;
  /** V, for cell delta. */
  readonly delta: number;
  /** °C */
  readonly temperature: number;
  /** percent */
  readonly soc: number;
}

/** Same shape as the `alerts` config section (camelCase). */
export interface AlertThresholds {
  /** V: any cell below this. */
  readonly cellUnderVoltage: number;
  /** V: any cell above this. */
  readonly cellOverVoltage: number;
  /** V: max − min cell above this. */
  readonly cellDelta: number;
  /** °C: any BMS temperature sensor above this. */
  readonly temperatureHigh: number;
  /** percent: SOC below this (only when the BMS reports SOC). */
  readonly socLow: number;
  /** Alert when the link goes stale/offline. */
  readonly stale: boolean;
  readonly hysteresis: AlertHysteresis;
}

/** Per-device override: any subset; absent (or undefined) keys keep the base value. */
export type AlertOverride = {
  readonly [K in Exclude<keyof AlertThresholds, "hysteresis">]?: AlertThresholds[K] | undefined;
} & { readonly hysteresis?: { readonly [K in keyof AlertHysteresis]?: number | undefined } | undefined };

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  cellUnderVoltage: 3.2,
  cellOverVoltage: 4.25,
  cellDelta: 0.05,
  temperatureHigh: 55,
  socLow: 15,
  stale: true,
  hysteresis: { voltage: 0.02, delta: 0.005, temperature: 2, soc: 2 },
};

export type AlertRule =
  | "cell_under_voltage"
  | "cell_over_voltage"
  | "cell_delta"
  | "temperature_high"
  | "soc_low"
  | "cell_drift"
  | "cell_resistance_high"
  | "stale";

export const ALERT_RULES: readonly AlertRule[] = [
  "cell_under_voltage",
  "cell_over_voltage",
  "cell_delta",
  "temperature_high",
  "soc_low",
  "cell_drift",
  "cell_resistance_high",
  "stale",
];

/** Human titles, e.g. for Home Assistant entity names and the dashboard. */
export const ALERT_TITLES: Readonly<Record<AlertRule, string>> = {
  cell_under_voltage: "Cell under voltage",
  cell_over_voltage: "Cell over voltage",
  cell_delta: "Cell delta high",
  temperature_high: "Temperature high",
  soc_low: "SOC low",
  cell_drift: "Cell drifting",
  cell_resistance_high: "Cell resistance high",
  stale: "Data stale",
};

/** An active rule: the message and time it turned on with (kept until it turns off). */
export interface ActiveRule {
  readonly message: string;
  readonly since: string;
}

/** Per device: every active rule (absent = inactive). */
export type AlertState = Readonly<Partial<Record<AlertRule, ActiveRule>>>;

export interface Evaluation {
  readonly state: AlertState;
  /** Only the rules that turned on or off, in ALERT_RULES order. */
  readonly changed: readonly Alert[];
}

/** Overlay an override on a base; undefined keys are ignored (YAML leaves them undefined). */
export function mergeThresholds(base: AlertThresholds, override?: AlertOverride): AlertThresholds {
  if (!override) return base;
  const pick = <T>(v: T | undefined, d: T): T => (v === undefined ? d : v);
  const h = override.hysteresis ?? {};
  return {
    cellUnderVoltage: pick(override.cellUnderVoltage, base.cellUnderVoltage),
    cellOverVoltage: pick(override.cellOverVoltage, base.cellOverVoltage),
    cellDelta: pick(override.cellDelta, base.cellDelta),
    temperatureHigh: pick(override.temperatureHigh, base.temperatureHigh),
    socLow: pick(override.socLow, base.socLow),
    stale: pick(override.stale, base.stale),
    hysteresis: {
      voltage: pick(h.voltage, base.hysteresis.voltage),
      delta: pick(h.delta, base.hysteresis.delta),
      temperature: pick(h.temperature, base.hysteresis.temperature),
      soc: pick(h.soc, base.hysteresis.soc),
    },
  };
}

/**
 * Result of one rule: undefined = no data this time, null = no change (both keep the previous
 * state). The message is built only when the rule turns on or off: that is rare, and five
 * messages and their temporaries per reading were most of what alerts allocated at fleet scale.
 */
type Check = { readonly active: boolean; readonly message: () => string } | null | undefined;

/** One value rule on one BMS (the device's own or a CAN node's); undefined when there is none. */
type BmsCheck = (bms: BmsReading | undefined, t: AlertThresholds, was: boolean) => Check;

const volts = (v: number) => `${v.toFixed(3)} V`;
const mv = (v: number) => `${Math.round(Math.abs(v) * 1000)} mV`;
const celsius = (v: number) => `${Number(v.toFixed(1))} °C`;

/**
 * Index of the extreme value; ties take the lowest index (= lowest cell number). null (not
 * applicable or implausible) is never a candidate; -1 when nothing is left.
 */
function extreme(
  values: readonly (number | null)[],
  wantMax: boolean,
  use?: (v: number, i: number) => boolean,
): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || (use && !use(v, i))) continue;
    const b = values[best];
    if (best < 0 || b === null || b === undefined || (wantMax ? v > b : v < b)) best = i;
  }
  return best;
}

function average(values: readonly (number | null)[]): number {
  let sum = 0;
  let count = 0;
  for (const v of values) {
    if (v === null) continue;
    sum += v;
    count++;
  }
  return sum / count;
}

/**
 * Temperature sensors an alert may look at: known fitted (bms.fitted, from the bridge's
 * SensorHealth; without it, the same rule on this reading alone), not stuck, and not still
 * unverified (never moved, younger than the stuck rule).
 */
function alertableTemperature(bms: BmsReading): (v: number, i: number) => boolean {
  const fitted = bms.fitted?.temperatures;
  const stuck = bms.stuck?.temperatures;
  const unverified = bms.unverified?.temperatures;
  return (v, i) =>
    (fitted ? fitted.includes(i + 1) : fittedTemperature(v)) &&
    !(stuck?.includes(i + 1) ?? false) &&
    !(unverified?.includes(i + 1) ?? false);
}

function checkUnder(bms: BmsReading | undefined, t: AlertThresholds, was: boolean): Check {
  const cells = bms?.cells;
  if (!cells || cells.length === 0) return undefined;
  const i = extreme(cells, false);
  if (i < 0) return undefined;
  const v = cells[i] ?? 0;
  const limit = t.cellUnderVoltage;
  // Once on, stay on until the lowest cell is back above limit + hysteresis.
  const active = was ? v < limit + t.hysteresis.voltage : v < limit;
  if (active === was) return null;
  const below = average(cells) - v;
  const message = () =>
    active
      ? `cell ${i + 1} at ${volts(v)}, ${mv(below)} below average (limit ${volts(limit)})`
      : `all cells above ${volts(limit)} again (lowest: cell ${i + 1} at ${volts(v)})`;
  return { active, message };
}

function checkOver(bms: BmsReading | undefined, t: AlertThresholds, was: boolean): Check {
  const cells = bms?.cells;
  if (!cells || cells.length === 0) return undefined;
  const i = extreme(cells, true);
  if (i < 0) return undefined;
  const v = cells[i] ?? 0;
  const limit = t.cellOverVoltage;
  const active = was ? v > limit - t.hysteresis.voltage : v > limit;
  if (active === was) return null;
  const above = v - average(cells);
  const message = () =>
    active
      ? `cell ${i + 1} at ${volts(v)}, ${mv(above)} above average (limit ${volts(limit)})`
      : `all cells below ${volts(limit)} again (highest: cell ${i + 1} at ${volts(v)})`;
  return { active, message };
}

function checkDelta(bms: BmsReading | undefined, t: AlertThresholds, was: boolean): Check {
  const cells = bms?.cells;
  if (!cells || cells.length < 2) return undefined;
  const lo = extreme(cells, false);
  const hi = extreme(cells, true);
  if (lo < 0 || hi < 0) return undefined;
  const vLo = cells[lo] ?? 0;
  const vHi = cells[hi] ?? 0;
  const delta = vHi - vLo;
  const limit = t.cellDelta;
  const active = was ? delta > limit - t.hysteresis.delta : delta > limit;
  if (active === was) return null;
  // Name the cell furthest from the average: that is the one drifting.
  const avg = average(cells);
  const lowDrifts = avg - vLo >= vHi - avg;
  const n = lowDrifts ? lo + 1 : hi + 1;
  const v = lowDrifts ? vLo : vHi;
  const side = lowDrifts ? "below" : "above";
  const message = () =>
    active
      ? `cell delta ${mv(delta)} (limit ${mv(limit)}): cell ${n} at ${volts(v)}, ${mv(v - avg)} ${side} average`
      : `cell delta back to ${mv(delta)} (limit ${mv(limit)})`;
  return { active, message };
}

function checkTemperature(bms: BmsReading | undefined, t: AlertThresholds, was: boolean): Check {
  const temps = bms?.temperatures;
  if (!bms || !temps || temps.length === 0) return undefined;
  const i = extreme(temps, true, alertableTemperature(bms));
  const limit = t.temperatureHigh;
  if (i < 0) {
    // The sensors that were alerting turned out stuck or not fitted: nothing known is hot.
    return was
      ? { active: false, message: () => `no fitted, moving temperature sensor above ${celsius(limit)}` }
      : undefined;
  }
  const v = temps[i] ?? 0;
  const active = was ? v > limit - t.hysteresis.temperature : v > limit;
  if (active === was) return null;
  const message = () =>
    active
      ? `temperature sensor ${i + 1} at ${celsius(v)} (limit ${celsius(limit)})`
      : `temperatures back below ${celsius(limit)} (highest: sensor ${i + 1} at ${celsius(v)})`;
  return { active, message };
}

function checkSoc(bms: BmsReading | undefined, t: AlertThresholds, was: boolean): Check {
  const soc = bms?.soc;
  if (soc === undefined || soc === null) return undefined;
  // A BMS that does not measure SOC sends 0: only a SOC that was non-zero once counts.
  if (!(bms?.fitted ? bms.fitted.soc : fittedValue(soc))) return undefined;
  const limit = t.socLow;
  const active = was ? soc < limit + t.hysteresis.soc : soc < limit;
  if (active === was) return null;
  const pct = () => `${Number(soc.toFixed(1))} %`;
  const message = () =>
    active ? `SOC at ${pct()} (limit ${limit} %)` : `SOC back to ${pct()} (limit ${limit} %)`;
  return { active, message };
}

/**
 * The bridge's cell-health verdicts (bms.battery.alerts, from the estimator's pure predicates
 * driftingCells / highResistanceCells in src/battery/cellHealth.ts): on while any cell is named.
 */
function cellHealthCheck(
  cellsOf: (b: NonNullable<BmsReading["battery"]>) => readonly number[],
  describe: (b: NonNullable<BmsReading["battery"]>, n: number) => string,
  cleared: string,
): BmsCheck {
  return (bms, _t, was) => {
    const b = bms?.battery;
    if (!b) return undefined;
    const cells = cellsOf(b);
    const active = cells.length > 0;
    if (active === was) return null;
    const message = () => (active ? cells.map((n) => describe(b, n)).join("; ") : cleared);
    return { active, message };
  };
}

const checkCellDrift = cellHealthCheck(
  (b) => b.alerts.driftingCells,
  (b, n) => {
    const d = b.cellDriftV[n - 1];
    const rate = b.cellDriftRateVPerDay[n - 1];
    const trend = typeof rate === "number" ? `, ${mv(rate)}/day` : "";
    return typeof d === "number"
      ? `cell ${n} ${mv(Math.abs(d))} ${d < 0 ? "below" : "above"} the pack mean at rest${trend}`
      : `cell ${n} drifting`;
  },
  "no cell drifting away any more",
);

const checkCellResistance = cellHealthCheck(
  (b) => b.alerts.highResistanceCells,
  (b, n) => {
    const ohm = b.cellResistanceOhm[n - 1];
    return typeof ohm === "number"
      ? `cell ${n} at ${(ohm * 1000).toFixed(1)} mΩ`
      : `cell ${n} resistance high`;
  },
  "cell resistances back in line",
);

const READING_CHECKS: ReadonlyArray<readonly [AlertRule, BmsCheck]> = [
  ["cell_under_voltage", checkUnder],
  ["cell_over_voltage", checkOver],
  ["cell_delta", checkDelta],
  ["temperature_high", checkTemperature],
  ["soc_low", checkSoc],
  ["cell_drift", checkCellDrift],
  ["cell_resistance_high", checkCellResistance],
];

/** Whose alerts: a device, or one of its CAN BMS nodes (its own state and document). */
interface AlertSubject {
  readonly deviceId: string;
  readonly canId?: number | undefined;
}

function apply(
  subject: AlertSubject,
  time: string,
  prev: AlertState,
  results: ReadonlyArray<readonly [AlertRule, Check]>,
): Evaluation {
  let state: Partial<Record<AlertRule, ActiveRule>> | undefined; // copied on the first change only
  const changed: Alert[] = [];
  for (const [rule, check] of results) {
    if (!check) continue; // no data, or no change
    const was = prev[rule] !== undefined;
    if (check.active === was) continue;
    const message = check.message();
    state ??= { ...prev };
    if (check.active) state[rule] = { message, since: time };
    else delete state[rule];
    changed.push(
      subject.canId === undefined
        ? { deviceId: subject.deviceId, rule, active: check.active, message, time }
        : { deviceId: subject.deviceId, canId: subject.canId, rule, active: check.active, message, time },
    );
  }
  return { state: state ?? prev, changed };
}

const NO_CHANGE: readonly Alert[] = [];

/** Only the value rules that turned on or off (most readings have none). */
function checkBms(
  bms: BmsReading | undefined,
  t: AlertThresholds,
  prev: AlertState,
): Array<readonly [AlertRule, Check]> {
  const results: Array<readonly [AlertRule, Check]> = [];
  for (const [rule, fn] of READING_CHECKS) {
    const check = fn(bms, t, prev[rule] !== undefined);
    if (check) results.push([rule, check]);
  }
  return results;
}

/** Runs the value rules on one reading's own BMS. A fresh reading also ends a "stale" alert. */
export function evaluateReading(reading: Reading, t: AlertThresholds, prev: AlertState): Evaluation {
  const results = checkBms(reading.bms, t, prev);
  if (prev.stale !== undefined)
    results.push(["stale", { active: false, message: () => "data flowing again" }]);
  return results.length > 0
    ? apply({ deviceId: reading.deviceId }, reading.time, prev, results)
    : { state: prev, changed: NO_CHANGE };
}

/**
 * Runs the same value rules on a CAN BMS node of the reading (its state is separate from the
 * device's). An answer also ends the node's "stale" alert (evaluateCanSilence).
 */
export function evaluateCanBms(
  reading: Reading,
  canId: number,
  bms: BmsReading,
  t: AlertThresholds,
  prev: AlertState,
): Evaluation {
  const results = checkBms(bms, t, prev);
  if (prev.stale !== undefined) results.push(["stale", { active: false, message: () => "answering again" }]);
  return results.length > 0
    ? apply({ deviceId: reading.deviceId, canId }, reading.time, prev, results)
    : { state: prev, changed: NO_CHANGE };
}

/** A CAN BMS node that did not answer this poll, and for how long it has been silent. */
export interface NodeSilence {
  /** The node's error of this poll. */
  readonly error: string;
  /** ISO time of the node's last answer; undefined when it never answered. */
  readonly lastAnswerTime: string | undefined;
  /** ms since its last answer (or since it was first polled). */
  readonly silentMs: number;
  /** How long the device's own link takes to go stale (stale_after_intervals × interval). */
  readonly staleAfterMs: number;
}

/**
 * The "stale" rule of a CAN BMS node that did not answer: on once it has been silent as long
 * as the device's link takes to go stale. Its value alerts keep their state, as the device's
 * do while its link is stale.
 */
export function evaluateCanSilence(
  reading: Reading,
  canId: number,
  silence: NodeSilence,
  t: AlertThresholds,
  prev: AlertState,
): Evaluation {
  if (!t.stale || prev.stale !== undefined || silence.silentMs < silence.staleAfterMs)
    return { state: prev, changed: NO_CHANGE };
  const since = silence.lastAnswerTime ? `since ${silence.lastAnswerTime}` : "yet";
  const message = () => `no answer ${since} (${silence.error})`;
  return apply({ deviceId: reading.deviceId, canId }, reading.time, prev, [
    ["stale", { active: true, message }],
  ]);
}

/** Runs the "stale" rule on a link status change; `now` is the ISO time of the change. */
export function evaluateStatus(
  status: DeviceStatus,
  t: AlertThresholds,
  prev: AlertState,
  now: string,
): Evaluation {
  let check: Check;
  if (!t.stale) {
    check = prev.stale !== undefined ? { active: false, message: () => "stale alert disabled" } : undefined;
  } else if (status.link === "stale" || status.link === "offline") {
    const since = status.lastReadingTime ? `since ${status.lastReadingTime}` : "yet";
    const why = status.lastError ? `: ${status.lastError}` : "";
    check = { active: true, message: () => `no data ${since} (link ${status.link}${why})` };
  } else if (status.link === "online") {
    check = { active: false, message: () => "link online again" };
  }
  // "connecting" and "yielded" (VESC Tool has the device) say nothing about data health.
  return apply({ deviceId: status.deviceId }, now, prev, [["stale", check]]);
}
