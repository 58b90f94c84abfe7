/**
 * The battery estimates against the simulator's ground truth: a PackModel (20S, one weak
 * cell) runs charge → rest → ride → rest at accelerated time, each reading goes through the
 * firmware's reply bytes (express-6.05 profile: SOC, totals and i_in 0), the project's
 * decoder and toBmsReading into a BatteryEstimator, and the estimate is compared with the
 * truth at the same instant. In-process, no sockets: this measures accuracy, not speed.
 */
import { BatteryEstimator } from "../src/battery/index.js";
import { toBmsReading } from "../src/model/bmsReading.js";
import { decodeBmsValues } from "../src/protocol/index.js";
import { expressBmsReply } from "../src/sim/firmware/express.js";
import { type PackProfile, PackModel, type PackStep } from "../src/sim/model/pack.js";

export interface BatteryAccuracyOptions {
  readonly seed?: number;
  /** Poll interval, s (default 1). */
  readonly intervalS?: number;
  /** The capacity the user configured, Ah (default 12 = the nominal; undefined = learn). */
  readonly configuredCapacityAh?: number | null;
  readonly profile?: PackProfile;
  readonly restS?: number;
}

export interface Compared {
  readonly estimate: number;
  readonly truth: number;
  /** |estimate − truth| ÷ truth, %. */
  readonly errorPercent: number;
}

export interface BatteryAccuracy {
  readonly simulatedS: number;
  readonly readings: number;
  readonly firstAnchor: { readonly atS: number; readonly kind: string } | null;
  /** Largest |estimate − truth| of the SOC after the first anchor, percentage points. */
  readonly socMaxErrorPoints: number;
  readonly socEndErrorPoints: number;
  readonly socSource: string | null;
  readonly whCharged: Compared;
  readonly whDischarged: Compared;
  readonly ahCharged: Compared;
  readonly ahDischarged: Compared;
  /** Per cell, %; and the worst. */
  readonly resistanceErrorPercent: readonly number[];
  readonly resistanceMaxErrorPercent: number;
  readonly cellsWithResistance: number;
  readonly weakestCell: { readonly estimate: number | null; readonly truth: number };
  /** The capacity learned over the ride vs the pack's effective capacity (1 ÷ mean(1 ÷ cell capacity)). */
  readonly capacity: Compared | null;
  readonly cycles: number;
}

const compare = (estimate: number, truth: number): Compared => ({
  estimate,
  truth,
  errorPercent:
    truth === 0
      ? estimate === 0
        ? 0
        : Number.POSITIVE_INFINITY
      : (Math.abs(estimate - truth) / truth) * 100,
});

/** The cycle of the acceptance test: charge from 30 %, rest, ride down to 35 %, rest. */
export function accuracyProgram(restS: number): PackStep[] {
  return [
    { kind: "charge" },
    { kind: "rest", seconds: restS },
    { kind: "ride", untilSocPercent: 35 },
    { kind: "rest", seconds: restS },
  ];
}

export function runBatteryAccuracy(o: BatteryAccuracyOptions = {}): BatteryAccuracy {
  const intervalMs = (o.intervalS ?? 1) * 1000;
  const pack = new PackModel({ seed: o.seed ?? 20261201, startSoc: 0.3 });
  pack.run(accuracyProgram(o.restS ?? 1800));
  const capacityAh = o.configuredCapacityAh === undefined ? 12 : o.configuredCapacityAh;
  const estimator = new BatteryEstimator({
    config: { chemistry: "nmc", ...(capacityAh === null ? {} : { capacityAh }) },
    intervalMs,
  });
  const fw = { major: 6, minor: 5 };
  let t = 0;
  let readings = 0;
  let firstAnchor: BatteryAccuracy["firstAnchor"] = null;
  let socMax = 0;
  let last = null as ReturnType<BatteryEstimator["update"]> | null;
  const limitMs = 12 * 3600_000;
  for (; t <= limitMs; t += intervalMs) {
    const reply = expressBmsReply(pack.record(t, o.profile ?? "express-6.05"), fw);
    const est = estimator.update(t, toBmsReading(decodeBmsValues(reply)));
    readings++;
    last = est;
    const truth = pack.truth();
    if (est.calibrated && firstAnchor === null) firstAnchor = { atS: t / 1000, kind: est.socMethod ?? "" };
    if (firstAnchor !== null && est.socEstimatePercent !== null)
      socMax = Math.max(socMax, Math.abs(est.socEstimatePercent - truth.socPercent));
    if (pack.done) break;
  }
  if (last === null) throw new Error("no reading");
  const truth = pack.truth();
  const rErr = truth.cellResistanceOhm.map((r, i) => {
    const e = last?.cellResistanceOhm[i] ?? null;
    return e === null ? Number.POSITIVE_INFINITY : (Math.abs(e - r) / r) * 100;
  });
  const effective = 1 / (truth.cellCapacityAh.reduce((a, c) => a + 1 / c, 0) / truth.cellCapacityAh.length);
  return {
    simulatedS: t / 1000,
    readings,
    firstAnchor,
    socMaxErrorPoints: socMax,
    socEndErrorPoints: Math.abs((last.socEstimatePercent ?? Number.NaN) - truth.socPercent),
    socSource: last.socSource,
    whCharged: compare(last.whCharged, truth.whCharged),
    whDischarged: compare(last.whDischarged, truth.whDischarged),
    ahCharged: compare(last.ahCharged, truth.ahCharged),
    ahDischarged: compare(last.ahDischarged, truth.ahDischarged),
    resistanceErrorPercent: rErr,
    resistanceMaxErrorPercent: Math.max(...rErr),
    cellsWithResistance: last.cellResistanceOhm.filter((r) => r !== null).length,
    weakestCell: { estimate: last.weakestCell, truth: truth.weakestCell },
    capacity: last.capacityLearnedAh === null ? null : compare(last.capacityLearnedAh, effective),
    cycles: last.cycles,
  };
}
