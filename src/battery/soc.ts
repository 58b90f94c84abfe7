/**
 * State-of-charge estimate: coulomb counting from the measured charge, re-anchored from the
 * OCV curve once the pack has rested (|I| under the rest current for the rest time and
 * the cell voltages no longer relaxing) and set to 100 % at the end of a charge (a cell at
 * the chemistry's end-of-charge voltage with the current tapered off). Before the first
 * such anchor the value is a first guess from the OCV curve, flagged uncalibrated.
 */
import { z } from "zod";
import { cellSocs, cellVoltageAtSoc, type OcvCurve, packSocFromCells } from "./chemistry.js";

export type SocAnchorKind = "full" | "rest" | "initial";
/** How the current value came about: counted from an anchor, read off the OCV curve, or a voltage guess under load. */
export type SocMethod = "coulomb" | "ocv" | "voltage";

export interface SocOptions {
  readonly curve: OcvCurve;
  /** |current| at or below this is rest, A. */
  readonly restCurrentA: number;
  /** Rest this long before an OCV anchor, s. */
  readonly restS: number;
  /** The mean cell voltage must have moved less than this over the last minute, V (default 1 mV). */
  readonly relaxedV?: number;
}

export interface SocSample {
  readonly tMs: number;
  readonly currentA: number | null;
  readonly cells: readonly (number | null)[];
  /** Net charge counted so far (charged − discharged), Ah: its change is what coulomb counting adds. */
  readonly netAh: number;
  /** True when the counters did not bridge the time since the previous sample. */
  readonly gap: boolean;
  /** Capacity to count against, Ah; null = unknown (the SOC then follows the voltage). */
  readonly capacityAh: number | null;
  readonly cellResistanceOhm?: readonly (number | null)[];
}

export interface SocAnchor {
  readonly kind: SocAnchorKind;
  readonly tMs: number;
  readonly socPercent: number;
  /** Each cell's SOC from its own voltage at the anchor, % (null = no reading). */
  readonly cellSocPercent: readonly (number | null)[];
  readonly netAh: number;
  /** Rises by one each time anchoring starts again after the pack was used. */
  readonly episode: number;
}

export interface SocResult {
  readonly socPercent: number | null;
  readonly method: SocMethod | null;
  /** True once the SOC has been anchored at a full charge or after rest. */
  readonly calibrated: boolean;
  /** 0..1: 1 right after a full-charge anchor, falling with the charge counted since. */
  readonly confidence: number;
  readonly anchor: SocAnchor | null;
  /** Set on the samples that anchored (full or rest). */
  readonly anchoredNow: boolean;
}

const anchorSchema = z.strictObject({
  kind: z.enum(["full", "rest", "initial"]),
  tMs: z.number().finite(),
  socPercent: z.number().finite().min(0).max(100),
  cellSocPercent: z.array(z.number().finite().nullable()),
  netAh: z.number().finite(),
  episode: z.number().int().min(0),
});

export const socSnapshotSchema = z.strictObject({
  version: z.literal(1),
  socPercent: z.number().finite().min(0).max(100).nullable(),
  method: z.enum(["coulomb", "ocv", "voltage"]).nullable(),
  calibrated: z.boolean(),
  anchorConfidence: z.number().min(0).max(1),
  throughputAh: z.number().finite().min(0),
  anchor: anchorSchema.nullable(),
  lastNetAh: z.number().finite().nullable(),
  episodes: z.number().int().min(0),
});
export type SocSnapshot = z.output<typeof socSnapshotSchema>;

const RELAX_WINDOW_MS = 60_000;
/** A current lasting this long says whether the pack is being charged or used. */
const SUSTAINED_MS = 30_000;
/** Time constant of the voltage-following SOC used while no capacity is known, s. */
const VOLTAGE_SMOOTHING_S = 120;
const ANCHOR_CONFIDENCE = { full: 1, rest: 0.95, initialRest: 0.5, initialLoad: 0.2 } as const;
/** Below this OCV slope (V per % SOC) a rest anchor is weak: LFP's plateau. */
const FLAT_CURVE_V_PER_PERCENT = 0.002;

export class SocEstimator {
  private soc: number | null = null;
  private method: SocMethod | null = null;
  private calibrated = false;
  private anchorConfidence = 0;
  private throughputAh = 0;
  private anchor: SocAnchor | null = null;
  private lastNetAh: number | null = null;
  private episodes = 0;
  private anchoredLast = false;
  private lastMs: number | null = null;
  /** The direction of the last sustained (≥ 30 s) current above the rest current. */
  private lastActive: "charge" | "discharge" | null = null;
  private run: { sign: 1 | -1; sinceMs: number } | null = null;
  private restSinceMs: number | null = null;
  private relax: { tMs: number; meanV: number }[] = [];

