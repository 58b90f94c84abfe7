/**
 * A checker for Home Assistant MQTT discovery payloads against Home Assistant's tables
 * (test/fixtures/ha_sensor_rules.json, from home-assistant/core sensor/const.py):
 * unit ∈ allowed units of the device class (exact unicode, so "°C" not "ºC"), state class
 * allowed, non-numeric classes without unit/state class, sensor entity_category only
 * `diagnostic`, binary_sensor classes valid, unique_ids unique, availability well formed,
 * and numeric states wherever a unit or state class is set. Returns human messages.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface Rules {
  readonly units: Record<string, (string | null)[] | string>;
  readonly state_classes: Record<string, string[]>;
  readonly abbreviations: Record<string, string>;
  readonly device_abbreviations: Record<string, string>;
  readonly origin_abbreviations: Record<string, string>;
  readonly non_numeric_device_classes: string[];
  readonly state_class_values: string[];
  readonly entity_category_values_sensor: string[];
  readonly binary_sensor_device_classes: string[];
}

// A copy of the team's HA rules table (Home Assistant core's unit/state-class tables) lives in
// test/fixtures so the suite runs from any checkout; HA_RULES_PATH points at another copy.
const RULES_PATH =
  process.env.HA_RULES_PATH ?? fileURLToPath(new URL("../fixtures/ha_sensor_rules.json", import.meta.url));
export const haRules: Rules = JSON.parse(readFileSync(RULES_PATH, "utf8")) as Rules;

export type Json = Record<string, unknown>;

/** Long-form keys, as HA sees a payload after expanding abbreviations. */
export function expand(o: Json, table: Record<string, string> = haRules.abbreviations): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    const key = table[k] ?? k;
    if (key === "device" && v && typeof v === "object")
      out[key] = expand(v as Json, haRules.device_abbreviations);
    else if (key === "origin" && v && typeof v === "object")
      out[key] = expand(v as Json, haRules.origin_abbreviations);
    else if (key === "availability" && Array.isArray(v)) out[key] = v.map((a) => expand(a as Json));
    else if (key === "components" && v && typeof v === "object")
      out[key] = Object.fromEntries(Object.entries(v as Json).map(([ck, cv]) => [ck, expand(cv as Json)]));
    else out[key] = v;
  }
  return out;
}

export interface DiscoveryMsg {
  readonly topic: string;
  readonly payload: string;
}

export interface EntityConfig {
  readonly topic: string;
  readonly key: string;
  readonly platform: string;
  readonly config: Json;
}

/** Flattens device-based and per-entity discovery messages into entity configs (tombstones and removals skipped). */
export function entityConfigs(messages: readonly DiscoveryMsg[]): EntityConfig[] {
  const out: EntityConfig[] = [];
  for (const m of messages) {
    if (m.payload === "") continue;
    const p = expand(JSON.parse(m.payload) as Json);
    const parts = m.topic.split("/");
    if (parts.at(-3) === "device") {
      for (const [key, c] of Object.entries((p.components ?? {}) as Record<string, Json>)) {
        if (Object.keys(c).length === 1) continue; // {p} tombstone
        out.push({
          topic: m.topic,
          key,
          platform: String(c.platform),
          config: { ...c, device: p.device, origin: p.origin },
        });
      }
    } else {
      out.push({ topic: m.topic, key: parts.at(-2) ?? "", platform: parts.at(-4) ?? "", config: p });
    }
  }
  return out;
}

