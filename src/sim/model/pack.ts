/**
 * A ground-truth battery pack for accuracy tests: N series cells, each with its own
 * capacity, ohmic resistance R0 and an RC polarisation (R1, τ) that makes the voltage
 * relax after a current change, one of them deliberately weak (less capacity, more
 * resistance). A program of steps drives it at accelerated time: constant-current /
 * constant-voltage charge, rest, a ride of random current steps, constant discharge.
 * `truth()` gives what an estimator should find: SOC, per-cell resistance and capacity,
 * the weakest cell and the energy that really went in and out.
 * State advances in fixed 1 s ticks; the current is constant within a tick.
 */
import type { BmsRecord } from "../firmware/bmsRecord.js";
import { hashNoise, Prng } from "../prng.js";
import { asCapturedExpress, CAPTURED_ELECTRONICS_A } from "./capturedExpress.js";
import { CELL_FULL_V, ocv } from "./ocv.js";

export type PackStep =
  /** CC at `currentA` (default 0.4 C) to 4.2 V per cell, then CV until the current falls to C/20. */
  | { readonly kind: "charge"; readonly currentA?: number; readonly maxS?: number }
  | { readonly kind: "rest"; readonly seconds: number }
  /** Random throttle/brake steps (−30…+6 A), for `seconds` or until the true SOC falls to `untilSocPercent`. */
  | { readonly kind: "ride"; readonly seconds?: number; readonly untilSocPercent?: number }
  | {
      readonly kind: "discharge";
      readonly currentA: number;
      readonly seconds?: number;
      readonly untilSocPercent?: number;
    };

export interface PackModelOptions {
  readonly seed: number;
  /** Series cells (default 20). */
  readonly cells?: number;
  /** Nominal capacity, Ah (default 12); the cells scatter ±2 % around it. */
  readonly capacityAh?: number;
  /** Nominal R0 per cell (parallel group), Ω (default 8 mΩ); the cells scatter ±5 %. */
  readonly resistanceOhm?: number;
  /** Initial SOC 0..1 of a cell of nominal capacity (default 0.3); weaker cells start lower (top-balanced). */
  readonly startSoc?: number;
  /** The weak cell, 1-based (default: chosen from the seed). */
  readonly weakCell?: number;
  /** Its capacity and resistance factors (default 0.85 and 1.6). */
  readonly weakCapacityFactor?: number;
  readonly weakResistanceFactor?: number;
  /** Clock reading at creation, ms (default 0). */
  readonly now?: number;
}

export interface PackTruth {
  readonly tMs: number;
  /** The current of the last tick, A (+ = charging). */
  readonly currentA: number;
  /** Mean of the cells' SOC, %. */
  readonly socPercent: number;
  readonly cellSocPercent: readonly number[];
  readonly cellCapacityAh: readonly number[];
  /** R0, the ohmic resistance a ΔV/ΔI over a second sees (plus a little of R1). */
  readonly cellResistanceOhm: readonly number[];
  /** 1-based. */
  readonly weakestCell: number;
  readonly whCharged: number;
  readonly whDischarged: number;
  readonly ahCharged: number;
  readonly ahDischarged: number;
  /** The step running now (index into the program), or the program's length when done. */
  readonly stepIndex: number;
  readonly phase: PackStep["kind"] | "done";
}

export type PackProfile = "model" | "express-6.05";

const TICK_MS = 1000;
const NOISE_V = 0.0003;
/** Cell over-voltage cut-off of the BMS, V. */
const CELL_MAX_V = 4.25;

interface Cell {
  readonly capacityAh: number;
  readonly r0: number;
  readonly r1: number;
  readonly tauS: number;
  soc: number;
  vrc: number;
}

export class PackModel {
  readonly seed: number;
  readonly weakCell: number;
  readonly capacityAh: number;
  private readonly cells: Cell[] = [];
  private readonly t0: number;
  private tick = 0;
  private current = 0;
  private program: PackStep[] = [];
  private stepIndex = 0;
  private stepStartTick = 0;
  private readonly rideRng: Prng;
  private rideLevel = 0;
  private rideUntilTick = 0;
  private cv = false;
  private totals = { whCharged: 0, whDischarged: 0, ahCharged: 0, ahDischarged: 0 };

