/**
 * The bridge's verdicts on a BMS's data (src/model/sensorHealth.ts sets them on every
 * reading): the whole reply frozen (the Express answers from a cache that never expires)
 * and the fitted temperature sensors that are stuck. Their Home Assistant entities stay
 * available while the BMS data is frozen: they are what says so.
 */
import type { ValueDef } from "./types.js";

/** The stuck sensors' numbers on the state document; [] for a reading without the verdict. */
export const STUCK_SENSORS_JINJA =
  "((value_json.bms | default({})).stuck | default({})).temperatures | default([])";

export const BMS_VERDICTS: readonly ValueDef[] = [
  {
    id: "bmsStale",
    source: "bmsHealth",
    field: "stale",
    label: "BMS data stale",
    ha: {
      key: "bms_stale",
      platform: "binary_sensor",
      deviceClass: "problem",
      template: "{{ 'ON' if (value_json.bms | default({})).stale | default(false) else 'OFF' }}",
      staysAvailable: true,
      diagnostic: true,
    },
    metric: {
      name: "vesc_bms_data_stale",
      help: "1 while the BMS reply has not changed for bms.stale_after_s",
    },
    // Shown only while frozen (a tile "BMS data: frozen").
    dashboard: { label: "BMS data", digits: 0 },
  },
  {
    id: "stuckSensors",
    source: "bmsHealth",
    field: "stuck",
    label: "Stuck sensors",
    ha: {
      key: "stuck_sensors",
      template: `{% set s = ${STUCK_SENSORS_JINJA} %}{{ ('temperature ' ~ (s | join(', '))) if s else 'none' }}`,
      staysAvailable: true,
      diagnostic: true,
      icon: "mdi:thermometer-alert",
    },
    // One series per fitted sensor; a slot that is not fitted has none.
    metric: {
      name: "vesc_temperature_stuck",
      help: "1 while a fitted temperature sensor is stuck (unchanged while others move), else 0",
      perSensor: {
        among: (bms) => bms.fitted?.temperatures,
        listed: (bms) => bms.stuck?.temperatures,
      },
    },
  },
];
