/**
 * A motor controller on the Express's CAN bus (bldc firmware, e.g. hardware "ADV500"). Its
 * values are closed-form functions of time since the scenario began, so nothing is stored
 * per tick and reads are free; counters integrate the averages so they only ever grow.
 */
import type { MotorValues } from "../../model/reading.js";
import { hashNoise } from "../prng.js";
import type { Scenario } from "./bms.js";

export interface MotorModelOptions {
  readonly canId: number;
  readonly hardware: string;
  readonly seed: number;
  readonly now: number;
}

/**
 * Mean riding figures; the sines around them average out to zero over a whole period. On the
 * 0.28 m, 30-pole wheel 6000 ± 2000 ERPM is 13–29 km/h, a onewheel's cruising range.
 */
const RIDE_ERPM = 6_000;
const RIDE_ERPM_SWING = 2_000;
/** ERPM at full duty on the simulated pack: duty ≈ 0.3–0.6 at those speeds. */
const FULL_DUTY_ERPM = 14_000;
const RIDE_MOTOR_A = 12;
const RIDE_PERIOD_S = 40;

export class MotorModel {
  readonly canId: number;
  readonly hardware: string;
  private readonly seed: number;
  private scenario: Scenario = "idle";
  private since: number;
  /** Counters accumulated in earlier scenarios. */
  private base = { ah: 0, ahCharged: 0, wh: 0, whCharged: 0, tach: 0 };

  constructor(options: MotorModelOptions) {
    this.canId = options.canId;
    this.hardware = options.hardware;
    this.seed = (options.seed ^ Math.imul(options.canId + 1, 0x9e3779b1)) >>> 0;
    this.since = options.now;
  }

  get currentScenario(): Scenario {
    return this.scenario;
  }

  setScenario(s: Scenario, now: number): void {
    this.base = this.counters(now);
    this.scenario = s;
    this.since = now;
  }

  /** Every field of a full GET_VALUES reply at `now`, unquantised (the encoder truncates). */
  values(now: number, inputVoltage: number): MotorValues {
    const t = Math.max(0, (now - this.since) / 1000);
    const tick = Math.floor(now / 1000);
    const riding = this.scenario === "riding";
    const wave = Math.sin((2 * Math.PI * t) / RIDE_PERIOD_S);
    const erpm = riding ? RIDE_ERPM + RIDE_ERPM_SWING * wave + 300 * hashNoise(this.seed, tick, 1) : 0;
    const currentMotor = riding ? RIDE_MOTOR_A + 8 * wave + 0.5 * hashNoise(this.seed, tick, 2) : 0;
    const duty = riding ? Math.min(0.95, erpm / FULL_DUTY_ERPM) : 0;
    const heat = riding ? 12 + 3 * wave : 0;
    const c = this.counters(now);
    const values: MotorValues = {
      tempFet: 28 + heat + 0.3 * hashNoise(this.seed, tick, 3),
      tempMotor: 30 + heat * 1.5 + 0.3 * hashNoise(this.seed, tick, 4),
      currentMotor,
      currentInput: currentMotor * duty,
      currentD: riding ? -0.8 + 0.2 * hashNoise(this.seed, tick, 5) : 0,
      currentQ: currentMotor,
      dutyCycle: duty,
      erpm,
      inputVoltage,
      ampHours: c.ah,
      ampHoursCharged: c.ahCharged,
      wattHours: c.wh,
      wattHoursCharged: c.whCharged,
      tachometer: c.tach,
      tachometerAbs: c.tach,
      fault: 0,
      pidPosition: riding ? (t * 97) % 360 : 0,
      controllerId: this.canId,
      tempMos1: 28 + heat + 0.2 * hashNoise(this.seed, tick, 6),
      tempMos2: 28 + heat * 1.1 + 0.2 * hashNoise(this.seed, tick, 7),
      tempMos3: 28 + heat * 0.9 + 0.2 * hashNoise(this.seed, tick, 8),
      voltageD: riding ? -0.5 : 0,
      voltageQ: riding ? inputVoltage * duty : 0,
      status: 0,
    };
    return values;
  }

  private counters(now: number): typeof this.base {
    const hours = Math.max(0, now - this.since) / 3_600_000;
    if (this.scenario !== "riding") return { ...this.base };
    const inputA = RIDE_MOTOR_A * (RIDE_ERPM / FULL_DUTY_ERPM);
    return {
      ah: this.base.ah + inputA * hours,
      ahCharged: this.base.ahCharged + 0.05 * inputA * hours, // a little regen braking
      wh: this.base.wh + inputA * 75 * hours,
      whCharged: this.base.whCharged + 0.05 * inputA * 75 * hours,
      // bldc counts 6 tachometer steps per electrical revolution.
      tach: this.base.tach + Math.floor(RIDE_ERPM * 60 * hours * 6),
    };
  }
}
