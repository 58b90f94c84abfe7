/**
 * Motor controller values of CAN motor nodes (COMM_GET_VALUES through COMM_FORWARD_CAN):
 * ERPM, duty, currents, voltage, temperatures, fault, Ah/Wh counters, tachometer.
 */
import { FAULT_CODE_NAMES } from "../protocol/faultCode.js";
import { A, AH_TOTAL, C, V, WH_TOTAL } from "./presets.js";
import type { ValueDef } from "./types.js";

/** HA enum options: fault names without the FAULT_CODE_ prefix, lower case, plus "unknown". */
export const FAULT_OPTIONS: readonly string[] = [
  ...FAULT_CODE_NAMES.map((n) => n.replace(/^FAULT_CODE_/, "").toLowerCase()),
  "unknown",
];
// An enum state outside `options` is an error in HA: map unknown codes to "unknown".
const FAULT_TEMPLATE = `{% set f = value_json['values'].faultName | replace('FAULT_CODE_', '') | lower %}{{ f if f in ${JSON.stringify(
  FAULT_OPTIONS,
)} else 'unknown' }}`;

/** Motor ids are `motor.<field>`: unique beside the BMS's values of the same name (ampHours …). */
const motor = (v: Omit<ValueDef, "source">): ValueDef => ({ source: "motor", ...v });

export const MOTOR_VALUES: readonly ValueDef[] = [
  motor({
    id: "motor.inputVoltage",
    field: "inputVoltage",
    label: "Input voltage",
    unit: "V",
    ha: { key: "input_voltage", ...V, precision: 1 },
    metric: { name: "vesc_motor_input_voltage_volts", help: "Motor controller input voltage" },
    cli: { label: "Input", digits: 1 },
    dashboard: { digits: 2 },
  }),
  motor({
    id: "motor.currentMotor",
    field: "currentMotor",
    label: "Motor current",
    unit: "A",
    ha: { key: "motor_current", ...A },
    metric: { name: "vesc_motor_current_amps", help: "Motor current" },
    cli: { digits: 2 },
    dashboard: { digits: 2 },
  }),
  motor({
    id: "motor.currentInput",
    field: "currentInput",
    label: "Input current",
    unit: "A",
    ha: { key: "input_current", ...A },
    metric: { name: "vesc_motor_input_current_amps", help: "Motor controller input current" },
    cli: { label: "Current in", digits: 2 },
    dashboard: { digits: 2 },
  }),
  motor({
    id: "motor.dutyCycle",
    field: "dutyCycle",
    label: "Duty cycle",
    ha: {
      key: "duty_cycle",
      unit: "%",
      stateClass: "measurement",
      precision: 1,
      icon: "mdi:percent",
      template: "{{ (value_json['values'].dutyCycle * 100) | round(1) }}",
    },
    metric: { name: "vesc_motor_duty_cycle_ratio", help: "Duty cycle (-1..1)" },
    cli: { label: "Duty", digits: 3 },
    dashboard: { digits: 1, scale: 100, unit: "%" },
  }),
  motor({
    id: "motor.erpm",
    field: "erpm",
    label: "ERPM",
    ha: { key: "erpm", unit: "ERPM", stateClass: "measurement", precision: 0, icon: "mdi:speedometer" },
    metric: { name: "vesc_motor_erpm", help: "Electrical RPM" },
    cli: { digits: 0 },
    dashboard: { digits: 0 },
  }),
  motor({
    id: "motor.tempFet",
    field: "tempFet",
    label: "FET temperature",
    unit: "°C",
    ha: { key: "fet_temperature", ...C },
    metric: { name: "vesc_motor_fet_temperature_celsius", help: "FET temperature" },
    cli: { label: "FET temp", digits: 1 },
    dashboard: { digits: 1 },
  }),
  motor({
    id: "motor.tempMotor",
    field: "tempMotor",
    label: "Motor temperature",
    unit: "°C",
    ha: { key: "motor_temperature", ...C },
    metric: { name: "vesc_motor_temperature_celsius", help: "Motor temperature" },
    cli: { label: "Motor temp", digits: 1 },
    dashboard: { digits: 1 },
  }),
  motor({
    id: "motor.faultName",
    field: "faultName",
    label: "Fault",
    ha: {
      key: "fault",
      deviceClass: "enum",
      options: FAULT_OPTIONS,
      diagnostic: true,
      template: FAULT_TEMPLATE,
    },
    cli: { digits: 0 },
    dashboard: { digits: 0 },
  }),
  motor({
    id: "motor.fault",
    field: "fault",
    label: "Fault code",
    metric: { name: "vesc_motor_fault_code", help: "mc_fault_code (0 = none)" },
  }),
  // Counters since controller boot; a reboot resets them, which total_increasing treats as a new cycle.
  motor({
    id: "motor.ampHours",
    field: "ampHours",
    label: "Amp hours used",
    unit: "Ah",
    ha: { key: "amp_hours", ...AH_TOTAL },
    cli: { label: "Used", digits: 4 },
  }),
  motor({
    id: "motor.ampHoursCharged",
    field: "ampHoursCharged",
    label: "Amp hours charged",
    unit: "Ah",
    ha: { key: "amp_hours_charged", ...AH_TOTAL },
    cli: { label: "Charged", digits: 4 },
  }),
  motor({
    id: "motor.wattHours",
    field: "wattHours",
    label: "Energy used",
    unit: "Wh",
    ha: { key: "watt_hours", ...WH_TOTAL },
    cli: { label: "Used", digits: 2 },
  }),
  motor({
    id: "motor.wattHoursCharged",
    field: "wattHoursCharged",
    label: "Energy charged",
    unit: "Wh",
    ha: { key: "watt_hours_charged", ...WH_TOTAL },
    cli: { label: "Charged", digits: 2 },
  }),
  // The signed tachometer goes backwards when the motor does: a plain measurement.
  motor({
    id: "motor.tachometer",
    field: "tachometer",
    label: "Tachometer",
    unit: "steps",
    ha: {
      key: "tachometer",
      unit: "steps",
      stateClass: "measurement",
      precision: 0,
      icon: "mdi:counter",
      diagnostic: true,
    },
  }),
  motor({
    id: "motor.tachometerAbs",
    field: "tachometerAbs",
    label: "Tachometer (absolute)",
    unit: "steps",
    ha: {
      key: "tachometer_abs",
      unit: "steps",
      stateClass: "total_increasing",
      precision: 0,
      icon: "mdi:counter",
      diagnostic: true,
    },
    cli: { label: "Tachometer", digits: 0, unit: "" },
  }),
];
