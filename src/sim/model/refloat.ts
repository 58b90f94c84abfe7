/**
 * A Refloat (or Float) balance package running on a simulated motor controller: its state
 * machine follows the scenario (riding → RUNNING with both footpads pressed; idle → READY,
 * the rider stepped off; charging → READY with the charging flag), pitch/roll from the
 * ride model's attitude, speed from the motor's ERPM. Which commands it answers depends on
 * the package and its version (lukash/refloat tags, vedderb/vesc_pkg float).
 */
import type {
  BalanceAllData,
  BalancePackageInfo,
  RefloatAlerts,
  RefloatRealtimeValues,
  RefloatStateFlags,
} from "../../model/ride.js";
import { faultCodeName } from "../../protocol/index.js";
import { hashNoise } from "../prng.js";
import { distanceFromTacho, type RideContext, type RideModel, speedFromErpm } from "./ride.js";

export interface BalancePackageSpec {
  readonly name: "Refloat" | "Float";
  /** "1.2.3", "1.3.0-beta2"; Float: "2.0". */
  readonly version: string;
}

/** The package on an ADV-class board today: Refloat's latest stable release. */
export const DEFAULT_BALANCE_PACKAGE: BalancePackageSpec = { name: "Refloat", version: "1.2.3" };
/** VESC packages need bldc 6.00 or later. */
export const PACKAGES_SINCE_FW = 600;
/** Refloat's tick rate (SYSTEM_TICK_RATE_HZ). */
export const REFLOAT_TICK_RATE_HZ = 10_000;

interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly suffix: string;
}

function parseVersion(v: string): Version {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:-(.+))?$/.exec(v);
  if (!m) throw new RangeError(`balance package version "${v}" is not major.minor[.patch][-suffix]`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), suffix: m[4] ?? "" };
}

export interface ChargerState {
  /** V (0 without a charger). */
  readonly voltage: number;
  /** A, into the pack. */
  readonly current: number;
}

/** The package's view of the board at one instant, unquantised. */
export interface BalanceSnapshot {
  readonly flags: RefloatStateFlags;
  readonly compatState: number;
  readonly adcLeftV: number;
  readonly adcRightV: number;
  readonly pitch: number;
  readonly roll: number;
  readonly speedKmh: number;
}

export class BalancePackageModel {
  readonly spec: BalancePackageSpec;
  private readonly version: Version;

  constructor(
    spec: BalancePackageSpec,
    private readonly seed: number,
  ) {
    this.spec = spec;
    this.version = parseVersion(spec.version);
  }

  private atLeast(major: number, minor: number): boolean {
    const v = this.version;
    return v.major > major || (v.major === major && v.minor >= minor);
  }

  /** Refloat ≥ 1.1 answers COMMAND_INFO v2; Float and Refloat 1.0 only v1. */
  get hasInfoV2(): boolean {
    return this.spec.name === "Refloat" && this.atLeast(1, 1);
  }

  /** COMMAND_ALERTS_LIST exists from Refloat 1.2. */
  get hasAlertsList(): boolean {
    return this.spec.name === "Refloat" && this.atLeast(1, 2);
  }

  /** COMMAND_REALTIME_DATA exists from Refloat 1.3 (its betas included). */
  get hasRealtimeData(): boolean {
    return this.spec.name === "Refloat" && this.atLeast(1, 3);
  }

  /** The INFO reply for a requested version (Refloat cmd_info; Float ignores the version). */
  info(requested: number, flags: number): BalancePackageInfo {
    const v = this.version;
    if (!this.hasInfoV2 || requested === 1) {
      return { infoVersion: 1, majorMinor: v.major * 10 + v.minor, build: 1, ledType: 0 };
    }
    return {
      infoVersion: 2,
      flags: requested === 2 ? flags : 0,
      name: this.spec.name,
      major: v.major,
      minor: v.minor,
      patch: v.patch,
      suffix: v.suffix,
      gitHash: (Math.imul(this.seed, 0x9e3779b1) ^ 0x5eed) >>> 0,
      tickRateHz: REFLOAT_TICK_RATE_HZ,
      capabilities: 0,
      extraFlags: 0,
    };
  }

  snapshot(ctx: RideContext, ride: RideModel): BalanceSnapshot {
    const a = ride.attitude(ctx);
    const tick = Math.floor(ctx.now / 100);
    const riding = ctx.scenario === "riding";
    const charging = ctx.scenario === "charging";
    const pad = (k: number) => (riding ? 3.0 : 0.1) + 0.02 * hashNoise(this.seed, tick, k);
    const flags: RefloatStateFlags = {
      mode: "normal",
      state: riding ? "running" : "ready",
      footpad: riding ? "both" : "none",
      charging,
      fatalError: false,
      darkride: false,
      wheelslip: false,
      sat: 0,
      // After a ride the board stops when the rider steps off both pads.
      stopCondition: riding ? 0 : 4,
      beepReason: 0,
    };
    // state_compat: CHARGING 14 wins; RUNNING 1; READY after SWITCH_FULL is 9.
    const compatState = charging ? 14 : riding ? 1 : 9;
    return {
      flags,
      compatState,
      adcLeftV: pad(31),
      adcRightV: pad(32),
      pitch: a.pitchDeg,
      roll: a.rollDeg,
      speedKmh: speedFromErpm(ctx.values.erpm ?? 0) * 3.6,
    };
  }

