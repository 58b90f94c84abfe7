/**
 * The value catalogue: every value the bridge publishes, described once (src/values/types.ts),
 * and the helpers its consumers derive their tables with. A group of values (BMS, cell
 * statistics, battery estimates, the bridge's verdicts, motor, ride, the device link) is one file of entries
 * listed in GROUPS; docs/architecture.md "How to add a value" walks through it.
 */
import { BATTERY_FAMILIES, BATTERY_VALUES } from "./battery.js";
import { BMS_VALUES } from "./bms.js";
import { CELL_FAMILIES, CELL_STATS, CELL_SUMMARY } from "./cells.js";
import { LINK_VALUES, POLL_VALUES } from "./link.js";
import { MOTOR_VALUES } from "./motor.js";
import { RIDE_VALUES } from "./ride.js";
import { BMS_VERDICTS } from "./verdicts.js";
import type { IndexedValueDef, ValueDef, ValueSource } from "./types.js";

export type * from "./types.js";
export { LINK_OPTIONS } from "./link.js";
export { FAULT_OPTIONS } from "./motor.js";
export { nodePartOf, RIDE_SOURCES, RIDE_STATE_OPTIONS } from "./ride.js";

export interface Catalogue {
  readonly values: readonly ValueDef[];
  readonly families: readonly IndexedValueDef[];
}

/** Groups in order; within a source, a consumer lists values in this order unless it pins its own. */
const GROUPS: readonly (readonly ValueDef[])[] = [
  BMS_VALUES,
  CELL_STATS,
  CELL_SUMMARY,
  BATTERY_VALUES,
  BMS_VERDICTS,
  MOTOR_VALUES,
  RIDE_VALUES,
  LINK_VALUES,
  POLL_VALUES,
];

export const CATALOGUE: Catalogue = {
  values: GROUPS.flat(),
  families: [...CELL_FAMILIES, ...BATTERY_FAMILIES],
};

/** A catalogue with more values (tests; an embedder's own derived values). */
export function extendCatalogue(base: Catalogue, values: readonly ValueDef[]): Catalogue {
  return { values: [...base.values, ...values], families: base.families };
}

type Section = "ha" | "metric" | "history" | "cli" | "dashboard";
type With<S extends Section> = ValueDef & { readonly [K in S]-?: NonNullable<ValueDef[K]> };

const memo = new WeakMap<Catalogue, Map<string, readonly ValueDef[]>>();

/** The values of one source that have a section, in catalogue order (computed once per catalogue). */
export function valuesWith<S extends Section>(
  cat: Catalogue,
  source: ValueSource,
  section: S,
): readonly With<S>[] {
  let m = memo.get(cat);
  if (!m) {
    m = new Map();
    memo.set(cat, m);
  }
  const key = `${source}:${section}`;
  let out = m.get(key);
  if (!out) {
    out = cat.values.filter((v) => v.source === source && v[section] !== undefined);
    m.set(key, out);
  }
  return out as readonly With<S>[];
}

/**
 * `items` with those named in `pinned` first, in that order, then the rest in their own order.
 * Consumers whose output order predates the catalogue (history columns, exposition order) pin
 * it here, so a new value needs no entry in any such list.
 */
export function inPinnedOrder<T>(
  items: readonly T[],
  pinned: readonly string[],
  keyOf: (t: T) => string,
): T[] {
  const rank = (t: T) => {
    const i = pinned.indexOf(keyOf(t));
    return i < 0 ? pinned.length : i;
  };
  // Array.prototype.sort is stable: unpinned items keep their order.
  return [...items].sort((a, b) => rank(a) - rank(b));
}

/**
 * Where each source's values sit: the part of a reading a consumer holds (a reading's or CAN
 * node's `bms`, a motor node's `values`, the CAN motor node itself, the device's status or the
 * reading itself), the path inside it, and the same place as a Jinja expression on the
 * document of its topic (the status: the connection topic). A group of values in a new place
 * is one row here.
 */
export const SOURCES: Readonly<
  Record<
    ValueSource,
    {
      readonly part: "bms" | "values" | "node" | "status" | "reading";
      readonly within: readonly string[];
      readonly jinja: string;
    }
  >
