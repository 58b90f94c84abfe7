/**
 * What the bridge knows about a BMS's sensors beyond one reading, applied to every reading
 * before it reaches the bus (so MQTT, Home Assistant, alerts, the dashboard, history and
 * metrics all see the same verdict):
 * - fitted: a temperature sensor, SOC or SOH counts as measured once it reported a plausible
 *   non-zero value (the rule Home Assistant entities are created by). A BMS sends 0 for what
 *   it does not measure; alerts ignore what is not fitted.
 * - stuck: a fitted temperature sensor whose value stayed bit-identical over at least
 *   `stuckAfterReadings` readings spanning `stuckAfterMs` while a sibling sensor moved is a
 *   placeholder, not a reading (the real Express sends 99.00 °C in an unused slot). Flagged
 *   until it moves; alerts and aggregates leave it out.
 * - unverified: a fitted temperature that has not changed yet, for less than the stuck rule's
 *   time: it may still turn out stuck, so alerts wait (a live NTC moves within seconds).
 * - stale: the whole BMS reply value-identical for `bmsStaleAfterMs`: the Express answers
 *   from a cache that never expires, so a BMS that went silent looks frozen, not absent.
 * - ignored: sensors the config names as ignored read as null ("not applicable").
 * Time is the readings' own `time`, so replays and tests are deterministic.
 */
import { copyOf } from "./copy.js";
import type { BmsHealth, BmsReading, CanNodeReading, Reading } from "./reading.js";

export interface SensorConfig {
  /** Display name (Home Assistant entity name, dashboard). */
  readonly name?: string | undefined;
  /** Never publish, alert on or aggregate this sensor. */
  readonly ignore?: boolean | undefined;
}

export interface SensorHealthOptions {
  /** The device's own BMS temperature sensors, by 1-based number as shown to users. */
  readonly temperatures?: Readonly<Record<number, SensorConfig | undefined>>;
  /** Default 60 000. */
  readonly stuckAfterMs?: number;
  /** Default 10. */
  readonly stuckAfterReadings?: number;
  /** Default 60 000; 0 = never mark BMS data stale. */
  readonly bmsStaleAfterMs?: number;
}

export const DEFAULT_STUCK_AFTER_MS = 60_000;
export const DEFAULT_STUCK_AFTER_READINGS = 10;
export const DEFAULT_BMS_STALE_AFTER_MS = 60_000;

/** Plausible NTC range, °C: outside it (or exactly 0) a slot is taken as not fitted. */
const TEMP_MIN = -50;
const TEMP_MAX = 150;

/** A temperature that shows a sensor is fitted: finite, non-zero, within −50…150 °C. */
export function fittedTemperature(t: number | null | undefined): t is number {
  return typeof t === "number" && Number.isFinite(t) && t !== 0 && t > TEMP_MIN && t < TEMP_MAX;
}

/** A value that shows an optional scalar (SOC, SOH, humidity…) is measured: finite and non-zero. */
export function fittedValue(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v !== 0;
}

/** Memory of one BMS (the device's own or one CAN node's). */
class BmsMemory {
  /** 0-based indices that have shown a fitted value. */
  readonly fitted = new Set<number>();
  /** 0-based indices whose value has changed at least once. */
  readonly moved = new Set<number>();
  soc = false;
  soh = false;
  /** Per sensor index: the last value, when it last changed (ms) and how many readings had it. */
  readonly last: (number | null)[] = [];
  readonly changedAt: number[] = [];
  readonly sameCount: number[] = [];
  /** The previous raw reply's values and since when (ms) replies have been identical to it. */
  readonly previous = new ValueRecord();
  unchangedSince = 0;
}

const NONE: readonly number[] = [];

export class SensorHealth {
  readonly #own = new BmsMemory();
  readonly #can = new Map<number, BmsMemory>();
  readonly #ignored: ReadonlySet<number>;
  readonly #stuckAfterMs: number;
  readonly #stuckAfterReadings: number;
  readonly #staleAfterMs: number;