  /** ALERTS_LIST: a controller fault is the one alert Refloat tracks (ALERT_FW_FAULT). */
  alerts(ctx: RideContext, ride: RideModel): RefloatAlerts {
    const fault = ctx.values.fault ?? 0;
    if (fault === 0) return { activeMask: 0, activeMask2: 0, fwFaultCode: 0, log: [] };
    const name = faultCodeName(fault).replace(/^FAULT_CODE_/, "");
    return {
      activeMask: 1,
      activeMask2: 0,
      fwFaultCode: fault,
      fwFaultName: name,
      log: [{ time: ride.ticks(ctx.now), id: 1, active: true, code: fault, faultName: name }],
    };
  }

  /** GET_ALLDATA's fields (Refloat cmd_send_all_data) for a mode, unquantised. */
  allData(mode: number, ctx: RideContext, ride: RideModel, charger: ChargerState): BalanceAllData {
    const s = this.snapshot(ctx, ride);
    const v = ctx.values;
    const battery = ride.battery(ctx.cells, ctx.capacityAh, v.inputVoltage ?? 0);
    const balanceCurrent = s.flags.state === "running" ? (v.currentMotor ?? 0) : 0;
    const base: BalanceAllData = {
      mode,
      balanceCurrent,
      balancePitch: s.pitch,
      roll: s.roll,
      stateCode: s.compatState,
      state: s.flags.charging ? "charging" : s.flags.state === "running" ? "running" : "idle_switch_full",
      satCode: 2, // sat_compat(SAT_NONE): TILTBACK_NONE
      footpad: s.flags.footpad === "both" ? "both" : s.flags.footpad === "none" ? "none" : "one",
      handtest: false,
      beepReason: 0,
      adcLeftV: s.adcLeftV,
      adcRightV: s.adcRightV,
      setpoint: 0,
      atrSetpoint: 0,
      brakeTiltSetpoint: 0,
      torqueTiltSetpoint: 0,
      turnTiltSetpoint: 0,
      remoteSetpoint: 0,
      pitch: s.pitch,
      boosterCurrent: 0,
      batteryVoltage: v.inputVoltage ?? 0,
      erpm: v.erpm ?? 0,
      speedMps: s.speedKmh / 3.6,
      motorCurrent: v.currentMotor ?? 0,
      batteryCurrent: v.currentInput ?? 0,
      dutyCycle: v.dutyCycle ?? 0,
      focId: Math.abs(v.currentD ?? 0),
    };
    return {
      ...base,
      ...(mode >= 2
        ? {
            distanceAbsM: distanceFromTacho(v.tachometerAbs ?? 0),
            tempMosfet: Math.max(0, v.tempFet ?? 0),
            tempMotor: Math.max(0, v.tempMotor ?? 0),
          }
        : {}),
      ...(mode >= 3
        ? {
            odometerM: ride.odometerM(v),
            ampHours: v.ampHours ?? 0,
            ampHoursCharged: v.ampHoursCharged ?? 0,
            wattHours: v.wattHours ?? 0,
            wattHoursCharged: v.wattHoursCharged ?? 0,
            batteryPercent: Math.min(125, battery.level * 100),
          }
        : {}),
      ...(mode >= 4 ? { chargingCurrent: charger.current, chargingVoltage: charger.voltage } : {}),
    };
  }

  /** Every REALTIME_DATA field (the encoder picks the masked ones); no GNSS receiver. */
  realtime(ctx: RideContext, ride: RideModel, charger: ChargerState): RefloatRealtimeValues {
    const s = this.snapshot(ctx, ride);
    const v = ctx.values;
    const battery = ride.battery(ctx.cells, ctx.capacityAh, v.inputVoltage ?? 0);
    const running = s.flags.state === "running";
    return {
      extraFlags: 0,
      stateFlags: s.flags,
      speedKmh: s.speedKmh,
      erpm: v.erpm ?? 0,
      current: v.currentMotor ?? 0,
      dirCurrent: v.currentMotor ?? 0,
      filtCurrent: v.currentMotor ?? 0,
      dutyCycle: v.dutyCycle ?? 0,
      batteryVoltage: v.inputVoltage ?? 0,
      batteryCurrent: v.currentInput ?? 0,
      batterySoc: battery.level,
      mosfetTemp: v.tempFet ?? 0,
      motorTemp: v.tempMotor ?? 0,
      pitch: s.pitch,
      balancePitch: s.pitch,
      roll: s.roll,
      adcLeftV: s.adcLeftV,
      adcRightV: s.adcRightV,
      remoteInput: 0,
      setpoint: 0,
      atrSetpoint: 0,
      brakeTiltSetpoint: 0,
      torqueTiltSetpoint: 0,
      turnTiltSetpoint: 0,
      remoteSetpoint: 0,
      balanceCurrent: running ? (v.currentMotor ?? 0) : 0,
      loopFrequency: 832,
      odometerM: ride.odometerM(v),
      distanceAbsM: distanceFromTacho(v.tachometerAbs ?? 0),
      chargingVoltage: charger.voltage,
      chargingCurrent: charger.current,
      ampHours: v.ampHours ?? 0,
      ampHoursCharged: v.ampHoursCharged ?? 0,
      wattHours: v.wattHours ?? 0,
      wattHoursCharged: v.wattHoursCharged ?? 0,
      motorId: v.currentD ?? 0,
      gnssLat: 0,
      gnssLon: 0,
      gnssAltitude: 0,
      gnssSpeedKmh: 0,
      gnssHdop: 0,
      gnssLastUpdate: 0,
    };
  }
}
