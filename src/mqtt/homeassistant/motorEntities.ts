/**
 * Motor controller entities for CAN motor nodes (COMM_GET_VALUES through COMM_FORWARD_CAN):
 * ERPM, duty, currents, voltage, temperatures, fault as enum, Ah/Wh counters, tachometer.
 */
import type { MotorValues } from "../../model/reading.js";
import { FAULT_CODE_NAMES } from "../../protocol/faultCode.js";
import { A, AH_TOTAL, C, type EntityDef, type Numeric, V, WH_TOTAL, sameItems } from "./entities.js";

// `value_json.values` would be the dict's values() method in Jinja, not the "values" key.
const valTpl = (field: string) => `{{ value_json['values'].${field} }}`;

interface MotorScalar extends Numeric {
  readonly field: keyof MotorValues & string;
  readonly key: string;
  readonly name: string;
  readonly template?: string;
  readonly options?: readonly string[];
}

/** HA enum options: fault names without the FAULT_CODE_ prefix, lower case, plus "unknown". */
export const FAULT_OPTIONS: readonly string[] = [
  ...FAULT_CODE_NAMES.map((n) => n.replace(/^FAULT_CODE_/, "").toLowerCase()),
  "unknown",
];
// An enum state outside `options` is an error in HA: map unknown codes to "unknown".
const FAULT_TEMPLATE = `{% set f = value_json['values'].faultName | replace('FAULT_CODE_', '') | lower %}{{ f if f in ${JSON.stringify(
  FAULT_OPTIONS,
)} else 'unknown' }}`;

const MOTOR_SCALARS: readonly MotorScalar[] = [
  {
    field: "erpm",
    key: "erpm",
    name: "ERPM",
    unit: "ERPM",
    stateClass: "measurement",
    precision: 0,
    icon: "mdi:speedometer",
  },
  {
    field: "dutyCycle",
    key: "duty_cycle",
    name: "Duty cycle",
    unit: "%",
    stateClass: "measurement",
    precision: 1,
    icon: "mdi:percent",
    template: "{{ (value_json['values'].dutyCycle * 100) | round(1) }}",
  },
  { field: "currentMotor", key: "motor_current", name: "Motor current", ...A },
  { field: "currentInput", key: "input_current", name: "Input current", ...A },
  { field: "inputVoltage", key: "input_voltage", name: "Input voltage", ...V, precision: 1 },
  { field: "tempFet", key: "fet_temperature", name: "FET temperature", ...C },
  { field: "tempMotor", key: "motor_temperature", name: "Motor temperature", ...C },
  {
    field: "faultName",
    key: "fault",
    name: "Fault",
    deviceClass: "enum",
    options: FAULT_OPTIONS,
    diagnostic: true,
    template: FAULT_TEMPLATE,
  },
  // Counters since controller boot; a reboot resets them, which total_increasing treats as a new cycle.
  { field: "ampHours", key: "amp_hours", name: "Amp hours used", ...AH_TOTAL },
  { field: "ampHoursCharged", key: "amp_hours_charged", name: "Amp hours charged", ...AH_TOTAL },
  { field: "wattHours", key: "watt_hours", name: "Energy used", ...WH_TOTAL },
  { field: "wattHoursCharged", key: "watt_hours_charged", name: "Energy charged", ...WH_TOTAL },
  // The signed tachometer goes backwards when the motor does: a plain measurement.
  {
    field: "tachometer",
    key: "tachometer",
    name: "Tachometer",
    unit: "steps",
    stateClass: "measurement",
    precision: 0,
    icon: "mdi:counter",
    diagnostic: true,
  },
  {
    field: "tachometerAbs",
    key: "tachometer_abs",
    name: "Tachometer (absolute)",
    unit: "steps",
    stateClass: "total_increasing",
    precision: 0,
    icon: "mdi:counter",
    diagnostic: true,
  },
];

/** Keys of the motor fields present so far (sticky: a selective read may skip some). */
export function motorPresence(values: MotorValues, prev?: readonly string[]): readonly string[] {
  const fields = new Set(prev ?? []);
  for (const m of MOTOR_SCALARS) if (values[m.field] !== undefined) fields.add(m.key);
  const next = [...fields].sort();
  // The same array back when nothing changed: callers compare presences by identity.
  return prev && sameItems(prev, next) ? prev : next;
}

export function motorEntities(presentKeys: readonly string[]): EntityDef[] {
  const present = new Set(presentKeys);
  return MOTOR_SCALARS.filter((m) => present.has(m.key)).map(({ field, template, ...rest }) => ({
    ...rest,
    platform: "sensor" as const,
    source: "state" as const,
    template: template ?? valTpl(field),
  }));
}
