/**
 * A decoded COMM_BMS_GET_VALUES reply as the reading model publishes it: "not applicable"
 * temperatures (data_version 1) and physically implausible values become null, the headline
 * current/power are derived as VESC Tool shows them, and cell stats are attached.
 * Explained for users in docs/protocol.md.
 */
import { cellStats } from "../protocol/cellStats.js";
import { isTemperatureNotApplicable } from "../protocol/commands/bmsTemperatures.js";
import { BMS_LIMITS, isPlausible, type Range } from "./plausibility.js";
import type { BmsReading, BmsValues, CellStats, Reading } from "./reading.js";

/**
 * The current the BMS actually measures: i_in_ic, unless it reads 0 (or is implausible)
 * while i_in does not. VESC Tool's power is i_in_ic × v_tot; the real Express sends i_in = 0.
 */
export function packCurrent(current: number | null, currentIc: number | null): number | null {
  if (currentIc === null || currentIc === 0) return current !== null && current !== 0 ? current : currentIc;
  return currentIc;
}

/** W, rounded to 1 µW so float noise (12.854700000000001) never reaches users. */
export function packPower(packVoltage: number | null, current: number | null): number | null {
  return packVoltage === null || current === null ? null : Math.round(packVoltage * current * 1e6) / 1e6;
}

export function toBmsReading(v: BmsValues): BmsReading {
  const implausible: string[] = [];
  const check = (field: string, value: number, r: Range): number | null => {
    if (isPlausible(value, r)) return value;
    implausible.push(field);
    return null;
  };
  const optional = (field: string, value: number | undefined, r: Range): number | null | undefined =>
    value === undefined ? undefined : check(field, value, r);

  const packVoltage = check("packVoltage", v.packVoltage, BMS_LIMITS.packVoltage);
  const current = check("current", v.current, BMS_LIMITS.current);
  const currentIc = check("currentIc", v.currentIc, BMS_LIMITS.currentIc);
  const cells = checkedArray(v.cells, "cells", BMS_LIMITS.cell, false, implausible);
  const measuredCurrent = packCurrent(current, currentIc);
  const t = BMS_LIMITS.temperature;
  const reading: { -readonly [K in keyof BmsReading]: BmsReading[K] } = {
    packVoltage,
    chargeVoltage: check("chargeVoltage", v.chargeVoltage, BMS_LIMITS.chargeVoltage),
    current,
    currentIc,
    packCurrent: measuredCurrent,
    packPower: packPower(packVoltage, measuredCurrent),
    ampHours: check("ampHours", v.ampHours, BMS_LIMITS.ampHours),
    wattHours: check("wattHours", v.wattHours, BMS_LIMITS.wattHours),
    cells,
    balancing: v.balancing,
    temperatures: checkedArray(v.temperatures, "temperatures", t, v.dataVersion === 1, implausible),
    icTemperature: check("icTemperature", v.icTemperature, t),
    humidityTemperature: check("humidityTemperature", v.humidityTemperature, t),
    humidity: check("humidity", v.humidity, BMS_LIMITS.humidity),
    maxCellTemperature: check("maxCellTemperature", v.maxCellTemperature, t),
    soc: optional("soc", v.soc, BMS_LIMITS.soc),
    soh: optional("soh", v.soh, BMS_LIMITS.soh),
    canId: v.canId,
    ampHoursChargedTotal: optional("ampHoursChargedTotal", v.ampHoursChargedTotal, BMS_LIMITS.ampHoursTotal),
    wattHoursChargedTotal: optional(
      "wattHoursChargedTotal",
      v.wattHoursChargedTotal,
      BMS_LIMITS.wattHoursTotal,
    ),
    ampHoursDischargedTotal: optional(
      "ampHoursDischargedTotal",
      v.ampHoursDischargedTotal,
      BMS_LIMITS.ampHoursTotal,
    ),
    wattHoursDischargedTotal: optional(
      "wattHoursDischargedTotal",
      v.wattHoursDischargedTotal,
      BMS_LIMITS.wattHoursTotal,
    ),
    pressure: optional("pressure", v.pressure, BMS_LIMITS.pressure),
    dataVersion: v.dataVersion,
    status: v.status,
  };
  const stats: CellStats | undefined = cellStats(cells);
  if (stats) reading.stats = stats;
  if (implausible.length > 0) reading.implausible = implausible;
  return reading;
}

/** Implausible values in a reading: its own BMS's and those of its CAN BMS nodes. */
export function implausibleCount(r: Reading): number {
  let n = r.bms?.implausible?.length ?? 0;
  if (r.can) for (const node of Object.values(r.can)) n += node.bms?.implausible?.length ?? 0;
  return n;
}

/**
 * The values with implausible ones (and, for data_version 1 temperatures, the "not
 * applicable" marker) as null; the input array itself when nothing changes.
 */
function checkedArray(
  values: readonly number[],
  field: string,
  r: Range,
  notApplicableMarker: boolean,
  implausible: string[],
): readonly (number | null)[] {
  let out: (number | null)[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    const na = notApplicableMarker && isTemperatureNotApplicable(x);
    if (!na && isPlausible(x, r)) continue;
    if (!na) implausible.push(`${field}[${i}]`);
    out ??= values.slice();
    out[i] = null;
  }
  return out ?? values;
}
