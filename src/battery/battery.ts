/**
 * BatteryEstimator: one per device. Each BMS reading (with its time) goes in; an immutable
 * BatteryEstimate comes out: SOC (the BMS's own when it reports one, else the estimate),
 * energy and charge counters, cycles, capacity and SOH, runtime, and per-cell health.
 * No I/O and no clocks: time comes with each reading, state goes out through snapshot()
 * as versioned plain JSON and comes back through BatteryEstimator.restore().
 */
import { z } from "zod";
import type { BmsReading } from "../model/reading.js";
import { CapacityLearner, capacitySnapshotSchema, CycleCounter, cycleSnapshotSchema } from "./capacity.js";
import {
  CellHealth,
  cellHealthSnapshotSchema,
  driftingCells,
  highResistanceCells,
  weakestCell,
} from "./cellHealth.js";
import { type OcvCurve, type OcvPoint, ocvCurve } from "./chemistry.js";
import {
  type BatteryConfig,
  type BatteryConfigInput,
  batteryConfigSchema,
  restCurrentAOf,
} from "./config.js";
import { counterSnapshotSchema, EnergyCounter, type EnergyTotals } from "./counters.js";
import { RuntimeEstimator, runtimeSnapshotSchema } from "./runtime.js";
import { type SocMethod, SocEstimator, socSnapshotSchema } from "./soc.js";

export interface BatteryEstimatorOptions {
  /** The device's `battery:` section (raw or parsed); default NMC with the capacity learned. */
  readonly config?: BatteryConfigInput;
  /** The poll interval, ms: gaps longer than a few intervals are not integrated. */
  readonly intervalMs?: number;
  /** Longest gap that is still integrated, s (default 30 or 3 intervals when longer). */
  readonly maxGapS?: number;
}

export type SocSource = "bms" | "estimate";

export interface BatteryEstimate {
  /** Reading time, ms since the epoch (as given). */
  readonly timeMs: number;
  /** The SOC to show, %: the BMS's own when it reports a non-zero one, else the estimate. */
  readonly socPercent: number | null;
  readonly socSource: SocSource | null;
  /** The bridge's own SOC estimate, % (also when the BMS reports one). */
  readonly socEstimatePercent: number | null;
  readonly socMethod: SocMethod | null;
  /** The BMS's SOC as reported, % (null when it sends 0 or none). */
  readonly bmsSocPercent: number | null;
  /** The estimate has been anchored (full charge or rest) at least once. */
  readonly calibrated: boolean;
  /** 0..1 */
  readonly socConfidence: number;
  /** Counted by the bridge from packCurrent × packVoltage; never decrease. */
  readonly whCharged: number;
  readonly whDischarged: number;
  readonly ahCharged: number;
  readonly ahDischarged: number;
  /** The BMS's own lifetime totals when it reports any non-zero one, else null. */
  readonly bmsTotals: EnergyTotals | null;
  /** Equivalent full cycles counted by the bridge. */
  readonly cycles: number;
  /** Capacity the SOC counts against, Ah: learned, else configured, else null. */
  readonly capacityAh: number | null;
  readonly capacityLearnedAh: number | null;
  /** Learned ÷ configured capacity, %. */
  readonly sohPercent: number | null;
  readonly charging: boolean;
  readonly discharging: boolean;
  readonly smoothedCurrentA: number | null;
  readonly timeToFullS: number | null;
  readonly timeToEmptyS: number | null;
  /** Per cell (index 0 = cell 1): resistance Ω, learned capacity Ah, deviation V, trend V/day. */
  readonly cellResistanceOhm: readonly (number | null)[];
  readonly cellCapacityAh: readonly (number | null)[];
  readonly cellDriftV: readonly (number | null)[];
  readonly cellDriftRateVPerDay: readonly (number | null)[];
  /** 1-based number of the cell with the worst resistance/capacity evidence; null = none stands out. */
  readonly weakestCell: number | null;
  /** 1-based cell numbers. */
  readonly alerts: {
    readonly driftingCells: readonly number[];
    readonly highResistanceCells: readonly number[];
  };
}

export const batterySnapshotSchema = z.strictObject({
  version: z.literal(1),
  counters: counterSnapshotSchema,
  soc: socSnapshotSchema,
  capacity: capacitySnapshotSchema,
  cycles: cycleSnapshotSchema,
  cellHealth: cellHealthSnapshotSchema,
  runtime: runtimeSnapshotSchema,
});
export type BatterySnapshot = z.output<typeof batterySnapshotSchema>;
/** What snapshot() returns (plain JSON; its cell health in the packed version 2). */
export type StoredBatterySnapshot = z.input<typeof batterySnapshotSchema>;

export class BatterySnapshotError extends Error {
  override readonly name = "BatterySnapshotError";
}

