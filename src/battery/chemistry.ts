/**
 * Open-circuit voltage (OCV) curves per cell chemistry and the per-cell OCV ↔ SOC lookups.
 * A curve is a table of (SOC %, volts) points, strictly increasing in both, interpolated
 * linearly; below the first and above the last point the SOC is clamped to 0 / 100.
 */

export type Chemistry = "nmc" | "lfp" | "lto" | "custom";
export const CHEMISTRIES: readonly Chemistry[] = ["nmc", "lfp", "lto", "custom"];

/** One point of an OCV table: [state of charge %, cell volts at rest]. */
export type OcvPoint = readonly [socPercent: number, volts: number];

export interface OcvCurve {
  readonly chemistry: Chemistry;
  readonly points: readonly OcvPoint[];
  /** The cell voltage at 0 % and 100 %, V. */
  readonly emptyCellV: number;
  readonly fullCellV: number;
  /**
   * A charging cell at or above this voltage with the current tapered off means "full"
   * (the OCV of 97 %: under the small taper current a cell sits a little above its OCV).
   */
  readonly endOfChargeCellV: number;
}

export class OcvCurveError extends Error {
  override readonly name = "OcvCurveError";
}

/** Typical datasheet curves at room temperature, 0.05 C rest. */
const TABLES: Readonly<Record<Exclude<Chemistry, "custom">, readonly OcvPoint[]>> = {
  nmc: [
    [0, 3.0],
    [5, 3.3],
    [10, 3.45],
    [20, 3.58],
    [30, 3.66],
    [40, 3.72],
    [50, 3.78],
    [60, 3.85],
    [70, 3.93],
    [80, 4.01],
    [90, 4.09],
    [100, 4.2],
  ],
  // LFP's long flat plateau (3.26–3.34 V over 20–80 %) is why its OCV anchor is weak mid-range.
  lfp: [
    [0, 2.5],
    [5, 3.0],
    [10, 3.2],
    [20, 3.25],
    [30, 3.28],
    [40, 3.3],
    [50, 3.31],
    [60, 3.32],
    [70, 3.33],
    [80, 3.34],
    [90, 3.36],
    [95, 3.4],
    [100, 3.6],
  ],
  lto: [
    [0, 1.8],
    [5, 2.0],
    [10, 2.1],
    [20, 2.2],
    [30, 2.25],
    [40, 2.3],
    [50, 2.35],
    [60, 2.4],
    [70, 2.45],
    [80, 2.5],
    [90, 2.6],
    [100, 2.8],
  ],
};

/** The SOC the end-of-charge voltage is taken at, %. */
const END_OF_CHARGE_SOC = 97;

/**
 * The curve for a chemistry. `custom` needs `points`; for the others `points`, when given,
 * replace the built-in table (a user's measured curve for the same chemistry).
 */
export function ocvCurve(chemistry: Chemistry = "nmc", points?: readonly OcvPoint[]): OcvCurve {
  if (points === undefined && chemistry !== "custom") {
    // A built-in curve is the same for every pack: one frozen copy, not one per device.
    let shared = BUILT_IN.get(chemistry);
    if (shared === undefined) {
      shared = deepFrozen(buildCurve(chemistry, TABLES[chemistry]));
      BUILT_IN.set(chemistry, shared);
    }
    return shared;
  }
  return buildCurve(chemistry, points);
}

const BUILT_IN = new Map<Chemistry, OcvCurve>();

function deepFrozen(c: OcvCurve): OcvCurve {
  for (const p of c.points) Object.freeze(p);
  Object.freeze(c.points);
  return Object.freeze(c);
}

