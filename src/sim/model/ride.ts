/**
 * What a simulated motor controller derives from its own values for the ride telemetry
 * commands: speed and distance from ERPM and tachometer through the wheel setup (bldc
 * `motor/mc_interface.c` mc_interface_get_speed / _distance), battery level from the pack
 * voltage, the odometer, uptime, ride statistics and the IMU attitude. One model per motor,
 * created on the first ride request; statistics are sampled at each read.
 */
import type { MotorValues } from "../../model/reading.js";
import type { ImuValues, RideStats, SetupValues } from "../../model/ride.js";
import { hashNoise } from "../prng.js";
import type { Scenario } from "./bms.js";

/** A Floatwheel ADV-class hub motor: 30 poles, 11" tyre, direct drive. */
export const WHEEL = { poles: 30, diameterM: 0.28, gearRatio: 1 } as const;
/** bldc's default Li-ion curve (BATTERY_TYPE_LIION_3_0__4_2): 3.0 V empty, 4.2 V full per cell. */
const CELL_EMPTY_V = 3.0;
const CELL_FULL_V = 4.2;
const NOMINAL_CELL_V = 3.6;
/** Battery cut-off per cell, as riders configure it for a Li-ion pack (start, end). */
export const CUT_PER_CELL_V = { start: 3.1, end: 3.0 } as const;

export interface RideContext {
  readonly now: number;
  readonly values: MotorValues;
  readonly cells: number;
  readonly capacityAh: number;
  readonly scenario: Scenario;
}

/** Wheel speed for an ERPM, m/s (mc_interface_get_speed). */
export function speedFromErpm(erpm: number): number {
  const rpm = erpm / (WHEEL.poles / 2);
  return ((rpm / 60) * WHEEL.diameterM * Math.PI) / WHEEL.gearRatio;
}

/** Distance for tachometer steps, m (6 steps per electrical revolution: 3·poles per wheel turn). */
export function distanceFromTacho(tacho: number): number {
  return (tacho * WHEEL.diameterM * Math.PI) / (3 * WHEEL.poles * WHEEL.gearRatio);
}

interface StatsAccumulator {
  start: number;
  last: number;
  seconds: number;
  speedSum: number;
  powerSum: number;
  currentSum: number;
  tempMosSum: number;
  tempMotorSum: number;
  speedMax: number;
  powerMax: number;
  currentMax: number;
  tempMosMax: number;
  tempMotorMax: number;
}

export class RideModel {
  /** Boot time: the controller has been up a while before the first request. */
  private readonly bootMs: number;
  /** Odometer before this simulation started, m. */
  private readonly odometerBaseM: number;
  private readonly stats: StatsAccumulator;

  constructor(
    private readonly seed: number,
    now: number,
  ) {
    this.bootMs = now - Math.floor(600_000 + 300_000 * (hashNoise(seed, 1, 11) + 1));
    this.odometerBaseM = Math.floor(1_200_000 + 400_000 * (hashNoise(seed, 2, 12) + 1));
    // mc_interface_stat_reset: maxima of the temperatures start at −300 °C.
    this.stats = {
      start: this.bootMs,
      last: now,
      seconds: 0,
      speedSum: 0,
      powerSum: 0,
      currentSum: 0,
      tempMosSum: 0,
      tempMotorSum: 0,
      speedMax: 0,
      powerMax: 0,
      currentMax: 0,
      tempMosMax: -300,
      tempMotorMax: -300,
    };
  }

  uptimeMs(now: number): number {
    return Math.max(0, now - this.bootMs);
  }

  /** A balance package's clock: 10 kHz ticks since boot, wrapping at 2³². */
  ticks(now: number): number {
    return (this.uptimeMs(now) * 10) >>> 0;
  }

  odometerM(values: MotorValues): number {
    return this.odometerBaseM + Math.floor(distanceFromTacho(values.tachometerAbs ?? 0));
  }

  /** Battery level and Wh left from the pack voltage (mc_interface_get_battery_level, Li-ion). */
  battery(cells: number, capacityAh: number, inputVoltage: number): { level: number; whLeft: number } {
    const perCell = inputVoltage / cells;
    const level = Math.min(1, Math.max(0, (perCell - CELL_EMPTY_V) / (CELL_FULL_V - CELL_EMPTY_V)));
    return { level, whLeft: level * capacityAh * NOMINAL_CELL_V * cells };
  }

