/**
 * BMS entities (COMM_BMS_GET_VALUES) from the value catalogue (src/values/): scalars, cell
 * stats and summaries, per-cell voltages and balancing, fitted NTC temperatures, plus the
 * bridge's verdicts (src/values/verdicts.ts); presence rules as described in entities.ts.
 */
import type { BmsReading } from "../../model/reading.js";
import { fittedTemperature } from "../../model/sensorHealth.js";
import {
  CATALOGUE,
  type Catalogue,
  type IndexedValueDef,
  type ValueDef,
  valuesWith,
} from "../../values/index.js";
import { type EntityDef, valueEntity } from "./entities.js";

type HaValue = ValueDef & { readonly ha: NonNullable<ValueDef["ha"]> };

/** The catalogue's BMS scalars with an HA entity (`bms.<field>`). */
const scalarsOf = (cat: Catalogue): readonly HaValue[] => valuesWith(cat, "bms", "ha");

/** What the presence check reads per optional scalar, flat: it runs once per reading. */
interface PresenceRule {
  readonly field: string;
  readonly key: string;
  readonly presence: "defined" | "nonzero";
}
const rulesOf = (cat: Catalogue): readonly PresenceRule[] =>
  scalarsOf(cat).flatMap((s) =>
    s.ha.presence === "defined" || s.ha.presence === "nonzero"
      ? [{ field: s.field, key: s.ha.key, presence: s.ha.presence }]
      : [],
  );
const DEFAULT_RULES = rulesOf(CATALOGUE);
const rulesMemo = new WeakMap<Catalogue, readonly PresenceRule[]>();
function presenceRules(cat: Catalogue): readonly PresenceRule[] {
  if (cat === CATALOGUE) return DEFAULT_RULES;
  let rules = rulesMemo.get(cat);
  if (!rules) {
    rules = rulesOf(cat);
    rulesMemo.set(cat, rules);
  }
  return rules;
}

/** A catalogue value as an HA entity, following the BMS availability unless it stays available. */
const scalarEntity = (v: HaValue): EntityDef => valueEntity(v, true);

/** Entity n of a family (cell voltage, cell balancing, temperature sensor). */
function familyEntity(f: IndexedValueDef, n: number, name: string): EntityDef {
  const { key, platform, template, attributesTemplate, ...metadata } = f.ha as NonNullable<
    IndexedValueDef["ha"]
  >;
  return {
    key: key(n),
    platform: platform ?? "sensor",
    name,
    source: "state",
    template: template(n),
    ...(attributesTemplate ? { attributesTemplate: attributesTemplate(n) } : {}),
    ...metadata,
    bmsAvailability: true,
  };
}

const family = (cat: Catalogue, field: IndexedValueDef["field"]) =>
  cat.families.find((f) => f.field === field && f.ha !== undefined);

/** Which BMS entities exist: computed per reading, merged with the previous one (see header). */
export interface BmsPresence {
  readonly cells: number;
  /** 0-based indices of fitted NTC sensors. */
  readonly temperatures: readonly number[];
  /** Keys of present optional scalars (presence "defined" / "nonzero"). */
  readonly fields: readonly string[];
  /** The reading carries `stats` (derived by the poller). */
  readonly stats: boolean;
  /** The reading carries `battery` (the bridge's estimates, src/bridge/batteryStage.ts). */
  readonly battery?: boolean;
  /** BMS data_version last seen: names the temperature slots (1: IC, Cell Min …). */
  readonly dataVersion?: number;
}

const fittedSensor = fittedTemperature;

function scalarPresent(s: PresenceRule, v: unknown): boolean {
  if (s.presence === "defined") return v !== undefined;
  return typeof v === "number" && Number.isFinite(v) && v !== 0;
}

/** True when `bms` would leave `prev` as it is: checked without allocating, once per reading. */
function addsNothing(bms: BmsReading, prev: BmsPresence, cat: Catalogue): boolean {
  if (bms.cells.length > 0 && bms.cells.length !== prev.cells) return false;
  if (bms.stats !== undefined && !prev.stats) return false;
  if (bms.battery !== undefined && prev.battery !== true) return false;
  if (bms.dataVersion !== undefined && bms.dataVersion !== prev.dataVersion) return false;
  for (const i of prev.temperatures) if (i >= bms.temperatures.length) return false;
  for (let i = 0; i < bms.temperatures.length; i++)
    if (fittedSensor(bms.temperatures[i] ?? 0) && !prev.temperatures.includes(i)) return false;
  for (const s of presenceRules(cat))
    if (scalarPresent(s, field(bms, s)) && !prev.fields.includes(s.key)) return false;
  return true;
}