> = {
  bms: { part: "bms", within: [], jinja: "value_json.bms" },
  bmsStats: { part: "bms", within: ["stats"], jinja: "value_json.bms.stats" },
  cellSummary: { part: "bms", within: [], jinja: "value_json.bms" },
  battery: { part: "bms", within: ["battery"], jinja: "value_json.bms.battery" },
  bmsHealth: { part: "bms", within: [], jinja: "value_json.bms" },
  // `value_json.values` would be the dict's values() method in Jinja, not the "values" key.
  motor: { part: "values", within: [], jinja: "value_json['values']" },
  // Ride sources: the path inside the CAN motor node itself (src/values/ride.ts).
  ride: { part: "node", within: ["ride"], jinja: "value_json.ride" },
  rideStats: { part: "node", within: ["stats"], jinja: "value_json.stats" },
  refloat: { part: "node", within: ["refloat"], jinja: "value_json.refloat" },
  batteryCut: { part: "node", within: ["batteryCut"], jinja: "value_json.batteryCut" },
  link: { part: "status", within: [], jinja: "value_json" },
  poll: { part: "reading", within: [], jinja: "value_json" },
};

/**
 * The HA device a source's entities sit on, for key collisions: the Express (or a CAN BMS
 * node: BMS values, the link, the poll) or a CAN motor node.
 */
function haDeviceOf(source: ValueSource): "bms" | "motor" {
  const part = SOURCES[source].part;
  return part === "values" || part === "node" ? "motor" : "bms";
}

/** The sources read from a BMS part (`bms`, a CAN node's `bms`), in SOURCES order. */
export const BMS_SOURCES: readonly ValueSource[] = (Object.keys(SOURCES) as ValueSource[]).filter(
  (s) => SOURCES[s].part === "bms",
);

/** The Home Assistant value template that reads a value from its state document. */
export const defaultTemplate = (v: ValueDef): string => `{{ ${SOURCES[v.source].jinja}.${v.field} }}`;

/** The raw field (number, string, null or undefined) a value holds in its part of a reading. */
export function fieldOf(v: ValueDef, part: object | undefined): unknown {
  let holder = part as Record<string, unknown> | undefined;
  for (const key of SOURCES[v.source].within) holder = holder?.[key] as Record<string, unknown> | undefined;
  return holder?.[v.field];
}

/** The number a value holds in its part of a reading, else undefined (absent, null, text). */
export function numberOf(v: ValueDef, part: object | undefined): number | undefined {
  const x = fieldOf(v, part);
  return typeof x === "number" ? x : undefined;
}

/**
 * Descriptions that contradict each other (duplicate ids, HA keys, columns or metric helps)
 * or that no consumer would honour (a presence rule or staysAvailable where it has no effect,
 * a history column or metric kind its source's consumers do not write); [] when sound.
 */
export function catalogueProblems(cat: Catalogue): string[] {
  const problems: string[] = [];
  const seen = (what: string, keys: string[]) => {
    const s = new Set<string>();
    for (const k of keys) {
      if (s.has(k)) problems.push(`duplicate ${what} ${k}`);
      s.add(k);
    }
  };
  seen("id", [...cat.values.map((v) => v.id), ...cat.families.map((f) => f.id)]);
  seen(
    "HA key",
    cat.values.filter((v) => v.ha).map((v) => `${haDeviceOf(v.source)}:${v.ha?.key}`),
  );
  seen("history column", [
    ...cat.values.flatMap((v) => (v.history ? [v.history.column] : [])),
    ...cat.families.flatMap((f) => (f.history ? [f.history.column] : [])),
  ]);
  // Only the BMS scalars have a presence rule; staying available only means something on a BMS.
  for (const v of cat.values) {
    if ((v.ha?.presence ?? "always") !== "always" && v.source !== "bms")
      problems.push(`${v.id}: presence applies to bms values only`);
    if (v.ha?.staysAvailable && SOURCES[v.source].part !== "bms")
      problems.push(`${v.id}: staysAvailable applies to BMS values only`);
    const part = SOURCES[v.source].part;
    // Motor values are kept whole in the row's `can` JSON; a status is not a reading.
    if (v.history && (part === "values" || part === "status"))
      problems.push(`${v.id}: no history column for ${v.source} values`);
    const kind = v.metric?.kind ?? "gauge";
    if (kind === "counter" && v.source !== "link") problems.push(`${v.id}: counters are link values only`);
    if ((kind === "histogram") !== (v.metric !== undefined && v.source === "poll"))
      problems.push(`${v.id}: poll values, and only they, are histograms`);
  }
  const helps = new Map<string, string>();
  for (const m of [...cat.values.map((v) => v.metric), ...cat.families.map((f) => f.metric)]) {
    if (!m) continue;
    const h = helps.get(m.name);
    if (h !== undefined && h !== m.help) problems.push(`metric ${m.name} has two helps`);
    helps.set(m.name, m.help);
  }
  return problems;
}