  constructor(options: SensorHealthOptions = {}) {
    this.#ignored = new Set(
      Object.entries(options.temperatures ?? {})
        .filter(([, c]) => c?.ignore === true)
        .map(([n]) => Number(n) - 1),
    );
    this.#stuckAfterMs = options.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS;
    this.#stuckAfterReadings = Math.max(2, options.stuckAfterReadings ?? DEFAULT_STUCK_AFTER_READINGS);
    this.#staleAfterMs = options.bmsStaleAfterMs ?? DEFAULT_BMS_STALE_AFTER_MS;
  }

  /** The reading with every BMS (own and CAN) annotated; the input is not modified. */
  apply(r: Reading): Reading {
    const at = Date.parse(r.time);
    const bms = r.bms ? this.#bms(this.#own, r.bms, at, this.#ignored) : undefined;
    let can: Record<string, CanNodeReading> | undefined;
    if (r.can) {
      for (const [key, node] of Object.entries(r.can)) {
        if (!node.bms) continue;
        let mem = this.#can.get(node.canId);
        if (!mem) {
          mem = new BmsMemory();
          this.#can.set(node.canId, mem);
        }
        can ??= { ...r.can };
        can[key] = { ...node, bms: this.#bms(mem, node.bms, at, EMPTY) };
      }
    }
    if (!bms && !can) return r;
    const out = copyOf(r);
    if (bms) out.bms = bms;
    if (can) out.can = can;
    return out as unknown as Reading;
  }

  #bms(mem: BmsMemory, raw: BmsReading, at: number, ignored: ReadonlySet<number>): BmsReading {
    const stale = this.#trackStale(mem, raw, at);
    const temps: (number | null)[] = raw.temperatures.slice();
    for (const i of ignored) if (i < temps.length) temps[i] = null;
    for (let i = 0; i < temps.length; i++) if (fittedTemperature(temps[i])) mem.fitted.add(i);
    if (fittedValue(raw.soc)) mem.soc = true;
    if (fittedValue(raw.soh)) mem.soh = true;
    const { stuck, unverified } = this.#trackStuck(mem, temps, at);
    const fitted: number[] = [];
    for (let i = 0; i < temps.length; i++) if (mem.fitted.has(i) && temps[i] !== null) fitted.push(i + 1);
    // As { ...raw, temperatures: temps, ...health }: the same keys in the same order.
    const out = copyOf(raw);
    out.temperatures = temps;
    out.fitted = { temperatures: fitted, soc: mem.soc, soh: mem.soh } satisfies BmsHealth["fitted"];
    out.stuck = { temperatures: stuck } satisfies BmsHealth["stuck"];
    out.unverified = { temperatures: unverified } satisfies BmsHealth["unverified"];
    out.stale = stale;
    return out as unknown as BmsReading;
  }

  /**
   * 1-based numbers of the fitted sensors that are stuck now, and of those not yet seen to
   * move whose verdict is still open (younger than the stuck rule): alerts wait for them.
   */
  #trackStuck(
    mem: BmsMemory,
    temps: readonly (number | null)[],
    at: number,
  ): { stuck: readonly number[]; unverified: readonly number[] } {
    for (let i = 0; i < temps.length; i++) {
      const v = temps[i] ?? null;
      // Object.is: bit-identical (0 and −0 differ, NaN equals NaN).
      if (i < mem.last.length && Object.is(mem.last[i], v)) mem.sameCount[i] = (mem.sameCount[i] ?? 0) + 1;
      else {
        if (i < mem.last.length && mem.last[i] !== null && v !== null) mem.moved.add(i);
        mem.last[i] = v;
        mem.changedAt[i] = at;
        mem.sameCount[i] = 1;
      }
    }
    mem.last.length = temps.length;
    const stuck: number[] = [];
    const unverified: number[] = [];
    for (let i = 0; i < temps.length; i++) {
      if (!mem.fitted.has(i) || temps[i] === null) continue;
      const since = mem.changedAt[i] ?? at;
      if ((mem.sameCount[i] ?? 0) < this.#stuckAfterReadings || at - since < this.#stuckAfterMs) {
        if (!mem.moved.has(i)) unverified.push(i + 1);
        continue;
      }
      if (this.#siblingMoved(mem, temps, i, since)) stuck.push(i + 1);
    }
    return {
      stuck: stuck.length > 0 ? stuck : NONE,
      unverified: unverified.length > 0 ? unverified : NONE,
    };
  }

  /** Another fitted sensor changed after sensor i last did. */
  #siblingMoved(mem: BmsMemory, temps: readonly (number | null)[], i: number, since: number): boolean {
    for (let j = 0; j < temps.length; j++) {
      if (j === i || !mem.fitted.has(j) || temps[j] === null) continue;
      if ((mem.changedAt[j] ?? 0) > since) return true;
    }
    return false;
  }

  #trackStale(mem: BmsMemory, raw: BmsReading, at: number): boolean {
    const same = mem.previous.sameAs(raw);
    mem.previous.record(raw);
    if (!same) {
      mem.unchangedSince = at;
      return false;
    }
    return this.#staleAfterMs > 0 && at - mem.unchangedSince >= this.#staleAfterMs;
  }
}

const EMPTY: ReadonlySet<number> = new Set();

/** Keys the bridge derives or adds; the comparison is over what the BMS sent. */
const DERIVED = new Set(["stats", "fitted", "stuck", "unverified", "stale"]);

