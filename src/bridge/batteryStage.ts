/**
 * The battery step of the bridge pipeline: one BatteryEstimator per device, fed each reading
 * of the device's own BMS before it reaches the bus, its estimate attached as `bms.battery`
 * (so MQTT, Home Assistant, alerts, history, metrics and the dashboard see the same numbers).
 * State is restored from the BatteryStateStore on the first reading (only if it was counted on
 * the same device UUID and cell count) and saved every `saveEveryMs` of reading time and on
 * stop, so the counters survive restarts and never go backwards.
 */
import { type BatteryEstimate, BatteryEstimator, type BatteryEstimatorOptions } from "../battery/index.js";
import type { BatteryReading, Reading } from "../model/reading.js";
import type { BatteryIdentity, BatteryStateStore } from "../store/batteryState.js";

export interface BatteryStageOptions extends BatteryEstimatorOptions {
  readonly deviceId: string;
  /** Where the state lives; none = counted from zero on every start. */
  readonly store?: BatteryStateStore | undefined;
  /** Save at most this often, ms of reading time (default 10 000): a crash loses at most this much counting. */
  readonly saveEveryMs?: number;
  /** Told when saved state cannot be used (the counters then start from zero). */
  readonly onRestoreError?: (message: string) => void;
}

export const DEFAULT_BATTERY_SAVE_EVERY_MS = 10_000;

export class BatteryStage {
  readonly #options: BatteryStageOptions;
  #estimator: BatteryEstimator | undefined;
  #identity: BatteryIdentity | undefined;
  readonly #store: BatteryStateStore | undefined;
  readonly #deviceId: string;
  readonly #saveEveryMs: number;
  #savedAtMs = Number.NEGATIVE_INFINITY;
  #dirty = false;
  #last: BatteryReading | undefined;

  constructor(options: BatteryStageOptions) {
    this.#deviceId = options.deviceId;
    this.#store = options.store;
    this.#saveEveryMs = options.saveEveryMs ?? DEFAULT_BATTERY_SAVE_EVERY_MS;
    this.#options = options;
  }

  /** The estimator (restored without the identity check when no reading came yet). */
  get estimator(): BatteryEstimator {
    this.#estimator ??= restored(this.#options, undefined);
    return this.#estimator;
  }

  /** `r` with `bms.battery` set; a reading without a BMS passes as it is. */
  apply(r: Reading): Reading {
    const bms = r.bms;
    if (!bms) return r;
    // A frozen BMS reply (the Express repeats its cache) is not a new measurement: keep the
    // last estimate and let the counters see the gap when fresh data returns.
    if (bms.stale !== true || this.#last === undefined) {
      const tMs = Date.parse(r.time);
      if (!Number.isFinite(tMs)) return r;
      if (!this.#estimator) {
        this.#identity = { deviceUuid: r.device.uuid, cells: bms.cells.length };
        this.#estimator = restored(this.#options, this.#identity);
      }
      this.#last = batteryReadingOf(this.#estimator.update(tMs, bms));
      this.#dirty = true;
      if (tMs - this.#savedAtMs >= this.#saveEveryMs) this.save(tMs);
    }
    return { ...r, bms: { ...bms, battery: this.#last } };
  }

  /** Writes the estimator's state now (the bridge calls it on stop). */
  save(nowMs: number = Date.now()): void {
    if (!this.#store || !this.#dirty || !this.#estimator) return;
    this.#store.save(this.#deviceId, this.#estimator.snapshot(), nowMs, this.#identity);
    this.#savedAtMs = nowMs;
    this.#dirty = false;
  }
}

/** The stored state when it was counted on this pack (`identity`; undefined: take it as it is). */
function restored(options: BatteryStageOptions, identity: BatteryIdentity | undefined): BatteryEstimator {
  const stored = options.store?.load(options.deviceId);
  if (stored === undefined) return new BatteryEstimator(options);
  const was = stored.identity;
  if (identity && was && (was.deviceUuid !== identity.deviceUuid || was.cells !== identity.cells)) {
    options.onRestoreError?.(
      `battery state not restored: it was counted on device ${was.deviceUuid} with ${was.cells} cells, this is ${identity.deviceUuid} with ${identity.cells} cells`,
    );
    return new BatteryEstimator(options);
  }
  try {
    return BatteryEstimator.restore(options, stored.snapshot);
  } catch (e) {
    options.onRestoreError?.((e as Error).message);
    return new BatteryEstimator(options);
  }
}

/** The estimate as published: without its time (the reading has one), plus the per-cell extremes. */
export function batteryReadingOf(e: BatteryEstimate): BatteryReading {
  const { timeMs: _timeMs, ...rest } = e;
  let maxR: number | null = null;
  for (const r of e.cellResistanceOhm) if (r !== null && (maxR === null || r > maxR)) maxR = r;
  let maxDrift: number | null = null;
  for (const d of e.cellDriftV)
    if (d !== null && (maxDrift === null || Math.abs(d) > Math.abs(maxDrift))) maxDrift = d;
  return { ...rest, maxCellResistanceOhm: maxR, maxCellDriftV: maxDrift };
}
