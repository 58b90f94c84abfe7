/**
 * A Refloat COMMAND_GET_ALLDATA sample in cmd_send_all_data's order, for the codec tests and
 * the codec fuzz: balance current 12.3 A, balance pitch 1.5°, roll −2.0°, state RUNNING +
 * sat 2, footpad both, adc 3.00/2.90 V, setpoints 1.0/0.4/0/−0.6/0/0°, pitch 1.2°, booster 0,
 * 80.1 V, 5000 ERPM, 4.2 m/s, 15.5 A, 9.8 A, duty 0.35, |id| 1 A; mode 2 adds distance
 * 1234.5 m, 35.5/40 °C; mode 3 odometer 123456 m, 2.5/0.3 Ah, 200/10 Wh, 87.5 %; mode 4
 * charging 0 A, 0 V.
 */
import type { BalanceAllData } from "../../src/model/ride.js";
import { hex } from "./hex.js";

/** The package bytes each mode adds to the one before (hex). */
export const ALLDATA_MODE1 =
  "007b 000f ffec 21 02 96 91 85 82 80 7d 80 80 000c 80 0321 1388 002a 009b 0062 a3 03";
export const ALLDATA_MODE2 = "449a5000 47 50 00";
export const ALLDATA_MODE3 = "0001e240 0019 0003 00c8 000a af";
export const ALLDATA_MODE4 = "0000 0000";

export type AllDataMode = 1 | 2 | 3 | 4;

/** The whole reply payload to GET_ALLDATA `mode`: `24 65 0a <mode>` and the bytes up to that mode. */
export function allDataReply(mode: AllDataMode): Uint8Array {
  const parts = [ALLDATA_MODE1, ALLDATA_MODE2, ALLDATA_MODE3, ALLDATA_MODE4].slice(0, mode);
  return hex(`24 65 0a 0${mode} ${parts.join(" ")}`);
}

const MODE1 = {
  balanceCurrent: 12.3,
  balancePitch: 1.5,
  roll: -2,
  stateCode: 1,
  state: "running",
  satCode: 2,
  footpad: "both",
  handtest: false,
  beepReason: 0,
  adcLeftV: 3,
  adcRightV: 2.9,
  setpoint: 1,
  atrSetpoint: 0.4,
  brakeTiltSetpoint: 0,
  torqueTiltSetpoint: -0.6,
  turnTiltSetpoint: 0,
  remoteSetpoint: 0,
  pitch: 1.2,
  boosterCurrent: 0,
  batteryVoltage: 80.1,
  erpm: 5000,
  speedMps: 4.2,
  motorCurrent: 15.5,
  batteryCurrent: 9.8,
  dutyCycle: 0.35,
  focId: 1,
} as const;
const MODE2 = { ...MODE1, distanceAbsM: 1234.5, tempMosfet: 35.5, tempMotor: 40 };
const MODE3 = {
  ...MODE2,
  odometerM: 123456,
  ampHours: 2.5,
  ampHoursCharged: 0.3,
  wattHours: 200,
  wattHoursCharged: 10,
  batteryPercent: 87.5,
};
const MODE4 = { ...MODE3, chargingCurrent: 0, chargingVoltage: 0 };

const BY_MODE = { 1: MODE1, 2: MODE2, 3: MODE3, 4: MODE4 };

/** What allDataReply(mode) decodes to. */
export function allDataValues(mode: AllDataMode): BalanceAllData {
  return { mode, ...BY_MODE[mode] };
}