  constructor(
    private readonly options: SocOptions,
    snapshot?: SocSnapshot,
  ) {
    if (snapshot) {
      this.soc = snapshot.socPercent;
      this.method = snapshot.method;
      this.calibrated = snapshot.calibrated;
      this.anchorConfidence = snapshot.anchorConfidence;
      this.throughputAh = snapshot.throughputAh;
      this.anchor = snapshot.anchor;
      this.lastNetAh = snapshot.lastNetAh;
      this.episodes = snapshot.episodes;
    }
  }

  update(s: SocSample): SocResult {
    const { curve, restCurrentA } = this.options;
    const current = s.currentA;
    const dAh = this.lastNetAh === null || s.gap ? 0 : s.netAh - this.lastNetAh;
    this.lastNetAh = s.netAh;
    if (s.gap && this.soc !== null) this.anchorConfidence *= 0.5;
    this.throughputAh += Math.abs(dAh);

    const atRest = current !== null && Math.abs(current) <= restCurrentA;
    const meanV = meanOf(s.cells);
    this.trackRest(s.tMs, atRest, meanV);

    this.trackActive(s.tMs, current);
    let anchored: SocAnchorKind | null = null;
    const cellMax = maxOf(s.cells);
    const taperA = Math.max(restCurrentA, s.capacityAh === null ? 1 : s.capacityAh / 20);
    // A stop in the middle of a ride is no end of charge, however high one cell reads.
    if (
      this.lastActive !== "discharge" &&
      current !== null &&
      cellMax !== null &&
      cellMax >= curve.endOfChargeCellV &&
      current >= -restCurrentA &&
      current <= taperA
    ) {
      anchored = "full";
    } else if (atRest && this.restedLongEnough(s.tMs)) {
      anchored = "rest";
    }

    // The OCV reading of the cells is needed only to anchor, to follow the voltage or for a
    // first guess: a reading that is coulomb-counted skips a curve lookup per cell.
    let cellSoc: (number | null)[] = [];
    let ocvSoc: number | null = null;
    const readOcv = (): void => {
      cellSoc = cellSocs(curve, s.cells, current ?? 0, s.cellResistanceOhm);
      ocvSoc = packSocFromCells(cellSoc);
    };
    if (anchored !== null) readOcv();
    if (anchored !== null && ocvSoc !== null) {
      const soc = anchored === "full" ? 100 : ocvSoc;
      if (!this.anchoredLast) this.episodes++;
      this.anchor = {
        kind: anchored,
        tMs: s.tMs,
        socPercent: soc,
        cellSocPercent: cellSoc,
        netAh: s.netAh,
        episode: this.episodes,
      };
      this.soc = soc;
      this.method = anchored === "full" ? "coulomb" : "ocv";
      this.calibrated = true;
      this.anchorConfidence = anchored === "full" ? ANCHOR_CONFIDENCE.full : this.restConfidence(soc);
      this.throughputAh = 0;
      this.anchoredLast = true;
      this.lastMs = s.tMs;
      return this.result(s.capacityAh, true);
    }
    this.anchoredLast = false;

    if (this.soc !== null && s.capacityAh === null && !atRest) {
      // Nothing to count against: follow the I·R-corrected voltage, smoothed (it still carries
      // the polarisation), and only once the resistances are known; until then hold.
      const dtS = this.lastMs === null ? 0 : Math.max(0, (s.tMs - this.lastMs) / 1000);
      this.lastMs = s.tMs;
      if (knownAll(s.cellResistanceOhm, s.cells.length)) readOcv();
      if (ocvSoc !== null && knownAll(s.cellResistanceOhm, s.cells.length)) {
        this.soc += (ocvSoc - this.soc) * (1 - Math.exp(-dtS / VOLTAGE_SMOOTHING_S));
        this.method = "voltage";
        this.anchorConfidence = Math.min(this.anchorConfidence, ANCHOR_CONFIDENCE.initialLoad);
      }
      return this.result(s.capacityAh, false);
    }
    this.lastMs = s.tMs;
    if (this.soc === null || s.capacityAh === null) {
      // No anchor, or no capacity at rest: the OCV curve is the best guess there is.
      if (anchored === null) readOcv();
      if (ocvSoc !== null) {
        this.soc = ocvSoc;
        this.method = atRest ? "ocv" : "voltage";
        this.anchorConfidence = atRest ? ANCHOR_CONFIDENCE.initialRest : ANCHOR_CONFIDENCE.initialLoad;
        this.throughputAh = 0;
        if (this.anchor === null)
          this.anchor = {
            kind: "initial",
            tMs: s.tMs,
            socPercent: ocvSoc,
            cellSocPercent: cellSoc,
            netAh: s.netAh,
            episode: 0,
          };
      }
      return this.result(s.capacityAh, false);
    }
    if (s.capacityAh !== null && dAh !== 0) {
      this.soc = clamp(this.soc + (dAh / s.capacityAh) * 100, 0, 100);
      this.method = "coulomb";
    }
    return this.result(s.capacityAh, false);
  }

