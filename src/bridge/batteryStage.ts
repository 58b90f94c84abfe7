/**
 * The battery step of the bridge pipeline: one BatteryEstimator per BMS of a device (its own
 * BMS and each CAN BMS node), fed each of that BMS's readings before they reach the bus, the
 * estimate attached as `bms.battery` (so MQTT, Home Assistant, alerts, history, metrics and
 * the dashboard see the same numbers). Each BMS's state is restored from the
 * BatteryStateStore on its first reading (only if it was counted on the same device UUID and
 * cell count) and saved every `saveEveryMs` of reading time (queued and written in batches,
 * each BMS at its own phase of the interval so a fleet's saves spread out) and on stop, so
 * the counters survive restarts and never go backwards. Config `battery: false` turns the
 * step off.
 */
import {
  type BatteryConfigInput,
  type BatteryEstimate,
  BatteryEstimator,
  type BatteryEstimatorOptions,
} from "../battery/index.js";
import { copyOf } from "../model/copy.js";
import type { BatteryReading, BmsReading, CanNodeReading, Reading } from "../model/reading.js";
import type { BatteryIdentity, BatteryStateStore, PendingBatteryState } from "../store/batteryState.js";

export interface BatteryStageOptions extends Omit<BatteryEstimatorOptions, "config"> {
  readonly deviceId: string;
  /** The device's `battery:` section; false = no estimates at all (nothing computed, nothing stored). */
  readonly config?: BatteryConfigInput | false;
  /** Where the state lives; none = counted from zero on every start. */
  readonly store?: BatteryStateStore | undefined;
  /**
   * Save this often, ms of reading time (default 60 000): a crash loses at most this much
   * counting, plus the store's batch delay.
   */
  readonly saveEveryMs?: number;
  /** Told when saved state cannot be used (the counters then start from zero). */
  readonly onRestoreError?: (message: string) => void;
  /** Told when saved state was restored without a damaged section (that section starts anew, the counters do not). */
  readonly onRestoreWarning?: (message: string) => void;
}

export const DEFAULT_BATTERY_SAVE_EVERY_MS = 60_000;

/** The options with the estimates on: what each estimator is made with. */
type OnOptions = Omit<BatteryStageOptions, "config"> & { readonly config?: BatteryConfigInput };

/**
 * The battery.db key of a BMS: the device id for the device's own BMS (the key rows saved
 * before CAN nodes were counted already have), `<device id>:can<id>` for a CAN BMS node
 * (a device id is `[a-z0-9_-]`, so the two never collide).
 */
export function batteryStateKey(deviceId: string, canId?: number): string {
  return canId === undefined ? deviceId : `${deviceId}:can${canId}`;
}

/** What decides whether a device has battery estimates: a BMS is read and `battery` is not false. */
export interface BatteryCountedDevice {
  readonly readBms: boolean;
  readonly battery: unknown;
  readonly can: readonly { readonly kind: string }[];
}

/** Whether the bridge counts a battery for this device (and so needs battery.db). */
export function countsBattery(d: BatteryCountedDevice): boolean {
  return d.battery !== false && (d.readBms || d.can.some((c) => c.kind === "bms"));
}

export class BatteryStage {
  readonly #options: OnOptions;
  readonly #enabled: boolean;
  readonly #own: PackTracker;
  /** CAN BMS nodes by CAN id, made on their first reading. */
  readonly #nodes = new Map<number, PackTracker>();

  constructor(options: BatteryStageOptions) {
    this.#enabled = options.config !== false;
    const { config, ...rest } = options;
    this.#options = config === false || config === undefined ? rest : { ...rest, config };
    this.#own = new PackTracker(this.#options, batteryStateKey(options.deviceId), "");
  }

  /** False with config `battery: false`: apply() then passes every reading as it is. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The own BMS's estimator (restored without the identity check when no reading came yet). */
  get estimator(): BatteryEstimator {
    return this.#own.estimator;
  }

  /** A CAN BMS node's estimator, once a reading of it came. */
  nodeEstimator(canId: number): BatteryEstimator | undefined {
    return this.#nodes.get(canId)?.estimator;
  }