/** What a restore cannot do without: the lifetime counters (losing them means counting from zero). */
const snapshotCoreSchema = z.object({ version: z.literal(1), counters: counterSnapshotSchema });
/** Sections that start anew on their own when damaged or of a version this build does not know. */
const optionalSections = {
  soc: socSnapshotSchema,
  capacity: capacitySnapshotSchema,
  cycles: cycleSnapshotSchema,
  cellHealth: cellHealthSnapshotSchema,
  runtime: runtimeSnapshotSchema,
} as const;

function issueText(issue: z.core.$ZodIssue | undefined, under?: string): string {
  const where = [...(under === undefined ? [] : [under]), ...(issue?.path ?? [])].join(".") || "snapshot";
  return `${where}: ${issue?.message ?? "invalid"}`;
}

function snapshotError(issue: z.core.$ZodIssue | undefined): BatterySnapshotError {
  return new BatterySnapshotError(`battery state not restored: ${issueText(issue)}`);
}

export class BatteryEstimator {
  readonly config: BatteryConfig;
  readonly curve: OcvCurve;
  readonly restCurrentA: number;
  private readonly counter: EnergyCounter;
  private readonly soc: SocEstimator;
  private readonly capacity: CapacityLearner;
  private readonly cycles: CycleCounter;
  private readonly health: CellHealth;
  private readonly runtime: RuntimeEstimator;
  private lastDischargedAh: number;
  private verdicts: CellVerdicts | undefined;

  constructor(options: BatteryEstimatorOptions = {}, snapshot?: Partial<BatterySnapshot>) {
    this.config = batteryConfigSchema.parse(options.config ?? {});
    const c = this.config;
    this.curve = ocvCurve(c.chemistry, c.ocv as readonly OcvPoint[] | undefined);
    this.restCurrentA = restCurrentAOf(c);
    this.counter = new EnergyCounter(
      {
        ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
        ...(options.maxGapS === undefined ? {} : { maxGapS: options.maxGapS }),
      },
      snapshot?.counters,
    );
    this.soc = new SocEstimator(
      { curve: this.curve, restCurrentA: this.restCurrentA, restS: c.restMinutes * 60 },
      snapshot?.soc,
    );
    this.capacity = new CapacityLearner(
      c.capacityAh === undefined ? {} : { ratedAh: c.capacityAh },
      snapshot?.capacity,
    );
    this.cycles = new CycleCounter(snapshot?.cycles);
    this.health = new CellHealth({ restCurrentA: this.restCurrentA }, snapshot?.cellHealth);
    this.runtime = new RuntimeEstimator({ onCurrentA: this.restCurrentA }, snapshot?.runtime);
    this.lastDischargedAh = this.counter.value.ahDischarged;
  }

  /**
   * Rebuilds an estimator from snapshot() output (e.g. read back from storage). Bad version or
   * counters → BatterySnapshotError; any other damaged (or unknown) section starts anew and is
   * told to `onDropped`, so one bad section never costs the lifetime energy totals.
   */
  static restore(
    options: BatteryEstimatorOptions,
    snapshot: unknown,
    onDropped?: (message: string) => void,
  ): BatteryEstimator {
    const parsed = batterySnapshotSchema.safeParse(snapshot);
    if (parsed.success) return new BatteryEstimator(options, parsed.data);
    const core = snapshotCoreSchema.safeParse(snapshot);
    if (!core.success) throw snapshotError(core.error.issues[0]);
    const raw = snapshot as Record<string, unknown>;
    const kept: Partial<BatterySnapshot> = { ...core.data };
    const dropped: string[] = [];
    for (const [name, schema] of Object.entries(optionalSections)) {
      const section = schema.safeParse(raw[name]);
      if (section.success) Object.assign(kept, { [name]: section.data });
      else dropped.push(issueText(section.error.issues[0], name));
    }
    for (const name of Object.keys(raw))
      if (name !== "version" && name !== "counters" && !(name in optionalSections))
        dropped.push(`${name}: unknown section`);
    onDropped?.(
      `battery state partly restored: ${dropped.join("; ")}; ${dropped.length === 1 ? "that section starts" : "those sections start"} anew`,
    );
    return new BatteryEstimator(options, kept);
  }

