/**
 * Battery benchmark: the accuracy of the battery estimates (src/battery) against the
 * simulator's ground truth (bench/batteryAccuracy.ts: charge → rest → ride → rest, 20S with
 * one weak cell, the BMS reporting SOC/totals/i_in 0 like the real Express 6.05), at 1 s
 * polls and at the default 5 s, and once with no capacity configured. The reference of
 * every row is the truth in the same run; goals are the project's accuracy goals.
 * Flags: --seed N (default 20261201).
 */
import { type BatteryAccuracy, type Compared, runBatteryAccuracy } from "./batteryAccuracy.js";
import { type Benchmark, type BenchResult, type BenchRow, fmt } from "./report.js";

/** Seeds of the 5 s spread rows (each run is ~0.5 s). */
const SPREAD_SEEDS = 12;

function numFlag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : Number.NaN;
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

function energyRow(metric: string, unit: string, c: Compared, goalPercent: number | null): BenchRow {
  return {
    metric,
    unit,
    ours: c.estimate,
    reference: c.truth,
    ratio: c.estimate / c.truth,
    goal:
      goalPercent === null
        ? `(sampling; ${fmt(c.errorPercent)} % off)`
        : `within ${goalPercent} % (${fmt(c.errorPercent)} % off)`,
    ...(goalPercent === null ? {} : { met: c.errorPercent <= goalPercent }),
  };
}

function rows(tag: string, r: BatteryAccuracy, energyGoal: boolean): BenchRow[] {
  return [
    {
      metric: `${tag} SOC max error after first anchor`,
      unit: "points",
      ours: r.socMaxErrorPoints,
      goal: "≤ 3",
      met: r.firstAnchor !== null && r.socMaxErrorPoints <= 3,
    },
    energyRow(`${tag} Wh charged`, "Wh", r.whCharged, energyGoal ? 1 : null),
    energyRow(`${tag} Wh discharged`, "Wh", r.whDischarged, energyGoal ? 1 : null),
    energyRow(`${tag} Ah charged`, "Ah", r.ahCharged, energyGoal ? 1 : null),
    energyRow(`${tag} Ah discharged`, "Ah", r.ahDischarged, energyGoal ? 1 : null),
    {
      metric: `${tag} cell resistance, worst cell error`,
      unit: "%",
      ours: r.resistanceMaxErrorPercent,
      goal: "≤ 10 % on every cell",
      met: r.cellsWithResistance === r.resistanceErrorPercent.length && r.resistanceMaxErrorPercent <= 10,
    },
    {
      metric: `${tag} weakest cell`,
      unit: "",
      ours: r.weakestCell.estimate ?? Number.NaN,
      reference: r.weakestCell.truth,
      goal: "same cell",
      met: r.weakestCell.estimate === r.weakestCell.truth,
    },
  ];
}

export async function runBatteryBench(args: readonly string[] = []): Promise<BenchResult> {
  const seed = numFlag(args, "seed", 20261201);
  const fast = runBatteryAccuracy({ seed, intervalS: 1 });
  const slow = runBatteryAccuracy({ seed, intervalS: 5 });
  const learn = runBatteryAccuracy({ seed, intervalS: 5, configuredCapacityAh: null });
  const spread = Array.from({ length: SPREAD_SEEDS }, (_, k) =>
    runBatteryAccuracy({ seed: 100 + k, intervalS: 5 }),
  );
  const worst = (f: (r: BatteryAccuracy) => number) => Math.max(...spread.map(f));
  const worstEnergy = worst((r) =>
    Math.max(
      r.whCharged.errorPercent,
      r.whDischarged.errorPercent,
      r.ahCharged.errorPercent,
      r.ahDischarged.errorPercent,
    ),
  );
  const found = spread.filter((r) => r.weakestCell.estimate === r.weakestCell.truth).length;
  const capacityRow = (tag: string, r: BatteryAccuracy): BenchRow => ({
    metric: `${tag} capacity learned over the ride`,
    unit: "Ah",
    ours: r.capacity?.estimate ?? Number.NaN,
    reference: r.capacity?.truth ?? Number.NaN,
    ...(r.capacity ? { ratio: r.capacity.estimate / r.capacity.truth } : {}),
    goal: "(information)",
  });
  const details = [
    "",
    `Per-cell resistance error at 1 s polls (cell ${fast.weakestCell.truth} is the weak one):`,
    "",
    "| cell | error % |",
    "|---|---|",
    ...fast.resistanceErrorPercent.map((e, i) => `| ${i + 1} | ${fmt(e)} |`),
  ];
  return {
    name: "battery",
    title: "battery estimates vs the simulator's ground truth (charge → rest → ride → rest)",
    reference: "the simulated pack's true SOC, energy, per-cell R0 and weakest cell in the same run",
    rows: [
      ...rows("1 s:", fast, true),
      capacityRow("1 s:", fast),
      ...rows("5 s:", slow, false),
      capacityRow("5 s:", slow),
      {
        metric: "5 s, no capacity configured: SOC max error (first ride follows the voltage)",
        unit: "points",
        ours: learn.socMaxErrorPoints,
        goal: "(information)",
      },
      capacityRow("5 s, no capacity configured:", learn),
      {
        metric: `5 s, seeds 100–${99 + SPREAD_SEEDS}: worst SOC error after first anchor`,
        unit: "points",
        ours: worst((r) => r.socMaxErrorPoints),
        goal: "(information: follows the energy sampling error)",
      },
      {
        metric: `5 s, seeds 100–${99 + SPREAD_SEEDS}: worst energy counter error`,
        unit: "%",
        ours: worstEnergy,
        goal: "(information: sampling, either sign)",
      },
      {
        metric: `5 s, seeds 100–${99 + SPREAD_SEEDS}: worst cell resistance error`,
        unit: "%",
        ours: worst((r) => r.resistanceMaxErrorPercent),
        goal: "≤ 10 %",
        met: worst((r) => r.resistanceMaxErrorPercent) <= 10,
      },
      {
        metric: `5 s, seeds 100–${99 + SPREAD_SEEDS}: weakest cell found`,
        unit: "runs",
        ours: found,
        reference: SPREAD_SEEDS,
        goal: "every run",
        met: found === SPREAD_SEEDS,
      },
    ],
    notes: [
      `seed ${seed}; 20S, 12 Ah nominal (cells ±2 %, one at 0.85 × capacity and 1.6 × resistance), NMC; ${fast.readings} readings over ${fmt(fast.simulatedS / 3600)} h simulated`,
      `first anchor (end of charge) at ${fmt((fast.firstAnchor?.atS ?? Number.NaN) / 60)} min; the ride ends at 35 % true SOC, then 30 min rest re-anchor from OCV`,
      "readings go through the Express 6.05 reply bytes (SOC, totals, i_in 0; i_in_ic measured), the decoder and toBmsReading",
      "at 5 s polls the ride's 2–25 s current steps fall between readings: the counted energy carries a sampling error of either sign (see the seed-spread rows), and the SOC between anchors with it; the energy rows there have no goal",
    ],
    details,
  };
}

export const batteryBench: Benchmark = { name: "battery", run: runBatteryBench };
