/**
 * Capacity (and so state of health) learned from the charge counted between two SOC
 * anchors far enough apart (ΔSOC ≥ 40 % by default): capacity = ΔAh ÷ ΔSOC, for the pack
 * and, from each cell's own OCV SOC at the two anchors, for every cell. Also the
 * equivalent full cycles: discharged Ah ÷ capacity, added up as it is discharged.
 */
import { z } from "zod";
import type { SocAnchor } from "./soc.js";

export interface CapacityOptions {
  /** Rated capacity from the configuration, Ah (the SOH reference). */
  readonly ratedAh?: number;
  /** Smallest SOC swing between anchors that teaches the capacity, % (default 40). */
  readonly minDeltaSocPercent?: number;
  /** Samples kept; the learned value is their ΔSOC-weighted mean (default 8). */
  readonly maxSamples?: number;
}

const anchorMark = z.strictObject({
  episode: z.number().int().min(0),
  socPercent: z.number().finite(),
  cellSocPercent: z.array(z.number().finite().nullable()),
  netAh: z.number().finite(),
});
type AnchorMark = z.output<typeof anchorMark>;

const sampleSchema = z.strictObject({
  capacityAh: z.number().finite().positive(),
  deltaSocPercent: z.number().finite().positive(),
  cellCapacityAh: z.array(z.number().finite().positive().nullable()),
});
export type CapacitySample = z.output<typeof sampleSchema>;

export const capacitySnapshotSchema = z.strictObject({
  version: z.literal(1),
  reference: anchorMark.nullable(),
  open: anchorMark.nullable(),
  samples: z.array(sampleSchema),
});
export type CapacitySnapshot = z.output<typeof capacitySnapshotSchema>;

/** A learned capacity further than this factor from the rated one is a counting fault, not ageing. */
const PLAUSIBLE_FACTOR = 3;

export class CapacityLearner {
  private reference: AnchorMark | null = null;
  private open: AnchorMark | null = null;
  private samples: CapacitySample[] = [];
  private readonly minDelta: number;
  private readonly maxSamples: number;
  /** withOpen() and cellCapacityAh() change only in observe(): asked several times per reading. */
  private cachedAll: CapacitySample[] | undefined;
  private cachedCells: { cellCount: number; values: readonly (number | null)[] } | undefined;

  constructor(
    private readonly options: CapacityOptions = {},
    snapshot?: CapacitySnapshot,
  ) {
    this.minDelta = options.minDeltaSocPercent ?? 40;
    this.maxSamples = options.maxSamples ?? 8;
    if (snapshot) {
      this.reference = snapshot.reference;
      this.open = snapshot.open;
      this.samples = snapshot.samples.slice(-this.maxSamples);
    }
  }

  /** Feeds every anchored SOC sample; an anchor episode's last sample is the one that counts. */
  observe(anchor: SocAnchor): void {
    if (anchor.kind === "initial") return;
    const mark: AnchorMark = {
      episode: anchor.episode,
      socPercent: anchor.socPercent,
      cellSocPercent: [...anchor.cellSocPercent],
      netAh: anchor.netAh,
    };
    this.cachedAll = undefined;
    this.cachedCells = undefined;
    if (this.open !== null && this.open.episode !== mark.episode) {
      const done = this.sampleBetween(this.reference, this.open);
      if (done) this.samples = [...this.samples, done].slice(-this.maxSamples);
      this.reference = this.open;
    }
    this.open = mark;
  }

  /** The learned capacity, Ah, including the still-open anchor's span; null before any. */
  learnedAh(): number | null {
    const all = this.withOpen();
    if (all.length === 0) return null;
    let w = 0;
    let sum = 0;
    for (const s of all) {
      w += s.deltaSocPercent;
      sum += s.capacityAh * s.deltaSocPercent;
    }
    return sum / w;
  }

  /** What SOC counting uses: learned when there is a sample, else rated, else null. */
  capacityAh(): number | null {
    return this.learnedAh() ?? this.options.ratedAh ?? null;
  }

