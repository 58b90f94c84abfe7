/**
 * BMS entities (COMM_BMS_GET_VALUES): the scalar table, cell stats, per-cell voltages and
 * balancing, fitted NTC temperatures; presence rules as described in entities.ts.
 */
import type { BmsReading } from "../../model/reading.js";
import { bmsTemperatureLabel } from "../../protocol/commands/bmsTemperatures.js";
import { fittedTemperature } from "../../model/sensorHealth.js";
import { A, AH_TOTAL, C, type EntityDef, type Numeric, V, WH_TOTAL } from "./entities.js";

const bmsTpl = (field: string) => `{{ value_json.bms.${field} }}`;

type Presence = "always" | "defined" | "nonzero";
interface BmsScalar extends Numeric {
  readonly field: keyof BmsReading & string;
  readonly key: string;
  readonly name: string;
  readonly presence: Presence;
  readonly template?: string;
}

const BMS_SCALARS: readonly BmsScalar[] = [
  { field: "packVoltage", key: "pack_voltage", name: "Pack voltage", presence: "always", ...V, precision: 2 },
  {
    field: "chargeVoltage",
    key: "charge_voltage",
    name: "Charger voltage",
    presence: "always",
    ...V,
    precision: 2,
    diagnostic: true,
  },
  // packCurrent/packPower: what the BMS measures, as VESC Tool shows it (docs/protocol.md).
  { field: "packCurrent", key: "current", name: "Current", presence: "always", ...A },
  { field: "currentIc", key: "current_ic", name: "Current (IC)", presence: "always", ...A, diagnostic: true },
  {
    field: "packPower",
    key: "power",
    name: "Power",
    presence: "always",
    deviceClass: "power",
    unit: "W",
    stateClass: "measurement",
    precision: 1,
  },
  {
    field: "soc",
    key: "soc",
    name: "State of charge",
    presence: "nonzero",
    deviceClass: "battery",
    unit: "%",
    stateClass: "measurement",
    precision: 0,
  },
  // `battery` means charge level only; health has no device class.
  {
    field: "soh",
    key: "soh",
    name: "State of health",
    presence: "nonzero",
    unit: "%",
    stateClass: "measurement",
    precision: 0,
    diagnostic: true,
    icon: "mdi:battery-heart-variant",
  },
  // Counters since BMS boot that the BMS may also count down: `total`, not `total_increasing`.
  {
    field: "ampHours",
    key: "amp_hours",
    name: "Amp hours",
    presence: "always",
    unit: "Ah",
    stateClass: "total",
    precision: 3,
    icon: "mdi:battery-charging",
  },
  {
    field: "wattHours",
    key: "watt_hours",
    name: "Watt hours",
    presence: "always",
    deviceClass: "energy",
    unit: "Wh",
    stateClass: "total",
    precision: 1,
  },
  // Lifetime totals feed the Energy dashboard's battery in/out.
  {
    field: "wattHoursChargedTotal",
    key: "energy_charged",
    name: "Energy charged",
    presence: "defined",
    ...WH_TOTAL,
  },
  {
    field: "wattHoursDischargedTotal",
    key: "energy_discharged",
    name: "Energy discharged",
    presence: "defined",
    ...WH_TOTAL,
  },
  {
    field: "ampHoursChargedTotal",
    key: "charge_charged",
    name: "Charge charged",
    presence: "defined",
    ...AH_TOTAL,
  },
  {
    field: "ampHoursDischargedTotal",
    key: "charge_discharged",
    name: "Charge discharged",
    presence: "defined",
    ...AH_TOTAL,
  },
  {
    field: "icTemperature",
    key: "ic_temperature",
    name: "IC temperature",
    presence: "always",
    ...C,
    diagnostic: true,
  },
  {
    field: "maxCellTemperature",
    key: "max_cell_temperature",
    name: "Max cell temperature",
    presence: "nonzero",
    ...C,
  },
  {
    field: "humidity",
    key: "humidity",
    name: "Humidity",
    presence: "nonzero",
    deviceClass: "humidity",
    unit: "%",
    stateClass: "measurement",
    precision: 0,
    diagnostic: true,
  },
  {
    field: "humidityTemperature",
    key: "humidity_temperature",
    name: "Humidity sensor temperature",
    presence: "nonzero",
    ...C,
    diagnostic: true,
  },
  {
    field: "pressure",
    key: "pressure",
    name: "Pressure",
    presence: "nonzero",
    deviceClass: "pressure",
    unit: "Pa",
    stateClass: "measurement",
    precision: 0,
    diagnostic: true,
  },
];