  constructor(o: PackModelOptions) {
    this.seed = o.seed >>> 0;
    const rng = new Prng(this.seed ^ 0x9ac6);
    const n = o.cells ?? 20;
    this.capacityAh = o.capacityAh ?? 12;
    const r = o.resistanceOhm ?? 0.008;
    this.weakCell = o.weakCell ?? rng.int(1, n);
    const start = o.startSoc ?? 0.3;
    for (let i = 0; i < n; i++) {
      const weak = i + 1 === this.weakCell;
      const capacityAh =
        this.capacityAh * (1 + (rng.next() * 2 - 1) * 0.02) * (weak ? (o.weakCapacityFactor ?? 0.85) : 1);
      const r0 = r * (1 + (rng.next() * 2 - 1) * 0.05) * (weak ? (o.weakResistanceFactor ?? 1.6) : 1);
      this.cells.push({
        capacityAh:
          this.capacityAh * (1 + (rng.next() * 2 - 1) * 0.02) * (weak ? (o.weakCapacityFactor ?? 0.85) : 1),
        r0,
        r1: 0.4 * r0,
        tauS: 40 * (1 + (rng.next() * 2 - 1) * 0.1),
        // Top-balanced, as a BMS keeps a pack: every cell is ~full after the same charge.
        soc: 1 - (1 - start) * (this.capacityAh / capacityAh) + (rng.next() * 2 - 1) * 0.003,
        vrc: 0,
      });
    }
    this.t0 = o.now ?? 0;
    this.rideRng = new Prng(this.seed ^ 0x71de);
  }

  get cellCount(): number {
    return this.cells.length;
  }

  /** Replaces the program; it starts at the current time. */
  run(steps: readonly PackStep[]): void {
    this.program = [...steps];
    this.stepIndex = 0;
    this.stepStartTick = this.tick;
    this.cv = false;
  }

  get done(): boolean {
    return this.stepIndex >= this.program.length;
  }

  /** Integrates up to `nowMs` (a clock that goes back changes nothing). */
  advanceTo(nowMs: number): void {
    const target = Math.floor((nowMs - this.t0) / TICK_MS);
    while (this.tick < target) this.step();
  }

  /** The BMS state at `nowMs`: "model" reports the truth's SOC and totals; "express-6.05" as the real device does. */
  record(nowMs: number, profile: PackProfile = "model"): BmsRecord {
    this.advanceTo(nowMs);
    const vCell = this.cells.map(
      (c, i) => this.terminal(c, this.current) + NOISE_V * hashNoise(this.seed, this.tick, i),
    );
    const vTot = vCell.reduce((a, b) => a + b, 0);
    const charger = this.phase() === "charge";
    const temps = [25, 25.5, 26, 25.2].map((t, i) => t + 0.05 * hashNoise(this.seed, this.tick, 100 + i));
    const record: BmsRecord = {
      vTot,
      vCharge: charger ? CELL_FULL_V * this.cells.length : 0,
      iIn: this.current,
      iInIc: this.current,
      ahCnt: this.totals.ahCharged - this.totals.ahDischarged,
      whCnt: this.totals.whCharged - this.totals.whDischarged,
      vCell,
      balState: vCell.map(() => false),
      tempsAdc: temps,
      tempIc: 30,
      tempHum: 26,
      hum: 45,
      tempMaxCell: Math.max(...temps),
      soc: Math.min(1, Math.max(0, this.meanSoc())),
      soh: 1,
      canId: 10,
      ahCntChgTotal: this.totals.ahCharged,
      whCntChgTotal: this.totals.whCharged,
      ahCntDisTotal: this.totals.ahDischarged,
      whCntDisTotal: this.totals.whDischarged,
      pressure: 101_000,
      dataVersion: 0,
      status: this.phase(),
    };
    if (profile === "model") return record;
    // The captured Express's IC reads i_in plus its electronics' draw; this pack's true current
    // is what the IC measures, so the i_in handed over is the current without that draw.
    return asCapturedExpress({ ...record, iIn: this.current - CAPTURED_ELECTRONICS_A }, this.seed, this.tick);
  }

  truth(): PackTruth {
    let weakest = 0;
    for (let i = 1; i < this.cells.length; i++) {
      const c = this.cells[i] as Cell;
      const w = this.cells[weakest] as Cell;
      if (c.r0 / c.capacityAh > w.r0 / w.capacityAh) weakest = i;
    }
    return {
      tMs: this.t0 + this.tick * TICK_MS,
      currentA: this.current,
      socPercent: this.meanSoc() * 100,
      cellSocPercent: this.cells.map((c) => c.soc * 100),
      cellCapacityAh: this.cells.map((c) => c.capacityAh),
      cellResistanceOhm: this.cells.map((c) => c.r0),
      weakestCell: weakest + 1,
      ...this.totals,
      stepIndex: this.stepIndex,
      phase: this.phase(),
    };
  }

