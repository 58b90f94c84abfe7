/**
 * Ride values of CAN motor nodes (docs/ride.md): the bridge's derived `ride` values (speed,
 * trip, odometer, battery level, Wh left, Wh/km, ride state, footpads, attitude, charging),
 * the controller's ride statistics (`stats`, diagnostics), the balance package's diagnostics
 * (`refloat`) and the battery cut-off (`batteryCut`). These sources sit on the CAN node itself:
 * a consumer passes the node, where for `motor` values it passes the node's `values`.
 */
import type { CanNodeReading } from "../model/reading.js";
import { A, C, V } from "./presets.js";
import type { ValueDef, ValueSource } from "./types.js";

/** Sources whose values are read from a CAN motor node itself (not its `values`). */
export const RIDE_SOURCES: readonly ValueSource[] = ["ride", "rideStats", "refloat", "batteryCut"];

/** The part of a CAN node a motor or ride value is read from. */
export function nodePartOf(v: ValueDef, node: CanNodeReading): object | undefined {
  return v.source === "motor" ? node.values : node;
}

/** The summarised run state, as HA enum options. */
export const RIDE_STATE_OPTIONS: readonly string[] = [
  "riding",
  "idle",
  "charging",
  "startup",
  "disabled",
  "fault",
];

const ride = (v: Omit<ValueDef, "source" | "id">): ValueDef => ({
  source: "ride",
  id: `ride.${v.field}`,
  ...v,
});
const stat = (v: Omit<ValueDef, "source" | "id">): ValueDef => ({
  source: "rideStats",
  id: `rideStats.${v.field}`,
  ...v,
});
const onOff = (field: string) => `{{ 'ON' if value_json.ride.${field} else 'OFF' }}`;
/** The controller's statistics speeds are m/s; HA shows km/h (and converts for a mph user). */
const kmhOf = (field: string) => `{{ (value_json.stats.${field} * 3.6) | round(1) }}`;