/** The bridge's verdict on the BMS data (src/model/sensorHealth.ts): diagnostics that stay available. */
function bmsHealthEntities(): EntityDef[] {
  return [
    {
      key: "bms_stale",
      platform: "binary_sensor",
      name: "BMS data stale",
      deviceClass: "problem",
      source: "state",
      template: "{{ 'ON' if (value_json.bms | default({})).stale | default(false) else 'OFF' }}",
      diagnostic: true,
    },
    {
      key: "stuck_sensors",
      platform: "sensor",
      name: "Stuck sensors",
      source: "state",
      template:
        "{% set s = ((value_json.bms | default({})).stuck | default({})).temperatures | default([]) %}{{ ('temperature ' ~ (s | join(', '))) if s else 'none' }}",
      diagnostic: true,
      icon: "mdi:thermometer-alert",
    },
  ];
}

const STATS: readonly (Numeric & { field: string; key: string; name: string; template?: string })[] = [
  { field: "cellMin", key: "cell_min", name: "Cell min", ...V, precision: 3 },
  { field: "cellMax", key: "cell_max", name: "Cell max", ...V, precision: 3 },
  { field: "cellAverage", key: "cell_average", name: "Cell average", ...V, precision: 3 },
  // A difference is still a voltage; mV reads better at balancing scale.
  {
    field: "cellDelta",
    key: "cell_delta",
    name: "Cell delta",
    deviceClass: "voltage",
    unit: "mV",
    stateClass: "measurement",
    precision: 1,
    template: "{{ (value_json.bms.stats.cellDelta * 1000) | round(1) }}",
  },
  { field: "cellMinNumber", key: "cell_min_number", name: "Lowest cell", icon: "mdi:numeric" },
  { field: "cellMaxNumber", key: "cell_max_number", name: "Highest cell", icon: "mdi:numeric" },
];

/** Which BMS entities exist: computed per reading, merged with the previous one (see header). */
export interface BmsPresence {
  readonly cells: number;
  /** 0-based indices of fitted NTC sensors. */
  readonly temperatures: readonly number[];
  /** Keys of present optional scalars (presence "defined" / "nonzero"). */
  readonly fields: readonly string[];
  /** The reading carries `stats` (derived by the poller). */
  readonly stats: boolean;
  /** BMS data_version last seen: names the temperature slots (1: IC, Cell Min …). */
  readonly dataVersion?: number;
}

const fittedSensor = fittedTemperature;

function scalarPresent(s: BmsScalar, v: unknown): boolean {
  if (s.presence === "defined") return v !== undefined;
  return s.presence === "nonzero" && typeof v === "number" && Number.isFinite(v) && v !== 0;
}

/** True when `bms` would leave `prev` as it is: checked without allocating, once per reading. */
function addsNothing(bms: BmsReading, prev: BmsPresence): boolean {
  if (bms.cells.length > 0 && bms.cells.length !== prev.cells) return false;
  if (bms.stats !== undefined && !prev.stats) return false;
  if (bms.dataVersion !== undefined && bms.dataVersion !== prev.dataVersion) return false;
  for (const i of prev.temperatures) if (i >= bms.temperatures.length) return false;
  for (let i = 0; i < bms.temperatures.length; i++)
    if (fittedSensor(bms.temperatures[i] ?? 0) && !prev.temperatures.includes(i)) return false;
  for (const s of BMS_SCALARS)
    if (scalarPresent(s, bms[s.field]) && !prev.fields.includes(s.key)) return false;
  return true;
}

/** `prev` merged with what `bms` shows; `prev` itself (same object) when that changes nothing. */
export function bmsPresence(bms: BmsReading, prev?: BmsPresence): BmsPresence {
  return prev && addsNothing(bms, prev) ? prev : mergedBmsPresence(bms, prev);
}

