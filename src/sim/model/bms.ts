/**
 * The simulated battery behind the Express: a pack of N series cells that charges
 * (constant current, then tapering at 4.2 V per cell), rests, or is ridden down. State is
 * integrated lazily in fixed 1 s ticks up to the clock's "now" whenever it is read, so an
 * idle device costs nothing and the state at time t depends only on the seed, the scenario
 * history and t, not on how often it was polled.
 */
import { type BmsRecord, TEMP_NOT_APPLICABLE } from "../firmware/bmsRecord.js";
import { hashNoise, Prng } from "../prng.js";
import { CELL_FULL_V, ocv } from "./ocv.js";

export type Scenario = "charging" | "riding" | "idle";
/** What the pack is doing right now; also the BMS status string. */
export type BmsPhase = "charging" | "charged" | "riding" | "resting" | "idle";

export interface BmsModelOptions {
  readonly seed: number;
  readonly cells: number;
  readonly scenario: Scenario;
  /** Clock reading at creation, ms. */
  readonly now: number;
  /** NTC sensors with real readings (default 4). */
  readonly tempSensors?: number;
  /** Temperature slots reported, at least the sensors present (default: just those). */
  readonly tempSlots?: number;
  readonly capacityAh?: number;
  /** The BMS's CAN id, 255 = fed by a script, not on CAN (default 10). */
  readonly canId?: number;
  /** Initial state of charge 0..1 (default: seeded, 35–60 % charging, 80–95 % riding). */
  readonly startSoc?: number;
}

const TICK_MS = 1000;
/** Above this many ticks in one read, ticks get longer so a read stays cheap. */
const MAX_TICKS_PER_READ = 100_000;
/** Per parallel group, Ω: 5 A of charge lifts a cell ~40 mV above its OCV. */
const CELL_RESISTANCE = 0.008;
/** VESC BMS defaults: balance above 4.10 V and more than 5 mV over the lowest cell. */
export const BALANCE_START_V = 4.1;
export const BALANCE_DELTA_V = 0.005;
const BALANCE_BLEED_A = 0.1;
const HEAT_TAU_S = 600;

export class BmsModel {
  readonly canId: number;
  readonly capacityAh: number;
  private readonly seed: number;
  private readonly t0: number;
  private tick = 0;
  private cellCount: number;
  private tempSensors: number;
  private tempSlots: number;
  private phase: BmsPhase;
  private current = 0;
  /** Mean state of charge of the pack, 0..1. */
  private soc: number;
  /** Per-cell charge offsets (capacity mismatch), fraction of capacity. */
  private socOffset: number[] = [];
  /** Per-cell static measurement offsets, V. */
  private vOffset: number[] = [];
  private driftCell = 0;
  private heat = 0;
  private readonly ambient: number;
  private readonly soh: number;
  private ampHours = 0;
  private wattHours = 0;
  private ahCharged: number;
  private whCharged: number;
  private ahDischarged: number;
  private whDischarged: number;
  private readonly humidityBase: number;
  private readonly pressureBase: number;

  constructor(options: BmsModelOptions) {
    const rng = new Prng(options.seed ^ 0x5eed_b500);
    this.seed = options.seed >>> 0;
    this.t0 = options.now;
    this.canId = options.canId ?? 10;
    this.capacityAh = options.capacityAh ?? 12;
    this.cellCount = options.cells;
    this.tempSensors = options.tempSensors ?? 4;
    this.tempSlots = Math.max(this.tempSensors, options.tempSlots ?? this.tempSensors);
    this.phase = phaseOf(options.scenario);
    this.soc =
      options.startSoc ??
      (options.scenario === "riding" ? 0.8 + rng.next() * 0.15 : 0.35 + rng.next() * 0.25);
    this.ambient = 20 + rng.next() * 5;
    this.soh = 95 + rng.next() * 4.5;
    // A pack with some history: totals are monotonic and never start at zero.
    this.ahCharged = 150 + rng.next() * 300;
    this.whCharged = this.ahCharged * 3.7 * options.cells;
    this.ahDischarged = this.ahCharged * 0.97;
    this.whDischarged = this.whCharged * 0.95;
    this.humidityBase = 40 + rng.next() * 15;
    this.pressureBase = 100_800 + rng.next() * 1000;
    this.layoutCells(rng);
    this.current = this.decideCurrent();
  }

  get cells(): number {
    return this.cellCount;
  }

