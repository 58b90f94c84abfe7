/**
 * Runtime: a time-weighted EMA of the pack current, a `charging` flag with hysteresis on
 * it, and from the SOC and capacity the time to full (while charging) or to empty (while
 * discharging). The estimate assumes the smoothed current holds; a charger's constant-
 * voltage taper makes the real time to full longer than this.
 */
import { z } from "zod";

export interface RuntimeOptions {
  /** EMA time constant, s (default 60). */
  readonly smoothingS?: number;
  /** The smoothed current must exceed this to start "charging"/"discharging", A (default 0.5). */
  readonly onCurrentA?: number;
  /** …and fall below this to stop, A (default half the on current). */
  readonly offCurrentA?: number;
}

export interface RuntimeEstimate {
  /** Smoothed pack current, A (+ = charging); null before the first reading. */
  readonly smoothedCurrentA: number | null;
  readonly charging: boolean;
  readonly discharging: boolean;
  /** Seconds to 100 % at the smoothed current; null unless charging with SOC and capacity known. */
  readonly timeToFullS: number | null;
  /** Seconds to 0 % at the smoothed current; null unless discharging with SOC and capacity known. */
  readonly timeToEmptyS: number | null;
}

export const runtimeSnapshotSchema = z.strictObject({
  version: z.literal(1),
  smoothedCurrentA: z.number().finite().nullable(),
  lastMs: z.number().finite().nullable(),
  charging: z.boolean(),
  discharging: z.boolean(),
});
export type RuntimeSnapshot = z.output<typeof runtimeSnapshotSchema>;

export class RuntimeEstimator {
  private ema: number | null = null;
  private lastMs: number | null = null;
  private charging = false;
  private discharging = false;
  private readonly tauS: number;
  private readonly onA: number;
  private readonly offA: number;

  constructor(options: RuntimeOptions = {}, snapshot?: RuntimeSnapshot) {
    this.tauS = options.smoothingS ?? 60;
    this.onA = options.onCurrentA ?? 0.5;
    this.offA = options.offCurrentA ?? this.onA / 2;
    if (snapshot) {
      this.ema = snapshot.smoothedCurrentA;
      this.lastMs = snapshot.lastMs;
      this.charging = snapshot.charging;
      this.discharging = snapshot.discharging;
    }
  }

  snapshot(): RuntimeSnapshot {
    return {
      version: 1,
      smoothedCurrentA: this.ema,
      lastMs: this.lastMs,
      charging: this.charging,
      discharging: this.discharging,
    };
  }

  update(
    tMs: number,
    currentA: number | null,
    socPercent: number | null,
    capacityAh: number | null,
  ): RuntimeEstimate {
    if (currentA !== null && Number.isFinite(currentA)) {
      const dtS = this.lastMs === null ? 0 : (tMs - this.lastMs) / 1000;
      if (this.ema === null || dtS > this.tauS * 5) this.ema = currentA;
      else if (dtS > 0) this.ema += (currentA - this.ema) * (1 - Math.exp(-dtS / this.tauS));
      this.lastMs = tMs;
    }
    const i = this.ema;
    if (i !== null) {
      this.charging = this.charging ? i > this.offA : i > this.onA;
      this.discharging = this.discharging ? i < -this.offA : i < -this.onA;
    }
    const known = i !== null && socPercent !== null && capacityAh !== null && capacityAh > 0;
    return {
      smoothedCurrentA: i,
      charging: this.charging,
      discharging: this.discharging,
      timeToFullS:
        known && this.charging
          ? Math.round(
              (((100 - (socPercent as number)) / 100) * (capacityAh as number) * 3600) / (i as number),
            )
          : null,
      timeToEmptyS:
        known && this.discharging
          ? Math.round((((socPercent as number) / 100) * (capacityAh as number) * 3600) / -(i as number))
          : null,
    };
  }
}