/** Object.is for numbers: 0 and −0 differ, NaN equals NaN. */
function sameNumber(a: number, b: number): boolean {
  return a === b ? a !== 0 || 1 / a === 1 / b : Number.isNaN(a) && Number.isNaN(b);
}

const NUMBER = 0;
const NULL = 1;
const UNDEFINED = 2;
const TRUE = 3;
const FALSE = 4;
/** Anything else (a string, an object): compared with Object.is against the value kept. */
const OTHER = 5;
const ARRAY = 6;

/**
 * The values of one reply, as sameValues compares them, copied into typed arrays reused
 * reply after reply. Keeping the reply itself held every reply of every BMS for an interval,
 * long enough to be promoted to the old generation: kilobytes of old-generation garbage per
 * reading (docs/performance.md, "Bridge heap").
 */
export class ValueRecord {
  /** The reply's keys in order (without DERIVED) and where each value's slots begin. */
  readonly #keys: string[] = [];
  readonly #slot: number[] = [];
  #tags = new Uint8Array(64);
  #numbers = new Float64Array(64);
  readonly #others: unknown[] = [];
  #used = 0;
  #held = false;

  /** Keeps `r`'s values (not `r`). */
  record(r: BmsReading): void {
    const x = r as unknown as Record<string, unknown>;
    let n = 0;
    this.#used = 0;
    for (const k in x) {
      if (DERIVED.has(k)) continue;
      this.#keys[n] = k;
      this.#slot[n] = this.#used;
      n++;
      const v = x[k];
      if (Array.isArray(v)) {
        this.#put(ARRAY, v.length, undefined);
        for (let i = 0; i < v.length; i++) this.#value(v[i]);
      } else this.#value(v);
    }
    this.#keys.length = n;
    this.#slot.length = n;
    this.#held = true;
  }

  /** sameValues(the reply recorded, r); false when none was. */
  sameAs(r: BmsReading): boolean {
    if (!this.#held) return false;
    const y = r as unknown as Record<string, unknown>;
    const keys = this.#keys;
    for (let k = 0; k < keys.length; k++) {
      const v = y[keys[k] as string];
      let at = this.#slot[k] as number;
      if (this.#tags[at] === ARRAY) {
        const length = this.#numbers[at] as number;
        if (!Array.isArray(v) || v.length !== length) return false;
        for (let i = 0; i < length; i++) if (!this.#equals(++at, v[i])) return false;
      } else if (!this.#equals(at, v)) return false;
    }
    let count = 0;
    for (const k in y) if (!DERIVED.has(k)) count++;
    return count === keys.length;
  }

  #value(v: unknown): void {
    if (typeof v === "number") this.#put(NUMBER, v, undefined);
    else if (v === null) this.#put(NULL, 0, undefined);
    else if (v === undefined) this.#put(UNDEFINED, 0, undefined);
    else if (v === true) this.#put(TRUE, 0, undefined);
    else if (v === false) this.#put(FALSE, 0, undefined);
    else this.#put(OTHER, 0, v);
  }

  #put(tag: number, n: number, other: unknown): void {
    const at = this.#used++;
    if (at >= this.#tags.length) {
      const tags = new Uint8Array(this.#tags.length * 2);
      tags.set(this.#tags);
      this.#tags = tags;
      const numbers = new Float64Array(this.#numbers.length * 2);
      numbers.set(this.#numbers);
      this.#numbers = numbers;
    }
    this.#tags[at] = tag;
    this.#numbers[at] = n;
    // An equal string is kept as the one held: the new one then dies young.
    if (tag === OTHER) {
      if (!Object.is(this.#others[at], other)) this.#others[at] = other;
    } else if (this.#others[at] !== undefined) this.#others[at] = undefined;
  }

  /** Object.is(the value recorded at slot `at`, v). */
  #equals(at: number, v: unknown): boolean {
    switch (this.#tags[at]) {
      case NUMBER:
        return typeof v === "number" && sameNumber(this.#numbers[at] as number, v);
      case NULL:
        return v === null;
      case UNDEFINED:
        return v === undefined;
      case TRUE:
        return v === true;
      case FALSE:
        return v === false;
      default:
        return Object.is(this.#others[at], v);
    }
  }
}

/** The two replies carry the same values (arrays element-wise); allocation-free. */
export function sameValues(a: BmsReading, b: BmsReading): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  let keys = 0;
  for (const k in x) {
    if (DERIVED.has(k)) continue;
    keys++;
    const u = x[k];
    const v = y[k];
    if (Array.isArray(u)) {
      if (!Array.isArray(v) || u.length !== v.length) return false;
      for (let i = 0; i < u.length; i++) if (!Object.is(u[i], v[i])) return false;
    } else if (!Object.is(u, v)) return false;
  }
  for (const k in y) if (!DERIVED.has(k)) keys--;
  return keys === 0;
}
