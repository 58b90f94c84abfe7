/**
 * The battery step of the bridge pipeline: one BatteryEstimator per device, fed each reading
 * of the device's own BMS before it reaches the bus, its estimate attached as `bms.battery`
 * (so MQTT, Home Assistant, alerts, history, metrics and the dashboard see the same numbers).
 * State is restored from the BatteryStateStore at start and saved every `saveEveryMs` of
 * reading time and on stop, so the counters survive restarts and never go backwards.
 */
import { type BatteryEstimate, BatteryEstimator, type BatteryEstimatorOptions } from "../battery/index.js";
import type { BatteryReading, Reading } from "../model/reading.js";
import type { BatteryStateStore } from "../store/batteryState.js";

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
  readonly #estimator: BatteryEstimator;
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
    this.#estimator = restored(options);
  }

  get estimator(): BatteryEstimator {
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
      this.#last = batteryReadingOf(this.#estimator.update(tMs, bms));
      this.#dirty = true;
      if (tMs - this.#savedAtMs >= this.#saveEveryMs) this.save(tMs);
    }
    return { ...r, bms: { ...bms, battery: this.#last } };
  }

  /** Writes the estimator's state now (the bridge calls it on stop). */
  save(nowMs: number = Date.now()): void {
    if (!this.#store || !this.#dirty) return;
    this.#store.save(this.#deviceId, this.#estimator.snapshot(), nowMs);
    this.#savedAtMs = nowMs;
    this.#dirty = false;
  }
}

function restored(options: BatteryStageOptions): BatteryEstimator {
  const stored = options.store?.load(options.deviceId);
  if (stored === undefined) return new BatteryEstimator(options);
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