  snapshot(): SocSnapshot {
    return {
      version: 1,
      socPercent: this.soc,
      method: this.method,
      calibrated: this.calibrated,
      anchorConfidence: this.anchorConfidence,
      throughputAh: this.throughputAh,
      anchor:
        this.anchor === null ? null : { ...this.anchor, cellSocPercent: [...this.anchor.cellSocPercent] },
      lastNetAh: this.lastNetAh,
      episodes: this.episodes,
    };
  }

  private result(capacityAh: number | null, anchoredNow: boolean): SocResult {
    const decay = capacityAh === null ? 1 : Math.max(0.3, 1 - (0.2 * this.throughputAh) / capacityAh);
    return {
      socPercent: this.soc,
      method: this.method,
      calibrated: this.calibrated,
      confidence: Math.round(this.anchorConfidence * decay * 1000) / 1000,
      anchor: this.anchor,
      anchoredNow,
    };
  }

  /** Where the OCV curve is flat, a few mV of error is many % of SOC: trust the anchor less. */
  private restConfidence(socPercent: number): number {
    const { curve } = this.options;
    const lo = Math.max(0, socPercent - 5);
    const hi = Math.min(100, socPercent + 5);
    const slope = (cellVoltageAtSoc(curve, hi) - cellVoltageAtSoc(curve, lo)) / Math.max(1, hi - lo);
    return slope < FLAT_CURVE_V_PER_PERCENT ? 0.6 : ANCHOR_CONFIDENCE.rest;
  }

  private trackActive(tMs: number, current: number | null): void {
    if (current === null || Math.abs(current) <= this.options.restCurrentA) {
      this.run = null;
      return;
    }
    const sign = current > 0 ? 1 : -1;
    if (this.run === null || this.run.sign !== sign || tMs < this.run.sinceMs)
      this.run = { sign, sinceMs: tMs };
    if (tMs - this.run.sinceMs >= SUSTAINED_MS) this.lastActive = sign > 0 ? "charge" : "discharge";
  }

  private trackRest(tMs: number, atRest: boolean, meanV: number | null): void {
    if (!atRest || meanV === null) {
      this.restSinceMs = null;
      this.relax = [];
      return;
    }
    if (this.restSinceMs === null || tMs < this.restSinceMs) {
      this.restSinceMs = tMs;
      this.relax = [];
    }
    this.relax.push({ tMs, meanV });
    // Keep one sample at least a window old, so "a minute ago" is always answerable.
    while (this.relax.length > 2 && tMs - (this.relax[1] as { tMs: number }).tMs >= RELAX_WINDOW_MS)
      this.relax.shift();
  }

  private restedLongEnough(tMs: number): boolean {
    if (this.restSinceMs === null || tMs - this.restSinceMs < this.options.restS * 1000) return false;
    const first = this.relax[0];
    const last = this.relax[this.relax.length - 1];
    if (first === undefined || last === undefined) return false;
    return Math.abs(last.meanV - first.meanV) <= (this.options.relaxedV ?? 0.001);
  }
}

function knownAll(values: readonly (number | null)[] | undefined, n: number): boolean {
  if (values === undefined || values.length < n) return false;
  for (let i = 0; i < n; i++) if (values[i] === null) return false;
  return true;
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function meanOf(cells: readonly (number | null)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const c of cells) {
    if (c === null) continue;
    sum += c;
    n++;
  }
  return n === 0 ? null : sum / n;
}

function maxOf(cells: readonly (number | null)[]): number | null {
  let max: number | null = null;
  for (const c of cells) if (c !== null && (max === null || c > max)) max = c;
  return max;
}