/** The whole merge, always a new object (bmsPresence skips it when nothing changes). */
export function mergedBmsPresence(bms: BmsReading, prev?: BmsPresence): BmsPresence {
  const dataVersion = bms.dataVersion ?? prev?.dataVersion;
  const cells = bms.cells.length > 0 ? bms.cells.length : (prev?.cells ?? 0);
  const temps = new Set((prev?.temperatures ?? []).filter((i) => i < bms.temperatures.length));
  bms.temperatures.forEach((t, i) => {
    if (fittedSensor(t)) temps.add(i);
  });
  const fields = new Set(prev?.fields ?? []);
  for (const s of BMS_SCALARS) if (scalarPresent(s, bms[s.field])) fields.add(s.key);
  return {
    cells,
    temperatures: [...temps].sort((a, b) => a - b),
    fields: [...fields].sort(),
    stats: bms.stats !== undefined || (prev?.stats ?? false),
    ...(dataVersion === undefined ? {} : { dataVersion }),
  };
}

/** Per temperature entity: whether the bridge considers the sensor stuck (see sensorHealth.ts). */
const stuckAttributes = (n: number) =>
  `{{ {'stuck': ${n} in ((value_json.bms | default({})).stuck | default({})).temperatures | default([])} | tojson }}`;

/**
 * `names`: display names of temperature sensors by 1-based number (config
 * `devices[].bms.temperatures`); the others are "Temperature N".
 */
export function bmsEntities(p: BmsPresence, names?: ReadonlyMap<number, string>): EntityDef[] {
  const out: EntityDef[] = [];
  const present = new Set(p.fields);
  for (const s of BMS_SCALARS) {
    if (s.presence !== "always" && !present.has(s.key)) continue;
    const { field, presence: _presence, template, ...rest } = s;
    out.push({
      ...rest,
      platform: "sensor",
      source: "state",
      template: template ?? bmsTpl(field),
      bmsAvailability: true,
    });
  }
  if (p.cells > 0 && p.stats) {
    for (const s of STATS) {
      const { field, template, ...rest } = s;
      out.push({
        ...rest,
        platform: "sensor",
        source: "state",
        template: template ?? bmsTpl(`stats.${field}`),
        bmsAvailability: true,
      });
    }
  }
  if (p.cells > 0) {
    out.push({
      key: "balancing",
      platform: "binary_sensor",
      name: "Balancing",
      source: "state",
      template: "{{ 'ON' if true in (value_json.bms.balancing | default([])) else 'OFF' }}",
      diagnostic: true,
      icon: "mdi:scale-balance",
      bmsAvailability: true,
    });
  }
  for (let i = 0; i < p.cells; i++) {
    const n = i + 1; // cell numbers are 1-based, as on the pack and in VESC Tool
    out.push({
      key: `cell_${n}_voltage`,
      platform: "sensor",
      name: `Cell ${n}`,
      source: "state",
      template: bmsTpl(`cells[${i}]`),
      ...V,
      precision: 3,
      diagnostic: true,
      bmsAvailability: true,
    });
  }
  for (let i = 0; i < p.cells; i++) {
    const n = i + 1;
    out.push({
      key: `cell_${n}_balancing`,
      platform: "binary_sensor",
      name: `Cell ${n} balancing`,
      source: "state",
      template: `{{ 'ON' if value_json.bms.balancing[${i}] else 'OFF' }}`,
      diagnostic: true,
      icon: "mdi:scale-balance",
      bmsAvailability: true,
    });
  }
  for (const i of p.temperatures) {
    const n = i + 1;
    out.push({
      key: `temperature_${n}`,
      platform: "sensor",
      name: names?.get(n) ?? bmsTemperatureLabel(i, p.dataVersion),
      source: "state",
      template: bmsTpl(`temperatures[${i}]`),
      attributesTemplate: stuckAttributes(n),
      ...C,
      bmsAvailability: true,
    });
  }
  out.push(...bmsHealthEntities());
  return out;
}
