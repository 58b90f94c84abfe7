/**
 * Per-cell and per-sensor families (one entry, indexed by the 1-based cell or sensor number,
 * as on the pack and in VESC Tool), the cell statistics the bridge derives per reading and
 * the summaries over the per-cell arrays.
 */
import { bmsTemperatureLabel } from "../protocol/commands/bmsTemperatures.js";
import { C, TEMPERATURES_METRIC, V } from "./presets.js";
import type { IndexedValueDef, ValueDef } from "./types.js";
import { STUCK_SENSORS_JINJA } from "./verdicts.js";

/** Per temperature entity: whether the bridge considers the sensor stuck (src/values/verdicts.ts). */
const stuckAttributes = (n: number) => `{{ {'stuck': ${n} in ${STUCK_SENSORS_JINJA}} | tojson }}`;

export const CELL_FAMILIES: readonly IndexedValueDef[] = [
  {
    id: "cells",
    field: "cells",
    label: (n) => `Cell ${n}`,
    unit: "V",
    ha: {
      key: (n) => `cell_${n}_voltage`,
      template: (n) => `{{ value_json.bms.cells[${n - 1}] }}`,
      ...V,
      precision: 3,
      diagnostic: true,
    },
    metric: { name: "vesc_cell_voltage_volts", help: "Cell voltage (cell 1-based)", indexLabel: "cell" },
    history: { column: "cells", scale: 1000, csv: "cell" },
  },
  {
    id: "balancing",
    field: "balancing",
    label: (n) => `Cell ${n} balancing`,
    ha: {
      key: (n) => `cell_${n}_balancing`,
      platform: "binary_sensor",
      template: (n) => `{{ 'ON' if value_json.bms.balancing[${n - 1}] else 'OFF' }}`,
      diagnostic: true,
      icon: "mdi:scale-balance",
    },
    metric: { name: "vesc_cell_balancing", help: "1 while the cell is being balanced", indexLabel: "cell" },
    history: { column: "balancing", scale: 1, csv: "balancing" },
  },
  {
    id: "temperatures",
    field: "temperatures",
    label: (n, dataVersion) => bmsTemperatureLabel(n - 1, dataVersion),
    unit: "°C",
    ha: {
      key: (n) => `temperature_${n}`,
      template: (n) => `{{ value_json.bms.temperatures[${n - 1}] }}`,
      attributesTemplate: stuckAttributes,
      ...C,
    },
    metric: { ...TEMPERATURES_METRIC, indexLabel: "sensor" },
    history: { column: "temps", scale: 100, csv: "temperature" },
  },
];

/** Derived by the poller from the plausible cells (src/protocol/cellStats.ts). */
export const CELL_STATS: readonly ValueDef[] = [
  {
    id: "cellMin",
    source: "bmsStats",
    field: "cellMin",
    label: "Cell min",
    unit: "V",
    ha: { key: "cell_min", ...V, precision: 3 },
    metric: { name: "vesc_cell_min_volts", help: "Lowest cell voltage" },
  },
  {
    id: "cellMax",
    source: "bmsStats",
    field: "cellMax",
    label: "Cell max",
    unit: "V",
    ha: { key: "cell_max", ...V, precision: 3 },
    metric: { name: "vesc_cell_max_volts", help: "Highest cell voltage" },
  },
  {
    id: "cellAverage",
    source: "bmsStats",
    field: "cellAverage",
    label: "Cell average",
    unit: "V",
    ha: { key: "cell_average", ...V, precision: 3 },
  },
  // A difference is still a voltage; mV reads better at balancing scale.
  {
    id: "cellDelta",
    source: "bmsStats",
    field: "cellDelta",
    label: "Cell delta",
    unit: "V",
    ha: {
      key: "cell_delta",
      deviceClass: "voltage",
      unit: "mV",
      stateClass: "measurement",
      precision: 1,
      template: "{{ (value_json.bms.stats.cellDelta * 1000) | round(1) }}",
    },
    metric: { name: "vesc_cell_delta_volts", help: "Highest minus lowest cell voltage" },
    dashboard: { digits: 0, scale: 1000, unit: "mV" },
  },
  {
    id: "cellMinNumber",
    source: "bmsStats",
    field: "cellMinNumber",
    label: "Lowest cell",
    ha: { key: "cell_min_number", icon: "mdi:numeric" },
  },
  {
    id: "cellMaxNumber",
    source: "bmsStats",
    field: "cellMaxNumber",
    label: "Highest cell",
    ha: { key: "cell_max_number", icon: "mdi:numeric" },
  },
];

/** Over the per-cell arrays: HA entities once the BMS reports cells; the template computes them. */
export const CELL_SUMMARY: readonly ValueDef[] = [
  {
    id: "anyCellBalancing",
    source: "cellSummary",
    field: "balancing",
    label: "Balancing",
    ha: {
      key: "balancing",
      platform: "binary_sensor",
      template: "{{ 'ON' if true in (value_json.bms.balancing | default([])) else 'OFF' }}",
      diagnostic: true,
      icon: "mdi:scale-balance",
    },
  },
];
