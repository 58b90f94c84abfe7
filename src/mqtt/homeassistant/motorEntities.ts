/**
 * Motor controller entities for CAN motor nodes, from the catalogue's motor values
 * (src/values/motor.ts); an entity exists once its field has been sent.
 */
import type { CanNodeReading, MotorValues } from "../../model/reading.js";
import {
  CATALOGUE,
  type Catalogue,
  fieldOf,
  inPinnedOrder,
  RIDE_SOURCES,
  type ValueDef,
  valuesWith,
} from "../../values/index.js";
import { type EntityDef, sameItems, valueEntity } from "./entities.js";

/** The HA order of the motor entities, by field; values not listed follow in catalogue order. */
const HA_ORDER = [
  "erpm",
  "dutyCycle",
  "currentMotor",
  "currentInput",
  "inputVoltage",
  "tempFet",
  "tempMotor",
  "faultName",
  "ampHours",
  "ampHoursCharged",
  "wattHours",
  "wattHoursCharged",
  "tachometer",
  "tachometerAbs",
];

type HaValue = ValueDef & { readonly ha: NonNullable<ValueDef["ha"]> };
// Ride values (src/values/ride.ts) follow the motor values, in catalogue order.
const inHaOrder = (cat: Catalogue): readonly HaValue[] => [
  ...inPinnedOrder(valuesWith(cat, "motor", "ha"), HA_ORDER, (v) => v.field),
  ...RIDE_SOURCES.flatMap((s) => valuesWith(cat, s, "ha")),
];
// Read once per CAN node per reading: the default catalogue's list without a map lookup.
const DEFAULT = inHaOrder(CATALOGUE);
const ordered = new WeakMap<Catalogue, readonly HaValue[]>();
function motorScalars(cat: Catalogue): readonly HaValue[] {
  if (cat === CATALOGUE) return DEFAULT;
  let out = ordered.get(cat);
  if (!out) {
    out = inHaOrder(cat);
    ordered.set(cat, out);
  }
  return out;
}

/**
 * Keys of the motor fields present so far (sticky: a selective read may skip some). Ride
 * values are looked up on `node`, the CAN node reading the values came in.
 */
export function motorPresence(
  values: MotorValues,
  prev?: readonly string[],
  cat: Catalogue = CATALOGUE,
  node?: CanNodeReading,
): readonly string[] {
  const fields = new Set(prev ?? []);
  for (const m of motorScalars(cat)) {
    const v = m.source === "motor" ? (values as Record<string, unknown>)[m.field] : fieldOf(m, node);
    if (v !== undefined) fields.add(m.ha.key);
  }
  const next = [...fields].sort();
  // The same array back when nothing changed: callers compare presences by identity.
  return prev && sameItems(prev, next) ? prev : next;
}

export function motorEntities(presentKeys: readonly string[], cat: Catalogue = CATALOGUE): EntityDef[] {
  const present = new Set(presentKeys);
  return motorScalars(cat)
    .filter((m) => present.has(m.ha.key))
    .map((m) => valueEntity(m, false));
}