  /** Every COMM_GET_VALUES_SETUP field at ctx.now, unquantised (one VESC on the bus). */
  setupValues(ctx: RideContext): SetupValues {
    const v = ctx.values;
    const battery = this.battery(ctx.cells, ctx.capacityAh, v.inputVoltage ?? 0);
    return {
      tempFet: v.tempFet,
      tempMotor: v.tempMotor,
      currentMotorTotal: v.currentMotor,
      currentInputTotal: v.currentInput,
      dutyCycle: v.dutyCycle,
      erpm: v.erpm,
      speedMps: speedFromErpm(v.erpm ?? 0),
      inputVoltage: v.inputVoltage,
      batteryLevel: battery.level,
      ampHoursTotal: v.ampHours,
      ampHoursChargedTotal: v.ampHoursCharged,
      wattHoursTotal: v.wattHours,
      wattHoursChargedTotal: v.wattHoursCharged,
      tripDistanceM: distanceFromTacho(v.tachometer ?? 0),
      tripDistanceAbsM: distanceFromTacho(v.tachometerAbs ?? 0),
      pidPosition: v.pidPosition ?? 0,
      fault: v.fault ?? 0,
      controllerId: v.controllerId ?? 0,
      vescCount: 1,
      wattHoursLeft: battery.whLeft,
      odometerM: this.odometerM(v),
      uptimeMs: this.uptimeMs(ctx.now),
    };
  }

  /** COMM_GET_STATS now: the values since the last read are weighted by the time they held. */
  rideStats(ctx: RideContext): RideStats {
    const s = this.stats;
    const v = ctx.values;
    const dt = Math.max(0, (ctx.now - s.last) / 1000);
    const speed = Math.abs(speedFromErpm(v.erpm ?? 0));
    const power = (v.inputVoltage ?? 0) * (v.currentInput ?? 0);
    const current = Math.abs(v.currentMotor ?? 0);
    const tempMos = v.tempFet ?? 0;
    const tempMotor = v.tempMotor ?? 0;
    if (dt > 0) {
      s.seconds += dt;
      s.speedSum += speed * dt;
      s.powerSum += power * dt;
      s.currentSum += current * dt;
      s.tempMosSum += tempMos * dt;
      s.tempMotorSum += tempMotor * dt;
      s.last = ctx.now;
    }
    s.speedMax = Math.max(s.speedMax, speed);
    s.powerMax = Math.max(s.powerMax, power);
    s.currentMax = Math.max(s.currentMax, current);
    s.tempMosMax = Math.max(s.tempMosMax, tempMos);
    s.tempMotorMax = Math.max(s.tempMotorMax, tempMotor);
    const avg = (sum: number, now: number) => (s.seconds > 0 ? sum / s.seconds : now);
    return {
      speedAvgMps: avg(s.speedSum, speed),
      speedMaxMps: s.speedMax,
      powerAvgW: avg(s.powerSum, power),
      powerMaxW: s.powerMax,
      currentAvgA: avg(s.currentSum, current),
      currentMaxA: s.currentMax,
      tempMosAvgC: avg(s.tempMosSum, tempMos),
      tempMosMaxC: s.tempMosMax,
      tempMotorAvgC: avg(s.tempMotorSum, tempMotor),
      tempMotorMaxC: s.tempMotorMax,
      elapsedS: (ctx.now - s.start) / 1000,
    };
  }

  /** Board attitude, degrees: level ±1.5° while riding, resting on its tail otherwise. */
  attitude(ctx: RideContext): { pitchDeg: number; rollDeg: number; yawDeg: number } {
    const t = ctx.now / 1000;
    const tick = Math.floor(t * 10);
    if (ctx.scenario === "riding") {
      return {
        pitchDeg: 1.5 * Math.sin(t / 3) + 0.2 * hashNoise(this.seed, tick, 21),
        rollDeg: 4 * Math.sin(t / 7) + 0.3 * hashNoise(this.seed, tick, 22),
        yawDeg: ((t * 9) % 360) - 180,
      };
    }
    return { pitchDeg: 17.5 + 0.05 * hashNoise(this.seed, tick, 23), rollDeg: 0.4, yawDeg: 42 };
  }

  /** COMM_GET_IMU_DATA values (rpy in rad, gravity in g, gyro °/s). */
  imu(ctx: RideContext): ImuValues {
    const a = this.attitude(ctx);
    const rad = Math.PI / 180;
    const [r, p, y] = [a.rollDeg * rad, a.pitchDeg * rad, a.yawDeg * rad];
    const [cr, sr, cp, sp, cy, sy] = [
      Math.cos(r / 2),
      Math.sin(r / 2),
      Math.cos(p / 2),
      Math.sin(p / 2),
      Math.cos(y / 2),
      Math.sin(y / 2),
    ];
    const riding = ctx.scenario === "riding";
    return {
      roll: r,
      pitch: p,
      yaw: y,
      accX: -Math.sin(p),
      accY: Math.sin(r) * Math.cos(p),
      accZ: Math.cos(r) * Math.cos(p),
      gyroX: riding ? (4 / 7) * Math.cos(ctx.now / 7000) : 0,
      gyroY: riding ? 0.5 * Math.cos(ctx.now / 3000) : 0,
      gyroZ: riding ? 9 : 0,
      magX: 0.2,
      magY: 0,
      magZ: 0.45,
      q0: cr * cp * cy + sr * sp * sy,
      q1: sr * cp * cy - cr * sp * sy,
      q2: cr * sp * cy + sr * cp * sy,
      q3: cr * cp * sy - sr * sp * cy,
    };
  }
}
