/**
 * Home Assistant metadata shared by many values. Units, device classes and state classes
 * follow Home Assistant's sensor tables (checked by test/helpers/haRules.ts against
 * test/fixtures/ha_sensor_rules.json).
 */
import type { HaMetadata, MetricSpec } from "./types.js";

export const V: HaMetadata = { deviceClass: "voltage", unit: "V", stateClass: "measurement" };
export const A: HaMetadata = { deviceClass: "current", unit: "A", stateClass: "measurement", precision: 2 };
export const C: HaMetadata = {
  deviceClass: "temperature",
  unit: "°C",
  stateClass: "measurement",
  precision: 1,
};
export const WH_TOTAL: HaMetadata = {
  deviceClass: "energy",
  unit: "Wh",
  stateClass: "total_increasing",
  precision: 1,
};
// There is no charge device class in HA: Ah counters carry the unit as free text only.
export const AH_TOTAL: HaMetadata = {
  unit: "Ah",
  stateClass: "total_increasing",
  precision: 3,
  icon: "mdi:battery-charging",
};

/** One gauge for every BMS temperature: the NTC sensors by number, the IC as sensor="ic". */
export const TEMPERATURES_METRIC: MetricSpec = {
  name: "vesc_temperature_celsius",
  help: "BMS temperature sensors (sensor 1-based, or ic)",
};