  update(tMs: number, bms: BmsReading): BatteryEstimate {
    const current = bms.packCurrent;
    const totals = this.counter.add(tMs, bms.packVoltage, current);
    const cellCount = bms.cells.length;

    const capacityBefore = this.capacity.capacityAh();
    this.cycles.add(totals.ahDischarged - this.lastDischargedAh, capacityBefore);
    this.lastDischargedAh = totals.ahDischarged;

    this.health.update(tMs, current, bms.cells);
    const resistance = this.health.resistanceOhm(cellCount);
    const soc = this.soc.update({
      tMs,
      currentA: current,
      cells: bms.cells,
      netAh: totals.ahCharged - totals.ahDischarged,
      gap: this.counter.lastWasGap,
      capacityAh: capacityBefore,
      cellResistanceOhm: resistance,
    });
    if (soc.anchoredNow && soc.anchor) this.capacity.observe(soc.anchor);
    const capacityAh = this.capacity.capacityAh();

    const bmsSoc = bms.soc !== undefined && bms.soc !== null && bms.soc > 0 ? bms.soc : null;
    const socPercent = bmsSoc ?? soc.socPercent;
    const run = this.runtime.update(tMs, current, socPercent, capacityAh);
    const cellCapacity = this.capacity.cellCapacityAh(cellCount);
    const drift = this.health.driftV(cellCount);
    const rate = this.health.driftRateVPerDay(cellCount);
    const cells = this.cellVerdicts(resistance, cellCapacity, drift, rate, cellCount);

    return Object.freeze({
      timeMs: tMs,
      socPercent,
      socSource: bmsSoc !== null ? "bms" : soc.socPercent !== null ? "estimate" : null,
      socEstimatePercent: soc.socPercent,
      socMethod: soc.method,
      bmsSocPercent: bmsSoc,
      calibrated: soc.calibrated,
      socConfidence: soc.confidence,
      whCharged: totals.whCharged,
      whDischarged: totals.whDischarged,
      ahCharged: totals.ahCharged,
      ahDischarged: totals.ahDischarged,
      bmsTotals: bmsTotals(bms),
      cycles: this.cycles.value,
      capacityAh,
      capacityLearnedAh: this.capacity.learnedAh(),
      sohPercent: this.capacity.sohPercent(),
      charging: run.charging,
      discharging: run.discharging,
      smoothedCurrentA: run.smoothedCurrentA,
      timeToFullS: run.timeToFullS,
      timeToEmptyS: run.timeToEmptyS,
      cellResistanceOhm: resistance,
      cellCapacityAh: cellCapacity,
      cellDriftV: drift,
      cellDriftRateVPerDay: rate,
      weakestCell: cells.weakestCell,
      alerts: cells.alerts,
    } satisfies BatteryEstimate);
  }

  /**
   * The weakest cell and the cell alerts. Their inputs are the per-cell lists, which stay
   * the same (frozen) objects until a new sample changes them: recomputed only then.
   */
  private cellVerdicts(
    resistance: readonly (number | null)[],
    capacity: readonly (number | null)[],
    drift: readonly (number | null)[],
    rate: readonly (number | null)[],
    cellCount: number,
  ): CellVerdicts {
    const baseline = this.health.baselineOhm(cellCount);
    const v = this.verdicts;
    if (
      v !== undefined &&
      v.resistance === resistance &&
      v.capacity === capacity &&
      v.drift === drift &&
      v.rate === rate &&
      v.baseline === baseline
    )
      return v;
    const next: CellVerdicts = {
      resistance,
      capacity,
      drift,
      rate,
      baseline,
      weakestCell: weakestCell(resistance, capacity)?.cell ?? null,
      alerts: Object.freeze({
        driftingCells: Object.freeze(driftingCells(drift, rate)),
        highResistanceCells: Object.freeze(highResistanceCells(resistance, baseline)),
      }),
    };
    this.verdicts = next;
    return next;
  }

  snapshot(): StoredBatterySnapshot {
    return {
      version: 1,
      counters: this.counter.snapshot(),
      soc: this.soc.snapshot(),
      capacity: this.capacity.snapshot(),
      cycles: this.cycles.snapshot(),
      cellHealth: this.health.snapshot(),
      runtime: this.runtime.snapshot(),
    };
  }
}

const positive = (x: number | null | undefined): boolean => typeof x === "number" && x > 0;
const orZero = (x: number | null | undefined): number => (typeof x === "number" ? x : 0);

function bmsTotals(bms: BmsReading): EnergyTotals | null {
  if (
    !positive(bms.wattHoursChargedTotal) &&
    !positive(bms.wattHoursDischargedTotal) &&
    !positive(bms.ampHoursChargedTotal) &&
    !positive(bms.ampHoursDischargedTotal)
  )
    return null;
  return Object.freeze({
    whCharged: orZero(bms.wattHoursChargedTotal),
    whDischarged: orZero(bms.wattHoursDischargedTotal),
    ahCharged: orZero(bms.ampHoursChargedTotal),
    ahDischarged: orZero(bms.ampHoursDischargedTotal),
  });
}

/** The cell verdicts and the per-cell lists they were computed from. */
interface CellVerdicts {
  readonly resistance: readonly (number | null)[];
  readonly capacity: readonly (number | null)[];
  readonly drift: readonly (number | null)[];
  readonly rate: readonly (number | null)[];
  readonly baseline: readonly (number | null)[];
  readonly weakestCell: number | null;
  readonly alerts: BatteryEstimate["alerts"];
}
