/**
 * How one value of a reading is described, once, for every consumer: Home Assistant
 * discovery, Prometheus, the history file, the CLI `read` table and the dashboard. A
 * consumer ignores values without its section. Modelled on zwave-js's CC value
 * definitions (static properties plus dynamic, per-index ones, each with its metadata).
 */
import type { BmsReading } from "../model/reading.js";

/**
 * Where the value lives in a reading: `bms.<field>`, `bms.stats.<field>`, the bridge's battery
 * estimates `bms.battery.<field>` or a CAN motor node's `values.<field>`. `cellSummary`: a
 * value over a whole per-cell array (`bms.<field>`, e.g. any cell balancing), there once the
 * BMS reports cells; `bmsHealth`: the bridge's verdict on the BMS data (`bms.stale`,
 * `bms.stuck`, src/model/sensorHealth.ts). `link`: the poller's status of the device (its
 * connection topic, src/model/reading.ts DeviceStatus); `poll`: the reading itself (`latencyMs`).
 */
export type ValueSource =
  | "bms"
  | "bmsStats"
  | "cellSummary"
  | "battery"
  | "bmsHealth"
  | "motor"
  | "ride"
  | "rideStats"
  | "refloat"
  | "batteryCut"
  | "link"
  | "poll";

export type Platform = "sensor" | "binary_sensor";
export type StateClass = "measurement" | "total" | "total_increasing";

/** Home Assistant metadata of an entity, in the discovery payload's terms. */
export interface HaMetadata {
  readonly deviceClass?: string;
  /** The unit HA shows; may differ from the reading's (cell delta: V read, mV shown). */
  readonly unit?: string;
  readonly stateClass?: StateClass;
  readonly precision?: number;
  /** entity_category diagnostic. */
  readonly diagnostic?: boolean;
  readonly icon?: string;
  readonly enabledByDefault?: boolean;
  readonly options?: readonly string[];
}

/**
 * When a BMS entity exists: "always"; "defined" once the firmware sends the field; "nonzero"
 * once it reported a finite non-zero number (sensors a BMS reports as 0 when not fitted).
 * Presence is sticky (see src/mqtt/homeassistant/entities.ts).
 */
export type Presence = "always" | "defined" | "nonzero";

export interface HaSpec extends HaMetadata {
  /** Component key and unique_id suffix. Never rename: it is the entity's identity in HA. */
  readonly key: string;
  readonly platform?: Platform;
  /** Jinja value template; default: the field read from the state document. */
  readonly template?: string;
  /** BMS values only (motor values exist once sent); default "always". */
  readonly presence?: Presence;
  /**
   * Not offline while the BMS data is frozen (the BMS availability topic): for the verdicts
   * that say the data is frozen or a sensor stuck, which must stay readable then.
   */
  readonly staysAvailable?: boolean;
}

export interface MetricSpec {
  readonly name: string;
  readonly help: string;
  /**
   * Default "gauge": the last value. "counter": a total of the poller (`link` values), exposed
   * as a Prometheus counter that survives the poller starting over. "histogram": every
   * reading's value observed (`poll` values), into `buckets`.
   */
  readonly kind?: "gauge" | "counter" | "histogram";
  /** Histogram bucket bounds, in the metric's unit. */
  readonly buckets?: readonly number[];
  /** The metric is the value ÷ this (a latency in ms as seconds). Default 1. */
  readonly divideBy?: number;
  /** A text value as a 0/1 gauge: 1 while it equals this (the link state "online"). */
  readonly oneWhen?: string;
  /**
   * Fixed labels besides `device` (and `can_id` for motor values): a value that is one series
   * of a family's gauge, e.g. the IC temperature as `vesc_temperature_celsius{sensor="ic"}`.
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * A verdict over sensors by 1-based number (stuck sensors), exposed as one 0/1 series per
   * sensor `among` returns (the fitted ones), labelled `sensor` like the temperature gauge: 1
   * while `listed` has it. A sensor `among` no longer returns loses its series.
   */
  readonly perSensor?: {
    readonly among: (part: BmsReading) => readonly number[] | undefined;
    readonly listed: (part: BmsReading) => readonly number[] | undefined;
  };
}

/** A stored history column: an SQLite INTEGER holding round(value × scale). */
export interface HistorySpec {
  readonly column: string;
  readonly scale: number;
}

/** A row of a human table (CLI `read`, dashboard): label, digits, shown unit. */
export interface TableSpec {
  /** Default: the value's `label`. */
  readonly label?: string;
  readonly digits: number;
  /** Shown = value × scale (duty cycle 0.1 → 10 %). Default 1. */
  readonly scale?: number;
  /** Default: the value's `unit`; "" for none. */
  readonly unit?: string;
}

export interface ValueDef {
  /** Unique in the catalogue; the reading field's name unless two values share a field. */
  readonly id: string;
  readonly source: ValueSource;
  readonly field: string;
  /** The one human name: HA entity name, dashboard label, the metric help where it names the value. */
  readonly label: string;
  /** Unit of the value in the reading ("V", "A", "°C" …), none for counts and codes. */
  readonly unit?: string;
  readonly ha?: HaSpec;
  readonly metric?: MetricSpec;
  readonly history?: HistorySpec;
  readonly cli?: TableSpec;
  readonly dashboard?: TableSpec;
}

/** A family of values indexed by a 1-based number n (cells, balancing flags, temperature sensors). */
export interface IndexedValueDef {
  readonly id: string;
  /**
   * The BMS array the family reads: `bms.<field>[n - 1]`; the per-cell battery estimates
   * (cellResistanceOhm, cellDriftV) read `bms.battery.<field>[n - 1]`.
   */
  readonly field: "cells" | "balancing" | "temperatures" | "cellResistanceOhm" | "cellDriftV";
  /** `battery`: a per-cell estimate, with entities once a reading carried estimates; default `bms`. */
  readonly source?: "bms" | "battery";
  /** `dataVersion`: the BMS's, which names temperature slots (1: IC, Cell Min …). */
  readonly label: (n: number, dataVersion?: number) => string;
  readonly unit?: string;
  readonly ha?: HaMetadata & {
    readonly key: (n: number) => string;
    readonly platform?: Platform;
    readonly template: (n: number) => string;
    readonly attributesTemplate?: (n: number) => string;
  };
  readonly metric?: MetricSpec & { readonly indexLabel: string };
  /** A little-endian int16 BLOB (bits for flags) in the named column; CSV headers `<csv>_<n>`. */
  readonly history?: { readonly column: string; readonly scale: number; readonly csv: string };
}