  /**
   * `r` with `bms.battery` set on the device's own BMS and on each CAN BMS node that answered;
   * a reading without any BMS (or with the stage off) passes as it is.
   */
  apply(r: Reading): Reading {
    if (!this.#enabled || (r.bms === undefined && r.can === undefined)) return r;
    const tMs = Date.parse(r.time);
    if (!Number.isFinite(tMs)) return r;
    const bms = r.bms;
    const own = bms ? this.#own.update(tMs, bms, r.device.uuid) : undefined;
    const can = r.can ? this.#nodesApplied(r.can, tMs, r.device.uuid) : undefined;
    if (own === undefined && can === undefined) return r;
    // Key by key: the same keys in the same order as `{ ...r, bms, can }`, so the JSON is the same.
    const out = copyOf(r);
    if (bms && own) out.bms = withBattery(bms, own);
    if (can) out.can = can;
    return out as unknown as Reading;
  }

  /** The CAN nodes with each BMS node's estimate attached; undefined when there is none. */
  #nodesApplied(
    nodes: Readonly<Record<string, CanNodeReading>>,
    tMs: number,
    deviceUuid: string,
  ): Record<string, CanNodeReading> | undefined {
    let out: Record<string, CanNodeReading> | undefined; // copied on the first BMS node only
    for (const key in nodes) {
      const node = nodes[key];
      if (node?.kind !== "bms" || node.bms === undefined || node.error !== undefined) continue;
      let tracker = this.#nodes.get(node.canId);
      if (!tracker) {
        const key = batteryStateKey(this.#options.deviceId, node.canId);
        tracker = new PackTracker(this.#options, key, ` of CAN node ${node.canId}`);
        this.#nodes.set(node.canId, tracker);
      }
      // The node's own UUID (its FW_VERSION) names the pack; the device's when it has none.
      const battery = tracker.update(tMs, node.bms, node.device?.uuid ?? deviceUuid);
      out ??= { ...nodes };
      const copy = copyOf(node);
      copy.bms = withBattery(node.bms, battery);
      out[key] = copy as unknown as CanNodeReading;
    }
    return out;
  }

  /** Writes every estimator's state now, in one transaction (the bridge calls it on stop). */
  save(nowMs: number = Date.now()): void {
    const store = this.#options.store;
    if (!this.#enabled || !store) return;
    this.#own.queueSave(nowMs);
    for (const t of this.#nodes.values()) t.queueSave(nowMs);
    store.flush();
  }
}

/** One BMS's estimator, its identity and when its state is next saved under `key`. */
class PackTracker implements PendingBatteryState {
  #estimator: BatteryEstimator | undefined;
  #identity: BatteryIdentity | undefined;
  /** Reading time of the next periodic save; set by the first reading. */
  #dueAtMs: number | undefined;
  #queuedAtMs = 0;
  #lastMs = 0;
  #dirty = false;
  #last: BatteryReading | undefined;

  constructor(
    private readonly options: OnOptions,
    readonly key: string,
    /** Told in a restore error after "battery state": "" for the device's own BMS. */
    private readonly what: string,
  ) {}

  get estimator(): BatteryEstimator {
    this.#estimator ??= restored(this.options, this.key, this.what, undefined);
    return this.#estimator;
  }

  /** The estimate for this reading of the BMS. */
  update(tMs: number, bms: BmsReading, deviceUuid: string): BatteryReading {
    // A frozen BMS reply (the Express repeats its cache) is not a new measurement: keep the
    // last estimate and let the counters see the gap when fresh data returns.
    if (bms.stale === true && this.#last !== undefined) return this.#last;
    if (!this.#estimator) {
      this.#identity = { deviceUuid, cells: bms.cells.length };
      this.#estimator = restored(this.options, this.key, this.what, this.#identity);
    }
    this.#last = batteryReadingOf(this.#estimator.update(tMs, bms));
    this.#dirty = true;
    this.#lastMs = tMs;
    const store = this.options.store;
    if (store) {
      const everyMs = this.options.saveEveryMs ?? DEFAULT_BATTERY_SAVE_EVERY_MS;
      this.#dueAtMs ??= tMs + phaseOf(this.key, everyMs);
      if (tMs >= this.#dueAtMs) {
        this.#dueAtMs = tMs + everyMs;
        this.queueSave(tMs);
      } else store.flushDue(tMs);
    }
    return this.#last;
  }

  /** Queues this BMS's state with the store when anything was counted since the last save. */
  queueSave(nowMs: number): void {
    const store = this.options.store;
    if (!store || !this.#dirty || !this.#estimator) return;
    this.#queuedAtMs = nowMs;
    store.queue(this, nowMs);
  }

  /** The state to write, taken when the store writes its batch. */
  state(): { snapshot: unknown; savedMs: number; identity: BatteryIdentity | undefined } {
    return {
      snapshot: (this.#estimator as BatteryEstimator).snapshot(),
      savedMs: Math.max(this.#queuedAtMs, this.#lastMs),
      identity: this.#identity,
    };
  }

  /** The state taken by state() is committed; readings only come between batches, so nothing newer is lost. */
  saved(): void {
    this.#dirty = false;
  }
}

/**
 * Where in the save interval a BMS saves (FNV-1a of its key): started in the same second, a
 * fleet's BMSs would otherwise all be due in the same second, every interval.
 */
function phaseOf(key: string, everyMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % Math.max(1, Math.floor(everyMs));
}

/** The stored state when it was counted on this pack (`identity`; undefined: take it as it is). */
function restored(
  options: OnOptions,
  key: string,
  what: string,
  identity: BatteryIdentity | undefined,
): BatteryEstimator {
  const named = (m: string) => (what === "" ? m : m.replace(/^battery state/, `battery state${what}`));
  const stored = options.store?.load(key);
  if (stored === undefined) return new BatteryEstimator(options);
  const was = stored.identity;
  if (identity && was && (was.deviceUuid !== identity.deviceUuid || was.cells !== identity.cells)) {
    options.onRestoreError?.(
      `battery state${what} not restored: it was counted on device ${was.deviceUuid} with ${was.cells} cells, this is ${identity.deviceUuid} with ${identity.cells} cells`,
    );
    return new BatteryEstimator(options);
  }
  try {
    return BatteryEstimator.restore(options, stored.snapshot, (m) => options.onRestoreWarning?.(named(m)));
  } catch (e) {
    options.onRestoreError?.(named((e as Error).message));
    return new BatteryEstimator(options);
  }
}

/** `{ ...bms, battery }`, key by key. */
function withBattery(bms: BmsReading, battery: BatteryReading): BmsReading {
  const out = copyOf(bms);
  out.battery = battery;
  return out as unknown as BmsReading;
}

/** The estimate as published: without its time (the reading has one), plus the per-cell extremes. */
export function batteryReadingOf(e: BatteryEstimate): BatteryReading {
  let maxR: number | null = null;
  for (const r of e.cellResistanceOhm) if (r !== null && (maxR === null || r > maxR)) maxR = r;
  let maxDrift: number | null = null;
  for (const d of e.cellDriftV)
    if (d !== null && (maxDrift === null || Math.abs(d) > Math.abs(maxDrift))) maxDrift = d;
  const out = copyOf(e, "timeMs");
  out.maxCellResistanceOhm = maxR;
  out.maxCellDriftV = maxDrift;
  return out as unknown as BatteryReading;
}