export const RIDE_VALUES: readonly ValueDef[] = [
  ride({
    field: "speedKmh",
    label: "Speed",
    unit: "km/h",
    ha: { key: "speed", deviceClass: "speed", unit: "km/h", stateClass: "measurement", precision: 1 },
    metric: { name: "vesc_ride_speed_kilometers_per_hour", help: "Wheel speed, km/h" },
    history: { column: "ride_speed_kmh", scale: 100 },
    cli: { digits: 1 },
    dashboard: { digits: 1 },
  }),
  ride({
    field: "speedMph",
    label: "Speed",
    unit: "mph",
    ha: { key: "speed_mph", deviceClass: "speed", unit: "mph", stateClass: "measurement", precision: 1 },
    metric: { name: "vesc_ride_speed_miles_per_hour", help: "Wheel speed, mph" },
    history: { column: "ride_speed_mph", scale: 100 },
    cli: { digits: 1 },
    dashboard: { digits: 1 },
  }),
  // Trip counts from the controller's boot: a reboot starts a new cycle of the total.
  ride({
    field: "tripKm",
    label: "Trip",
    unit: "km",
    ha: { key: "trip", deviceClass: "distance", unit: "km", stateClass: "total_increasing", precision: 2 },
    metric: { name: "vesc_ride_trip_kilometers", help: "Distance since the controller booted" },
    history: { column: "ride_trip_km", scale: 1000 },
    cli: { digits: 2 },
    dashboard: { digits: 2 },
  }),
  ride({
    field: "odometerKm",
    label: "Odometer",
    unit: "km",
    ha: {
      key: "odometer",
      deviceClass: "distance",
      unit: "km",
      stateClass: "total_increasing",
      precision: 1,
    },
    metric: { name: "vesc_ride_odometer_kilometers", help: "Lifetime distance of the controller" },
    history: { column: "ride_odometer_km", scale: 1000 },
    cli: { digits: 1 },
    dashboard: { digits: 1 },
  }),
  ride({
    field: "batteryPercent",
    label: "Battery level",
    unit: "%",
    ha: { key: "battery_level", deviceClass: "battery", unit: "%", stateClass: "measurement", precision: 0 },
    metric: { name: "vesc_ride_battery_level_percent", help: "Battery level (the controller's estimate)" },
    history: { column: "ride_battery_percent", scale: 10 },
    cli: { label: "Battery", digits: 0 },
    dashboard: { label: "Battery", digits: 0 },
  }),
  ride({
    field: "wattHoursLeft",
    label: "Energy left",
    unit: "Wh",
    ha: {
      key: "energy_left",
      deviceClass: "energy_storage",
      unit: "Wh",
      stateClass: "measurement",
      precision: 0,
    },
    metric: { name: "vesc_ride_energy_left_watt_hours", help: "Energy left (the controller's estimate)" },
    history: { column: "ride_wh_left", scale: 10 },
    cli: { label: "Wh left", digits: 0 },
    dashboard: { label: "Wh left", digits: 0 },
  }),
  ride({
    field: "whPerKm",
    label: "Energy per km",
    unit: "Wh/km",
    ha: {
      key: "energy_per_km",
      unit: "Wh/km",
      stateClass: "measurement",
      precision: 1,
      icon: "mdi:lightning-bolt",
    },
    metric: {
      name: "vesc_ride_energy_per_kilometer_watt_hours",
      help: "Net energy per distance over the trip",
    },
    history: { column: "ride_wh_per_km", scale: 10 },
    cli: { label: "Wh/km", digits: 1, unit: "" },
    dashboard: { label: "Wh/km", digits: 1, unit: "" },
  }),
  ride({
    field: "state",
    label: "Ride state",
    ha: {
      key: "ride_state",
      deviceClass: "enum",
      options: RIDE_STATE_OPTIONS,
      icon: "mdi:skateboard",
      template: `{% set s = value_json.ride.state %}{{ s if s in ${JSON.stringify(RIDE_STATE_OPTIONS)} else None }}`,
    },
    cli: { label: "State", digits: 0 },
    dashboard: { label: "State", digits: 0 },
  }),
  ride({
    field: "footpadLeft",
    label: "Left footpad",
    ha: {
      key: "footpad_left",
      platform: "binary_sensor",
      icon: "mdi:foot-print",
      template: onOff("footpadLeft"),
    },
    dashboard: { label: "Left pad", digits: 0 },
  }),
  ride({
    field: "footpadRight",
    label: "Right footpad",
    ha: {
      key: "footpad_right",
      platform: "binary_sensor",
      icon: "mdi:foot-print",
      template: onOff("footpadRight"),
    },
    dashboard: { label: "Right pad", digits: 0 },
  }),
  ride({
    field: "pitch",
    label: "Pitch",
    unit: "°",
    ha: { key: "pitch", unit: "°", stateClass: "measurement", precision: 1, icon: "mdi:angle-acute" },
    metric: { name: "vesc_ride_pitch_degrees", help: "Board pitch" },
    cli: { digits: 1 },
    dashboard: { digits: 1 },
  }),
  ride({
    field: "roll",
    label: "Roll",
    unit: "°",
    ha: { key: "roll", unit: "°", stateClass: "measurement", precision: 1, icon: "mdi:angle-acute" },
    metric: { name: "vesc_ride_roll_degrees", help: "Board roll" },
    cli: { digits: 1 },
    dashboard: { digits: 1 },
  }),
  // The package's own charge detection: a charging state for a pack whose BMS reports none.
  ride({
    field: "charging",
    label: "Charging",
    ha: {
      key: "charging",
      platform: "binary_sensor",
      deviceClass: "battery_charging",
      template: onOff("charging"),
    },
  }),
  stat({
    field: "speedAvgMps",
    label: "Average speed",
    unit: "m/s",
    ha: {
      key: "stats_speed_average",
      deviceClass: "speed",
      unit: "km/h",
      stateClass: "measurement",
      precision: 1,
      diagnostic: true,
      template: kmhOf("speedAvgMps"),
    },
    cli: { label: "Avg speed", digits: 1, scale: 3.6, unit: "km/h" },
  }),
  stat({
    field: "speedMaxMps",
    label: "Top speed",
    unit: "m/s",
    ha: {
      key: "stats_speed_max",
      deviceClass: "speed",
      unit: "km/h",
      stateClass: "measurement",
      precision: 1,
      diagnostic: true,
      template: kmhOf("speedMaxMps"),
    },
    metric: { name: "vesc_ride_top_speed_meters_per_second", help: "Top speed since boot" },
    cli: { label: "Top speed", digits: 1, scale: 3.6, unit: "km/h" },
    dashboard: { label: "Top speed", digits: 1, scale: 3.6, unit: "km/h" },
  }),
  stat({
    field: "powerAvgW",
    label: "Average power",
    unit: "W",
    ha: {
      key: "stats_power_average",
      deviceClass: "power",
      unit: "W",
      stateClass: "measurement",
      precision: 0,
      diagnostic: true,
    },
    cli: { label: "Avg power", digits: 0 },
  }),
  stat({
    field: "powerMaxW",
    label: "Peak power",
    unit: "W",
    ha: {
      key: "stats_power_max",
      deviceClass: "power",
      unit: "W",
      stateClass: "measurement",
      precision: 0,
      diagnostic: true,
    },
    cli: { label: "Peak power", digits: 0 },
  }),
  stat({
    field: "currentAvgA",
    label: "Average motor current",
    unit: "A",
    ha: { key: "stats_current_average", ...A, diagnostic: true },
  }),
  stat({
    field: "currentMaxA",
    label: "Peak motor current",
    unit: "A",
    ha: { key: "stats_current_max", ...A, diagnostic: true },
  }),
  stat({
    field: "tempMosAvgC",
    label: "Average FET temperature",
    unit: "°C",
    ha: { key: "stats_fet_temperature_average", ...C, diagnostic: true },
  }),
  stat({
    field: "tempMotorAvgC",
    label: "Average motor temperature",
    unit: "°C",
    ha: { key: "stats_motor_temperature_average", ...C, diagnostic: true },
  }),
  stat({
    field: "elapsedS",
    label: "Statistics time",
    unit: "s",
    ha: {
      key: "stats_elapsed",
      deviceClass: "duration",
      unit: "s",
      stateClass: "measurement",
      precision: 0,
      diagnostic: true,
    },
  }),
  {
    id: "refloat.package",
    source: "refloat",
    field: "package",
    label: "Balance package",
    ha: { key: "balance_package", diagnostic: true, icon: "mdi:package-variant" },
    cli: { label: "Package", digits: 0 },
  },
  {
    id: "refloat.adcLeftV",
    source: "refloat",
    field: "adcLeftV",
    label: "Left footpad sensor",
    unit: "V",
    ha: { key: "footpad_left_voltage", ...V, precision: 2, diagnostic: true },
  },
  {
    id: "refloat.adcRightV",
    source: "refloat",
    field: "adcRightV",
    label: "Right footpad sensor",
    unit: "V",
    ha: { key: "footpad_right_voltage", ...V, precision: 2, diagnostic: true },
  },
  {
    id: "batteryCut.startV",
    source: "batteryCut",
    field: "startV",
    label: "Battery cut-off start",
    unit: "V",
    ha: { key: "battery_cut_start", ...V, precision: 1, diagnostic: true },
    cli: { label: "Cut start", digits: 1 },
  },
  {
    id: "batteryCut.endV",
    source: "batteryCut",
    field: "endV",
    label: "Battery cut-off end",
    unit: "V",
    ha: { key: "battery_cut_end", ...V, precision: 1, diagnostic: true },
    cli: { label: "Cut end", digits: 1 },
  },
];