/** `prev` merged with what `bms` shows; `prev` itself (same object) when that changes nothing. */
export function bmsPresence(bms: BmsReading, prev?: BmsPresence, cat: Catalogue = CATALOGUE): BmsPresence {
  return prev && addsNothing(bms, prev, cat) ? prev : mergedBmsPresence(bms, prev, cat);
}

const field = (bms: BmsReading, s: PresenceRule): unknown =>
  (bms as unknown as Record<string, unknown>)[s.field];

/** The whole merge, always a new object (bmsPresence skips it when nothing changes). */
export function mergedBmsPresence(
  bms: BmsReading,
  prev?: BmsPresence,
  cat: Catalogue = CATALOGUE,
): BmsPresence {
  const dataVersion = bms.dataVersion ?? prev?.dataVersion;
  const cells = bms.cells.length > 0 ? bms.cells.length : (prev?.cells ?? 0);
  const temps = new Set((prev?.temperatures ?? []).filter((i) => i < bms.temperatures.length));
  bms.temperatures.forEach((t, i) => {
    if (fittedSensor(t)) temps.add(i);
  });
  const fields = new Set(prev?.fields ?? []);
  for (const s of presenceRules(cat)) if (scalarPresent(s, field(bms, s))) fields.add(s.key);
  return {
    cells,
    temperatures: [...temps].sort((a, b) => a - b),
    fields: [...fields].sort(),
    stats: bms.stats !== undefined || (prev?.stats ?? false),
    ...(bms.battery !== undefined || prev?.battery === true ? { battery: true } : {}),
    ...(dataVersion === undefined ? {} : { dataVersion }),
  };
}

/**
 * `names`: display names of temperature sensors by 1-based number (config
 * `devices[].bms.temperatures`); the others are named by the catalogue (data_version labels).
 */
export function bmsEntities(
  p: BmsPresence,
  names?: ReadonlyMap<number, string>,
  cat: Catalogue = CATALOGUE,
): EntityDef[] {
  const out: EntityDef[] = [];
  const present = new Set(p.fields);
  for (const s of scalarsOf(cat)) {
    if ((s.ha.presence ?? "always") !== "always" && !present.has(s.ha.key)) continue;
    out.push(scalarEntity(s));
  }
  if (p.cells > 0 && p.stats) {
    for (const s of valuesWith(cat, "bmsStats", "ha")) out.push(scalarEntity(s));
  }
  if (p.battery === true) for (const s of valuesWith(cat, "battery", "ha")) out.push(scalarEntity(s));
  if (p.cells > 0) for (const s of valuesWith(cat, "cellSummary", "ha")) out.push(scalarEntity(s));
  const cells = family(cat, "cells");
  const balancing = family(cat, "balancing");
  const temperatures = family(cat, "temperatures");
  // cell numbers are 1-based, as on the pack and in VESC Tool
  if (cells) for (let n = 1; n <= p.cells; n++) out.push(familyEntity(cells, n, cells.label(n)));
  if (balancing) for (let n = 1; n <= p.cells; n++) out.push(familyEntity(balancing, n, balancing.label(n)));
  if (temperatures)
    for (const i of p.temperatures) {
      const n = i + 1;
      out.push(familyEntity(temperatures, n, names?.get(n) ?? temperatures.label(n, p.dataVersion)));
    }
  // The bridge's per-cell estimates (bms.battery), once a reading carried them.
  if (p.battery === true)
    for (const f of cat.families)
      if (f.source === "battery" && f.ha)
        for (let n = 1; n <= p.cells; n++) out.push(familyEntity(f, n, f.label(n)));
  // The bridge's verdicts: every BMS has them, whatever it reported.
  for (const s of valuesWith(cat, "bmsHealth", "ha")) out.push(scalarEntity(s));
  return out;
}