  /** Learned ÷ rated, %; null without both. */
  sohPercent(): number | null {
    const learned = this.learnedAh();
    const rated = this.options.ratedAh;
    return learned === null || rated === undefined ? null : (learned / rated) * 100;
  }

  /** Per-cell capacity, Ah (ΔSOC-weighted over the samples); null for a cell without evidence. Frozen. */
  cellCapacityAh(cellCount: number): readonly (number | null)[] {
    const c = this.cachedCells;
    if (c !== undefined && c.cellCount === cellCount) return c.values;
    const values = Object.freeze(this.computeCellCapacity(cellCount));
    this.cachedCells = { cellCount, values };
    return values;
  }

  private computeCellCapacity(cellCount: number): (number | null)[] {
    const all = this.withOpen();
    const out: (number | null)[] = [];
    for (let i = 0; i < cellCount; i++) {
      let w = 0;
      let sum = 0;
      for (const s of all) {
        const c = s.cellCapacityAh[i];
        if (c === null || c === undefined) continue;
        w += s.deltaSocPercent;
        sum += c * s.deltaSocPercent;
      }
      out.push(w === 0 ? null : sum / w);
    }
    return out;
  }

  snapshot(): CapacitySnapshot {
    return {
      version: 1,
      reference: this.reference,
      open: this.open,
      samples: this.samples.map((s) => ({ ...s })),
    };
  }

  private withOpen(): CapacitySample[] {
    if (this.cachedAll !== undefined) return this.cachedAll;
    const provisional = this.sampleBetween(this.reference, this.open);
    this.cachedAll = provisional ? [...this.samples, provisional].slice(-this.maxSamples) : this.samples;
    return this.cachedAll;
  }

  private sampleBetween(a: AnchorMark | null, b: AnchorMark | null): CapacitySample | null {
    if (a === null || b === null) return null;
    const dSoc = b.socPercent - a.socPercent;
    const dAh = b.netAh - a.netAh;
    if (Math.abs(dSoc) < this.minDelta || dAh === 0 || Math.sign(dAh) !== Math.sign(dSoc)) return null;
    const capacityAh = dAh / (dSoc / 100);
    const rated = this.options.ratedAh;
    if (
      rated !== undefined &&
      (capacityAh > rated * PLAUSIBLE_FACTOR || capacityAh < rated / PLAUSIBLE_FACTOR)
    )
      return null;
    const cellCapacityAh = b.cellSocPercent.map((s, i) => {
      const s0 = a.cellSocPercent[i];
      if (s === null || s0 === null || s0 === undefined) return null;
      const d = s - s0;
      if (Math.abs(d) < this.minDelta / 2 || Math.sign(d) !== Math.sign(dAh)) return null;
      return dAh / (d / 100);
    });
    return { capacityAh, deltaSocPercent: Math.abs(dSoc), cellCapacityAh };
  }
}

export const cycleSnapshotSchema = z.strictObject({
  version: z.literal(1),
  cycles: z.number().finite().min(0),
  /** Discharged Ah seen before any capacity was known; counted once one is. */
  pendingAh: z.number().finite().min(0),
});
export type CycleSnapshot = z.output<typeof cycleSnapshotSchema>;

/** Equivalent full cycles: each discharged Ah adds 1 ÷ capacity; never decreases. */
export class CycleCounter {
  private cycles: number;
  private pendingAh: number;

  constructor(snapshot?: CycleSnapshot) {
    this.cycles = snapshot?.cycles ?? 0;
    this.pendingAh = snapshot?.pendingAh ?? 0;
  }

  add(dischargedAh: number, capacityAh: number | null): number {
    const d = Math.max(0, dischargedAh);
    if (capacityAh === null || !(capacityAh > 0)) {
      this.pendingAh += d;
      return this.cycles;
    }
    this.cycles += (d + this.pendingAh) / capacityAh;
    this.pendingAh = 0;
    return this.cycles;
  }

  get value(): number {
    return this.cycles;
  }

  snapshot(): CycleSnapshot {
    return { version: 1, cycles: this.cycles, pendingAh: this.pendingAh };
  }
}