function buildCurve(chemistry: Chemistry, points: readonly OcvPoint[] | undefined): OcvCurve {
  const table = points ?? (chemistry === "custom" ? undefined : TABLES[chemistry]);
  if (table === undefined)
    throw new OcvCurveError("chemistry custom needs an ocv table of [soc %, volts] points");
  const checked = checkPoints(table);
  const first = checked[0] as OcvPoint;
  const last = checked[checked.length - 1] as OcvPoint;
  const partial: OcvCurve = {
    chemistry,
    points: checked,
    emptyCellV: first[1],
    fullCellV: last[1],
    endOfChargeCellV: last[1],
  };
  return { ...partial, endOfChargeCellV: cellVoltageAtSoc(partial, END_OF_CHARGE_SOC) };
}

/** Throws OcvCurveError unless the table has ≥ 2 points, SOC 0–100, both columns strictly rising. */
export function checkPoints(points: readonly OcvPoint[]): readonly OcvPoint[] {
  if (points.length < 2) throw new OcvCurveError("an ocv table needs at least 2 points");
  for (let i = 0; i < points.length; i++) {
    const [soc, v] = points[i] as OcvPoint;
    if (!Number.isFinite(soc) || soc < 0 || soc > 100)
      throw new OcvCurveError(`ocv point ${i + 1}: soc ${soc} is not within 0–100 %`);
    if (!Number.isFinite(v) || v <= 0 || v > 10)
      throw new OcvCurveError(`ocv point ${i + 1}: ${v} V is not a cell voltage`);
    if (i > 0) {
      const [ps, pv] = points[i - 1] as OcvPoint;
      if (soc <= ps) throw new OcvCurveError(`ocv point ${i + 1}: soc must rise (${ps} then ${soc})`);
      if (v <= pv) throw new OcvCurveError(`ocv point ${i + 1}: volts must rise (${pv} then ${v})`);
    }
  }
  return points.map(([s, v]) => [s, v] as const);
}

/** State of charge, %, of one cell at rest from its voltage; clamped to the table's ends. */
export function socFromCellVoltage(curve: OcvCurve, volts: number): number {
  const p = curve.points;
  const first = p[0] as OcvPoint;
  if (volts <= first[1]) return first[0];
  for (let i = 1; i < p.length; i++) {
    const [s1, v1] = p[i] as OcvPoint;
    if (volts <= v1) {
      const [s0, v0] = p[i - 1] as OcvPoint;
      return s0 + ((s1 - s0) * (volts - v0)) / (v1 - v0);
    }
  }
  return (p[p.length - 1] as OcvPoint)[0];
}

/** The rest voltage of one cell at a state of charge, %; clamped to the table's ends. */
export function cellVoltageAtSoc(curve: OcvCurve, socPercent: number): number {
  const p = curve.points;
  const first = p[0] as OcvPoint;
  if (socPercent <= first[0]) return first[1];
  for (let i = 1; i < p.length; i++) {
    const [s1, v1] = p[i] as OcvPoint;
    if (socPercent <= s1) {
      const [s0, v0] = p[i - 1] as OcvPoint;
      return v0 + ((v1 - v0) * (socPercent - s0)) / (s1 - s0);
    }
  }
  return (p[p.length - 1] as OcvPoint)[1];
}

/**
 * Per-cell SOC, % (null where the cell is null), from cell voltages; `cellResistanceOhm`
 * (when known) removes the I·R part so a cell under a small current still reads its OCV.
 */
export function cellSocs(
  curve: OcvCurve,
  cells: readonly (number | null)[],
  currentA = 0,
  cellResistanceOhm?: readonly (number | null)[],
): (number | null)[] {
  return cells.map((v, i) => {
    if (v === null || !Number.isFinite(v)) return null;
    const r = cellResistanceOhm?.[i] ?? 0;
    return socFromCellVoltage(curve, v - currentA * r);
  });
}

/** The pack's SOC, %: the mean of its cells' SOCs; null when no cell is known. */
export function packSocFromCells(cellSoc: readonly (number | null)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const s of cellSoc) {
    if (s === null) continue;
    sum += s;
    n++;
  }
  return n === 0 ? null : sum / n;
}