  get scenarioPhase(): BmsPhase {
    return this.phase;
  }

  setCellCount(n: number, now: number): void {
    this.advanceTo(now);
    this.cellCount = n;
    this.layoutCells(new Prng(this.seed ^ (0xce11 + n)));
  }

  setScenario(s: Scenario, now: number): void {
    this.advanceTo(now);
    this.phase = phaseOf(s);
    this.current = this.decideCurrent();
  }

  setTemperatureSensors(present: number, slots = present): void {
    this.tempSensors = present;
    this.tempSlots = Math.max(present, slots);
  }

  /**
   * The BMS state at `now` as the firmware holds it, unquantised (the encoders truncate).
   * Data version 1 lays the temperature slots out as firmware 6.06 defines them: IC, cell
   * min, cell max, MOSFET (this BMS has none: not applicable), ambient, then the cell NTCs.
   * Version 0 reports the NTCs, then slots without a sensor at 0 °C.
   */
  record(now: number, dataVersion: 0 | 1): BmsRecord {
    this.advanceTo(now);
    const cells = this.cellVoltages();
    const charger = this.phase === "charging" || this.phase === "charged";
    let min = Number.POSITIVE_INFINITY;
    for (const c of cells) min = Math.min(min, c);
    const balancing = cells.map((v) => charger && balanceWanted(v, min));
    const n = this.tick;
    const ntc: number[] = [];
    for (let i = 0; i < this.tempSensors; i++) {
      const t = this.ambient + this.heat * (0.8 + 0.1 * (i % 4)) + 0.4 * hashNoise(this.seed, 7000 + i);
      ntc.push(t + 0.03 * hashNoise(this.seed, n, 100 + i));
    }
    const tempIc = this.ambient + 12 + this.heat * 0.3 + 0.05 * hashNoise(this.seed, n, 2);
    const tempHum = this.ambient + 1.5 + 0.05 * hashNoise(this.seed, n, 3);
    const hottest = ntc.length > 0 ? Math.max(...ntc) : undefined;
    const coolest = ntc.length > 0 ? Math.min(...ntc) : undefined;
    let temps: number[];
    if (dataVersion === 1) {
      temps = [
        tempIc,
        coolest ?? TEMP_NOT_APPLICABLE,
        hottest ?? TEMP_NOT_APPLICABLE,
        TEMP_NOT_APPLICABLE,
        tempHum,
        ...ntc,
      ];
      while (temps.length < this.tempSlots) temps.push(TEMP_NOT_APPLICABLE);
    } else {
      temps = [...ntc];
      while (temps.length < this.tempSlots) temps.push(0);
    }
    let packVoltage = 0;
    for (const c of cells) packVoltage += c;
    return {
      vTot: packVoltage,
      vCharge: charger ? CELL_FULL_V * this.cellCount : 0,
      iIn: this.current,
      iInIc: this.current + 0.15 + 0.004 * hashNoise(this.seed, n, 1),
      ahCnt: this.ampHours,
      whCnt: this.wattHours,
      vCell: cells,
      balState: balancing,
      tempsAdc: temps,
      tempIc,
      tempHum,
      hum: this.humidityBase + 0.2 * hashNoise(this.seed, n, 4),
      tempMaxCell: hottest ?? 0,
      soc: Math.min(1, Math.max(0, this.soc)),
      soh: this.soh / 100,
      canId: this.canId,
      ahCntChgTotal: this.ahCharged,
      whCntChgTotal: this.whCharged,
      ahCntDisTotal: this.ahDischarged,
      whCntDisTotal: this.whDischarged,
      pressure: this.pressureBase + 20 * hashNoise(this.seed, n, 5),
      dataVersion,
      status: this.phase,
    };
  }

  /** The tick counter (whole seconds since creation) the state was last advanced to. */
  get ticks(): number {
    return this.tick;
  }

  private layoutCells(rng: Prng): void {
    this.socOffset = [];
    this.vOffset = [];
    for (let i = 0; i < this.cellCount; i++) {
      this.socOffset.push((rng.next() * 2 - 1) * 0.004);
      this.vOffset.push((rng.next() * 2 - 1) * 0.0025);
    }
    this.driftCell = rng.int(0, Math.max(0, this.cellCount - 1));
  }

  /** Drift of the one odd cell, V: wanders 2–10 mV high over a three-hour cycle. */
  private drift(): number {
    return 0.006 + 0.004 * Math.sin((2 * Math.PI * this.tick) / (3 * 3600));
  }