export function validateEntity(e: EntityConfig): string[] {
  const c = e.config;
  const errs: string[] = [];
  const at = `${e.topic} ${e.key}`;
  const dc = c.device_class as string | undefined;
  const unit = c.unit_of_measurement as string | undefined;
  const sc = c.state_class as string | undefined;
  const cat = c.entity_category as string | undefined;
  if (typeof c.unique_id !== "string" || c.unique_id === "") errs.push(`${at}: no unique_id`);
  if (typeof c.state_topic !== "string") errs.push(`${at}: no state_topic`);
  if (typeof c.name !== "string" && c.name !== null) errs.push(`${at}: no name`);
  const dev = c.device as Json | undefined;
  if (!dev || !Array.isArray(dev.identifiers) || dev.identifiers.length === 0)
    errs.push(`${at}: device without identifiers`);
  const origin = c.origin as Json | undefined;
  if (!origin || typeof origin.name !== "string") errs.push(`${at}: no origin name`);
  const avty = c.availability as Json[] | undefined;
  if (avty !== undefined) {
    if (!Array.isArray(avty) || avty.some((a) => typeof a.topic !== "string"))
      errs.push(`${at}: bad availability list`);
    if (c.availability_mode !== undefined && !["all", "any", "latest"].includes(String(c.availability_mode)))
      errs.push(`${at}: bad availability_mode`);
  }
  if (typeof unit === "string" && /^(C|ºC|℃|F)$/.test(unit))
    errs.push(`${at}: temperature unit spelled "${unit}"`);
  if (e.platform === "sensor") {
    if (cat !== undefined && !haRules.entity_category_values_sensor.includes(cat))
      errs.push(`${at}: sensor entity_category "${cat}" not allowed`);
    if (sc !== undefined && !haRules.state_class_values.includes(sc))
      errs.push(`${at}: unknown state_class "${sc}"`);
    if (dc !== undefined) {
      const allowed = haRules.units[dc];
      if (allowed === undefined) errs.push(`${at}: unknown sensor device_class "${dc}"`);
      else if (Array.isArray(allowed)) {
        const u = unit ?? null;
        if (!allowed.includes(u))
          errs.push(
            `${at}: unit ${JSON.stringify(unit)} not valid for device_class ${dc} (${allowed.join(" ")})`,
          );
      }
      const classes = haRules.state_classes[dc];
      if (sc !== undefined && classes !== undefined && !classes.includes(sc))
        errs.push(`${at}: state_class ${sc} not allowed for device_class ${dc}`);
      if (haRules.non_numeric_device_classes.includes(dc) && (unit !== undefined || sc !== undefined))
        errs.push(`${at}: ${dc} sensor must have no unit and no state_class`);
      if (dc === "enum" && !Array.isArray(c.options)) errs.push(`${at}: enum without options`);
    }
    if (c.options !== undefined && dc !== "enum") errs.push(`${at}: options without device_class enum`);
  } else if (e.platform === "binary_sensor") {
    if (dc !== undefined && !haRules.binary_sensor_device_classes.includes(dc))
      errs.push(`${at}: unknown binary_sensor device_class "${dc}"`);
    if (cat !== undefined && cat !== "diagnostic") errs.push(`${at}: binary_sensor entity_category "${cat}"`);
    if (unit !== undefined || sc !== undefined) errs.push(`${at}: binary_sensor with unit/state_class`);
  } else {
    errs.push(`${at}: unexpected platform ${e.platform}`);
  }
  return errs;
}

/** Every rule over a whole set of discovery messages, including unique_id uniqueness. */
export function validateDiscovery(messages: readonly DiscoveryMsg[]): string[] {
  const entities = entityConfigs(messages);
  const errs = entities.flatMap(validateEntity);
  const seen = new Map<string, string>();
  for (const e of entities) {
    const id = String(e.config.unique_id);
    const prev = seen.get(id);
    if (prev !== undefined) errs.push(`unique_id ${id} used twice (${prev}, ${e.topic} ${e.key})`);
    seen.set(id, `${e.topic} ${e.key}`);
  }
  return errs;
}

/**
 * Evaluates a plain `{{ value_json.a.b[0] }}` template against a state document; undefined
 * for anything more complex (those are checked by hand in the tests).
 */
export function evalSimpleTemplate(template: string, doc: unknown): unknown {
  const m = /^\{\{ value_json\.([\w.[\]]+) \}\}$/.exec(template);
  if (!m?.[1]) return undefined;
  let cur: unknown = doc;
  for (const part of m[1].split(/\.|\[|\]/).filter((s) => s !== "")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * Where a unit or state class is set, a simple template must yield a finite number, or null:
 * a value not known yet (Wh/km before 100 m) renders None, which HA shows as unknown.
 */
export function checkNumericStates(
  entities: readonly EntityConfig[],
  docs: ReadonlyMap<string, unknown>,
): string[] {
  const errs: string[] = [];
  for (const e of entities) {
    const c = e.config;
    if (c.unit_of_measurement === undefined && c.state_class === undefined) continue;
    const doc = docs.get(String(c.state_topic));
    if (doc === undefined) continue;
    const v = evalSimpleTemplate(String(c.value_template), doc);
    if (v === undefined && /^\{\{ value_json\.[\w.[\]]+ \}\}$/.test(String(c.value_template)))
      errs.push(`${e.key}: template ${String(c.value_template)} finds nothing in ${String(c.state_topic)}`);
    else if (v !== undefined && v !== null && (typeof v !== "number" || !Number.isFinite(v)))
      errs.push(`${e.key}: non-numeric state ${JSON.stringify(v)}`);
  }
  return errs;
}
