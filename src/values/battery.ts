/**
 * The bridge's battery estimates (src/battery/, attached as `bms.battery` by
 * src/bridge/batteryStage.ts). Labels say "bridge" or "estimate" where the BMS reports a
 * value of the same name, so both can be shown side by side (docs/battery.md).
 */
import { AH_TOTAL, WH_TOTAL } from "./presets.js";
import type { IndexedValueDef, ValueDef } from "./types.js";

const counted = (what: string) => `${what}, counted by the bridge`;
const kWh = { digits: 2, scale: 0.001, unit: "kWh" } as const;
const duration = (key: string) =>
  ({ key, deviceClass: "duration", unit: "s", stateClass: "measurement", precision: 0 }) as const;

/** A per-cell estimate in Ω or V, shown ×1000 (mΩ, mV); None (unknown in HA) while not known. */
const perCellMilli = (field: string, digits: number) => (n: number) =>
  `{% set x = value_json.bms.battery.${field}[${n - 1}] %}{{ (x * 1000) | round(${digits}) if x is number else None }}`;

/** Per-cell estimates, one entity per cell (diagnostic, off until enabled: 2 × the cell count). */
export const BATTERY_FAMILIES: readonly IndexedValueDef[] = [
  {
    id: "cellResistance",
    source: "battery",
    field: "cellResistanceOhm",
    label: (n) => `Cell ${n} resistance`,
    unit: "Ω",
    ha: {
      key: (n) => `cell_${n}_resistance`,
      template: perCellMilli("cellResistanceOhm", 2),
      unit: "mΩ",
      stateClass: "measurement",
      precision: 2,
      diagnostic: true,
      enabledByDefault: false,
      icon: "mdi:omega",
    },
  },
  {
    id: "cellDrift",
    source: "battery",
    field: "cellDriftV",
    label: (n) => `Cell ${n} drift`,
    unit: "V",
    ha: {
      key: (n) => `cell_${n}_drift`,
      template: perCellMilli("cellDriftV", 1),
      deviceClass: "voltage",
      unit: "mV",
      stateClass: "measurement",
      precision: 1,
      diagnostic: true,
      enabledByDefault: false,
    },
  },
];

