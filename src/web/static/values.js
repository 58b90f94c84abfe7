// The value catalogue as the bridge serves it (api/values): every label, unit and digit count
// the dashboard shows comes from here, so it says what Home Assistant and the CLI say.
import { num } from "./dom.js";

let byId = new Map();

/** Loads the catalogue once at start; without it (no answer yet, 401) labels fall back to ids. */
export async function loadValues(url) {
  const res = await fetch(url).catch(() => undefined);
  if (!res?.ok) return;
  const body = await res.json().catch(() => ({ values: [] }));
  byId = new Map((body.values || []).map((v) => [v.id, v]));
}

const spec = (id) => byId.get(id)?.dashboard;

/** The short label a tile or row shows. */
export const label = (id) => spec(id)?.label ?? byId.get(id)?.label ?? id;

/** The unit shown next to the value ("" for none). */
export const unit = (id) => spec(id)?.unit ?? byId.get(id)?.unit ?? "";

/** The value as shown: scaled and rounded to the catalogue's digits, "–" when absent. */
export function text(id, v) {
  const s = spec(id);
  if (typeof v === "string") return v;
  return num(typeof v === "number" ? v * (s?.scale ?? 1) : v, s?.digits ?? 2);
}

/** `text unit`, e.g. "78.20 V". */
export const withUnit = (id, v) => {
  const u = unit(id);
  return u ? `${text(id, v)} ${u}` : text(id, v);
};

/** The value `v` (a catalogue entry) holds in `part` (the reading's `bms`, a motor node's `values`). */
export function valueIn(v, part) {
  let holder = part;
  for (const key of v.within || []) holder = holder?.[key];
  return holder?.[v.field];
}

/** Dashboard values of one source ("bms", "bmsStats", "motor" …), or of all, in catalogue order. */
export const shownOf = (source) =>
  [...byId.values()].filter((v) => v.dashboard && (source === undefined || v.source === source));
