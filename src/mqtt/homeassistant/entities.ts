/**
 * The Home Assistant entity model, how a catalogue value becomes an entity, and the entities
 * that are not catalogue values (identity diagnostics). Reading and link values come from the
 * value catalogue (src/values/), whose units, device classes and state classes follow Home
 * Assistant's sensor tables (checked by test/helpers/haRules.ts against
 * test/fixtures/ha_sensor_rules.json).
 *
 * Presence rules (what gets an entity):
 * - Required BMS fields (pack voltage, current, counters, IC temperature): always.
 * - Cells: one voltage + one balancing entity per reported cell. A reading with zero cells
 *   keeps the previous count (a BMS that momentarily reports nothing is a glitch, not a
 *   new pack); a different non-zero count replaces it (vanished cells are removed).
 * - Sensors a BMS reports as 0 when not fitted (NTC temperatures, humidity, pressure,
 *   max cell temperature, SOC, SOH): present once they have reported a non-zero value
 *   (temperatures: within −50…150 °C) — then sticky, so a real 0.00 °C or an empty pack
 *   does not make the entity flap. A real Express reports 24 NTC slots of which 4 are
 *   fitted: the 20 zero slots never get an entity.
 * - Optional fields (lifetime totals, motor values): present when the firmware sends them.
 */

import {
  CATALOGUE,
  type Catalogue,
  defaultTemplate,
  type Platform,
  SOURCES,
  type StateClass,
  type ValueDef,
  valuesWith,
} from "../../values/index.js";

export type { Platform, StateClass };
/** Which retained topic an entity reads: the reading document, the link status or the alerts document. */
export type StateSource = "state" | "connection" | "alerts";

export interface EntityDef {
  /** Component key and unique_id suffix, e.g. "cell_3_voltage". Never rename: HA identity. */
  readonly key: string;
  readonly platform: Platform;
  readonly name: string;
  readonly template: string;
  readonly source: StateSource;
  readonly deviceClass?: string;
  readonly unit?: string;
  readonly stateClass?: StateClass;
  readonly diagnostic?: boolean;
  readonly precision?: number;
  readonly enabledByDefault?: boolean;
  readonly icon?: string;
  readonly options?: readonly string[];
  /** Only the bridge LWT: for entities that must stay visible while the device is down. */
  readonly bridgeAvailabilityOnly?: boolean;
  /**
   * Also follows the BMS availability topic (offline while the BMS data is frozen). A topic of
   * its own, not a template on the state topic: no extra bytes of template per entity in
   * discovery, and Home Assistant renders nothing more per state message.
   */
  readonly bmsAvailability?: boolean;
  /** json_attributes_template over the same state topic. */
  readonly attributesTemplate?: string;
}

/**
 * A catalogue value (src/values/) as an entity on the state topic, or a link value on the
 * connection topic (visible while the device is down: only the bridge's availability). `onBms`:
 * a BMS value, which also follows the BMS availability unless its entry stays available (the
 * verdicts).
 */
export function valueEntity(
  v: ValueDef & { readonly ha: NonNullable<ValueDef["ha"]> },
  onBms: boolean,
): EntityDef {
  const { key, platform, template, presence: _presence, staysAvailable, ...metadata } = v.ha;
  return {
    key,
    name: v.label,
    ...metadata,
    platform: platform ?? "sensor",
    source: SOURCES[v.source].part === "status" ? "connection" : "state",
    template: template ?? defaultTemplate(v),
    ...(SOURCES[v.source].part === "status" ? { bridgeAvailabilityOnly: true } : {}),
    ...(onBms && !staysAvailable ? { bmsAvailability: true } : {}),
  };
}

// ── diagnostics ───────────────────────────────────────────────────────────────

/** Firmware/hardware from the reading document (`device` block); for the Express and CAN nodes alike. */
export function identityEntities(): EntityDef[] {
  return [
    {
      key: "firmware",
      platform: "sensor",
      name: "Firmware",
      source: "state",
      template: "{{ value_json.device.firmware }}",
      diagnostic: true,
      icon: "mdi:chip",
    },
    {
      key: "hardware",
      platform: "sensor",
      name: "Hardware",
      source: "state",
      template: "{{ value_json.device.hardware }}",
      diagnostic: true,
      icon: "mdi:chip",
    },
  ];
}

/** Link diagnostics of a configured device: its link values, then its poll values (src/values/link.ts). */
export function linkEntities(cat: Catalogue = CATALOGUE): EntityDef[] {
  return [...valuesWith(cat, "link", "ha"), ...valuesWith(cat, "poll", "ha")].map((v) =>
    valueEntity(v, false),
  );
}

/** Element-wise equality of two arrays (the sorted key and index lists of a presence). */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