  private phase(): PackStep["kind"] | "done" {
    return this.program[this.stepIndex]?.kind ?? "done";
  }

  private terminal(c: Cell, current: number): number {
    return ocv(c.soc) + current * c.r0 + c.vrc;
  }

  private meanSoc(): number {
    return this.cells.reduce((a, c) => a + c.soc, 0) / this.cells.length;
  }

  /** One tick: decide the current from the program, then integrate every cell for 1 s. */
  private step(): void {
    const current = this.decideCurrent();
    this.current = current;
    const dtS = TICK_MS / 1000;
    let vStart = 0;
    for (const c of this.cells) vStart += this.terminal(c, current);
    for (const c of this.cells) {
      c.soc += (current * dtS) / 3600 / c.capacityAh;
      // Exact RC step for a constant current: vrc → I·R1 with time constant τ.
      c.vrc = current * c.r1 + (c.vrc - current * c.r1) * Math.exp(-dtS / c.tauS);
    }
    let vEnd = 0;
    for (const c of this.cells) vEnd += this.terminal(c, current);
    const ah = (current * dtS) / 3600;
    const wh = ah * ((vStart + vEnd) / 2);
    if (ah > 0) {
      this.totals.ahCharged += ah;
      this.totals.whCharged += wh;
    } else {
      this.totals.ahDischarged -= ah;
      this.totals.whDischarged -= wh;
    }
    this.tick++;
  }

  private nextStep(): void {
    this.stepIndex++;
    this.stepStartTick = this.tick;
    this.cv = false;
  }

  private decideCurrent(): number {
    for (;;) {
      const s = this.program[this.stepIndex];
      if (s === undefined) return 0;
      const elapsedS = this.tick - this.stepStartTick;
      const soc = this.meanSoc() * 100;
      switch (s.kind) {
        case "rest":
          if (elapsedS >= s.seconds) break;
          return 0;
        case "discharge":
          if ((s.seconds !== undefined && elapsedS >= s.seconds) || (s.untilSocPercent ?? -1) >= soc) break;
          return -Math.abs(s.currentA);
        case "ride":
          if ((s.seconds !== undefined && elapsedS >= s.seconds) || (s.untilSocPercent ?? -1) >= soc) break;
          return this.rideCurrent();
        case "charge": {
          if (s.maxS !== undefined && elapsedS >= s.maxS) break;
          const i = this.chargeCurrent(s.currentA ?? 0.4 * this.capacityAh);
          if (i === null) break;
          return i;
        }
      }
      this.nextStep();
    }
  }

  /** CC until the pack reaches 4.2 V per cell, then the CV charger's tapering current; null = terminated. */
  private chargeCurrent(cc: number): number | null {
    const n = this.cells.length;
    const vCv = CELL_FULL_V * n;
    let vOpen = 0;
    let r = 0;
    for (const c of this.cells) {
      vOpen += ocv(c.soc) + c.vrc;
      r += c.r0;
    }
    const i = Math.min(cc, Math.max(0, (vCv - vOpen) / r));
    if (i < cc) this.cv = true;
    // The BMS cuts the charge when any cell goes over the limit, whatever the pack voltage.
    const overVoltage = this.cells.some((c) => this.terminal(c, i) > CELL_MAX_V);
    return (this.cv && i < this.capacityAh / 20) || overVoltage ? null : i;
  }

  /** Piecewise-constant throttle: cruise, accelerate, brake (regen) or stop, 2–25 s each. */
  private rideCurrent(): number {
    if (this.tick >= this.rideUntilTick) {
      const u = this.rideRng.next();
      const x = this.rideRng.next();
      if (u < 0.5) this.rideLevel = -(6 + 10 * x);
      else if (u < 0.7) this.rideLevel = -(18 + 12 * x);
      else if (u < 0.85) this.rideLevel = 2 + 4 * x;
      else this.rideLevel = 0;
      this.rideUntilTick = this.tick + this.rideRng.int(2, 25);
    }
    return this.rideLevel;
  }
}