export const BATTERY_VALUES: readonly ValueDef[] = [
  {
    id: "socEstimate",
    source: "battery",
    field: "socEstimatePercent",
    label: "State of charge (estimate)",
    unit: "%",
    ha: { key: "soc_estimate", deviceClass: "battery", unit: "%", stateClass: "measurement", precision: 0 },
    metric: { name: "vesc_battery_soc_estimate_percent", help: "State of charge estimated by the bridge" },
    history: { column: "soc_estimate", scale: 100 },
    // `read` is one reading: the estimate is then the OCV curve's SOC for the chemistry.
    cli: { label: "SOC est.", digits: 0 },
    dashboard: { label: "SOC estimate", digits: 0 },
  },
  {
    id: "socConfidence",
    source: "battery",
    field: "socConfidence",
    label: "SOC confidence",
    metric: { name: "vesc_battery_soc_confidence", help: "Confidence in the SOC estimate, 0 to 1" },
  },
  {
    id: "bridgeWhCharged",
    source: "battery",
    field: "whCharged",
    label: "Energy charged (bridge)",
    unit: "Wh",
    ha: { key: "bridge_energy_charged", ...WH_TOTAL },
    metric: { name: "vesc_battery_charged_watt_hours", help: counted("Watt-hours charged") },
    history: { column: "bridge_wh_charged", scale: 1000 },
    dashboard: { label: "Charged", ...kWh },
  },
  {
    id: "bridgeWhDischarged",
    source: "battery",
    field: "whDischarged",
    label: "Energy discharged (bridge)",
    unit: "Wh",
    ha: { key: "bridge_energy_discharged", ...WH_TOTAL },
    metric: { name: "vesc_battery_discharged_watt_hours", help: counted("Watt-hours discharged") },
    history: { column: "bridge_wh_discharged", scale: 1000 },
    dashboard: { label: "Discharged", ...kWh },
  },
  {
    id: "bridgeAhCharged",
    source: "battery",
    field: "ahCharged",
    label: "Charge charged (bridge)",
    unit: "Ah",
    ha: { key: "bridge_charge_charged", ...AH_TOTAL },
    metric: { name: "vesc_battery_charged_amp_hours", help: counted("Amp-hours charged") },
    history: { column: "bridge_ah_charged", scale: 1000 },
  },
  {
    id: "bridgeAhDischarged",
    source: "battery",
    field: "ahDischarged",
    label: "Charge discharged (bridge)",
    unit: "Ah",
    ha: { key: "bridge_charge_discharged", ...AH_TOTAL },
    metric: { name: "vesc_battery_discharged_amp_hours", help: counted("Amp-hours discharged") },
    history: { column: "bridge_ah_discharged", scale: 1000 },
  },
  {
    id: "charging",
    source: "battery",
    field: "charging",
    label: "Charging",
    ha: {
      key: "charging",
      platform: "binary_sensor",
      deviceClass: "battery_charging",
      template: "{{ 'ON' if value_json.bms.battery.charging else 'OFF' }}",
    },
  },
  {
    id: "timeToFull",
    source: "battery",
    field: "timeToFullS",
    label: "Time to full",
    unit: "s",
    ha: duration("time_to_full"),
    metric: { name: "vesc_battery_time_to_full_seconds", help: "Time to full while charging (estimate)" },
    dashboard: { label: "To full", digits: 0, scale: 1 / 60, unit: "min" },
  },
  {
    id: "timeToEmpty",
    source: "battery",
    field: "timeToEmptyS",
    label: "Time to empty",
    unit: "s",
    ha: duration("time_to_empty"),
    metric: {
      name: "vesc_battery_time_to_empty_seconds",
      help: "Time to empty while discharging (estimate)",
    },
    dashboard: { label: "To empty", digits: 0, scale: 1 / 60, unit: "min" },
  },
  {
    id: "cycles",
    source: "battery",
    field: "cycles",
    label: "Cycles",
    ha: { key: "cycles", stateClass: "total_increasing", precision: 2, icon: "mdi:battery-sync" },
    metric: { name: "vesc_battery_cycles", help: "Equivalent full cycles counted by the bridge" },
    history: { column: "cycles", scale: 1000 },
    dashboard: { digits: 2 },
  },
  {
    id: "capacity",
    source: "battery",
    field: "capacityAh",
    label: "Capacity",
    unit: "Ah",
    ha: { key: "capacity", unit: "Ah", stateClass: "measurement", precision: 2, diagnostic: true },
    metric: {
      name: "vesc_battery_capacity_amp_hours",
      help: "Capacity the SOC counts against (learned or configured)",
    },
    history: { column: "capacity_ah", scale: 1000 },
    dashboard: { digits: 1 },
  },
  // Learned ÷ configured capacity: null until both are known.
  {
    id: "sohEstimate",
    source: "battery",
    field: "sohPercent",
    label: "State of health (estimate)",
    unit: "%",
    ha: {
      key: "soh_estimate",
      unit: "%",
      stateClass: "measurement",
      precision: 0,
      diagnostic: true,
      icon: "mdi:battery-heart-variant",
    },
    metric: { name: "vesc_battery_soh_estimate_percent", help: "State of health estimated by the bridge" },
    history: { column: "soh_estimate", scale: 100 },
  },
  {
    id: "weakestCell",
    source: "battery",
    field: "weakestCell",
    label: "Weakest cell",
    ha: { key: "weakest_cell", diagnostic: true, icon: "mdi:numeric" },
    metric: {
      name: "vesc_battery_weakest_cell",
      help: "1-based number of the weakest cell (NaN while none stands out)",
    },
    dashboard: { digits: 0 },
  },
  // Resistance in Ω in the reading; mΩ reads better at cell scale.
  {
    id: "maxCellResistance",
    source: "battery",
    field: "maxCellResistanceOhm",
    label: "Highest cell resistance",
    unit: "Ω",
    ha: {
      key: "max_cell_resistance",
      unit: "mΩ",
      stateClass: "measurement",
      precision: 2,
      diagnostic: true,
      icon: "mdi:omega",
      template:
        "{% set r = value_json.bms.battery.maxCellResistanceOhm %}{{ (r * 1000) | round(2) if r is number else None }}",
    },
    metric: {
      name: "vesc_battery_max_cell_resistance_ohms",
      help: "Highest per-cell internal resistance (estimate)",
    },
    history: { column: "max_cell_resistance", scale: 1_000_000 },
  },
  {
    id: "maxCellDrift",
    source: "battery",
    field: "maxCellDriftV",
    label: "Largest cell drift",
    unit: "V",
    ha: {
      key: "max_cell_drift",
      deviceClass: "voltage",
      unit: "mV",
      stateClass: "measurement",
      precision: 1,
      diagnostic: true,
      template:
        "{% set d = value_json.bms.battery.maxCellDriftV %}{{ (d * 1000) | round(1) if d is number else None }}",
    },
    metric: {
      name: "vesc_battery_max_cell_drift_volts",
      help: "Largest cell deviation from the pack mean at rest",
    },
    history: { column: "max_cell_drift", scale: 100_000 },
  },
];
