/**
 * Physical plausibility of decoded BMS values. A reply can pass its CRC and still carry
 * values no pack can have: a BMS that never filled a field sends its sentinel (int32 max →
 * 2147.48 V, int16 min → −32.768 V per cell or −3276.8 % SOC). The limits are generous on
 * purpose (they reject impossible values, not unusual ones); a value outside them is not a
 * reading and becomes null in the BmsReading, named in its `implausible` list.
 */

export interface Range {
  readonly min: number;
  readonly max: number;
}

const range = (min: number, max: number): Range => ({ min, max });

/** Limits per BmsValues field (units as in model/reading.ts). */
export const BMS_LIMITS = {
  /** V: no BMS-managed pack reaches 1 kV; a BMS does not measure below 0. */
  packVoltage: range(-1, 1000),
  chargeVoltage: range(-1, 1000),
  /** A, either sign; 2000 A is past any BMS shunt and below the int32 sentinel (2147.48 A). */
  current: range(-2000, 2000),
  currentIc: range(-2000, 2000),
  /** Counters since BMS boot, Ah / Wh, either sign. */
  ampHours: range(-100_000, 100_000),
  wattHours: range(-1_000_000, 1_000_000),
  /** V per cell: 0 is an unconnected tap, the highest chemistry stays below 5 V. */
  cell: range(-1, 10),
  /** °C for every temperature field (not-applicable markers are handled before this). */
  temperature: range(-100, 300),
  /** %RH */
  humidity: range(-5, 105),
  /** percent */
  soc: range(-5, 110),
  soh: range(-5, 110),
  /** Lifetime totals, Ah / Wh: never negative. */
  ampHoursTotal: range(-1, 1e9),
  wattHoursTotal: range(-1, 1e10),
  /** Pa absolute: 0 = no sensor; a sealed pack stays far below 4 bar. */
  pressure: range(0, 400_000),
} as const;

/** True for a finite value inside `r` (both ends included). */
export function isPlausible(value: number, r: Range): boolean {
  return Number.isFinite(value) && value >= r.min && value <= r.max;
}