  private cellVoltages(): number[] {
    const out: number[] = [];
    const sag = this.current * CELL_RESISTANCE;
    for (let i = 0; i < this.cellCount; i++) {
      let v = ocv(this.soc + (this.socOffset[i] ?? 0)) + sag + (this.vOffset[i] ?? 0);
      if (i === this.driftCell) v += this.drift();
      v += 0.0004 * hashNoise(this.seed, this.tick, 1000 + i);
      out.push(Math.max(0, v));
    }
    return out;
  }

  private advanceTo(now: number): void {
    const target = Math.floor((now - this.t0) / TICK_MS);
    let remaining = target - this.tick;
    if (remaining <= 0) return; // a clock that went back leaves the state where it was
    const stride = Math.max(1, Math.ceil(remaining / MAX_TICKS_PER_READ));
    while (remaining > 0) {
      const step = Math.min(stride, remaining);
      this.step(step);
      this.tick += step;
      remaining -= step;
    }
  }

  /** Integrates `seconds` of pack behaviour. */
  private step(seconds: number): void {
    const cap = this.capacityAh;
    const n = this.cellCount;
    const meanOcv = this.meanOcv();
    const current = this.decideCurrent(meanOcv);
    this.current = current;
    const dAh = (current * seconds) / 3600;
    const packV = (meanOcv + current * CELL_RESISTANCE) * n;
    this.soc = Math.min(1.02, Math.max(-0.02, this.soc + dAh / cap));
    this.ampHours += dAh;
    this.wattHours += dAh * packV;
    if (dAh > 0) {
      this.ahCharged += dAh;
      this.whCharged += dAh * packV;
    } else {
      this.ahDischarged -= dAh;
      this.whDischarged -= dAh * packV;
    }
    if (this.phase === "charging" || this.phase === "charged") this.bleedBalancing(seconds);
    const heatTarget = 0.04 * current * current;
    this.heat += (heatTarget - this.heat) * Math.min(1, seconds / HEAT_TAU_S);
  }

  /** The current the scenario draws now (A, + = charging); moves to charged/resting at the ends. */
  private decideCurrent(meanOcv = this.meanOcv()): number {
    const cap = this.capacityAh;
    let current = 0;
    switch (this.phase) {
      case "charging": {
        const cc = 0.4 * cap;
        // The charger holds 4.2 V per cell: the current tapers as the OCV approaches it.
        current = Math.min(cc, Math.max(0, (CELL_FULL_V - meanOcv) / CELL_RESISTANCE));
        if (current < 0.05 * cap && this.soc > 0.9) {
          this.phase = "charged";
          current = 0;
        }
        break;
      }
      case "riding": {
        const t = this.tick;
        current =
          -(8 + 6 * Math.sin((2 * Math.PI * t) / 90) + 3 * Math.sin((2 * Math.PI * t) / 17)) +
          2 * hashNoise(this.seed, t, 9);
        if (this.soc < 0.08) {
          this.phase = "resting";
          current = 0;
        }
        break;
      }
      case "idle":
        current = -0.02; // standby draw of the electronics
        break;
      default:
        current = 0;
    }
    return current;
  }

  private meanOcv(): number {
    let sum = 0;
    for (let i = 0; i < this.cellCount; i++) sum += ocv(this.soc + (this.socOffset[i] ?? 0));
    return sum / Math.max(1, this.cellCount);
  }

  /** Balancing resistors bleed the high cells, which is what closes the spread over time. */
  private bleedBalancing(seconds: number): void {
    const cells = this.cellVoltages();
    let min = Number.POSITIVE_INFINITY;
    for (const c of cells) min = Math.min(min, c);
    const dSoc = (BALANCE_BLEED_A * seconds) / 3600 / this.capacityAh;
    for (let i = 0; i < cells.length; i++) {
      if (balanceWanted(cells[i] ?? 0, min)) this.socOffset[i] = (this.socOffset[i] ?? 0) - dSoc;
    }
  }
}

/** Compared in whole millivolts, as the wire carries them, so a test can apply the same rule. */
export function balanceWanted(v: number, min: number): boolean {
  const mv = Math.round(v * 1000);
  return (
    mv >= Math.round(BALANCE_START_V * 1000) &&
    mv > Math.round(min * 1000) + Math.round(BALANCE_DELTA_V * 1000)
  );
}

function phaseOf(s: Scenario): BmsPhase {
  return s;
}
