/**
 * Ride telemetry of a motor controller as its firmware reports it: setup values (speed, trip,
 * odometer, battery level summed over the CAN bus), ride statistics, IMU data, battery
 * cut-off voltages, and the Refloat / Float balance package's data. Values are as decoded
 * (SI units: m/s, m, V, A, W, °C); conversions such as km/h are a presentation concern.
 * A field that is absent was not requested or not sent by that firmware version.
 */

/** COMM_GET_VALUES_SETUP (47) / _SELECTIVE (51), bldc ≥ 3.48. No side effects on the controller. */
export interface SetupValues {
  /** MOSFET temperature, °C (filtered). */
  tempFet?: number;
  /** Motor temperature, °C (filtered). */
  tempMotor?: number;
  /** Motor current summed over every VESC heard on CAN in the last 100 ms, A. */
  currentMotorTotal?: number;
  /** Input (battery) current summed over the CAN bus, A. */
  currentInputTotal?: number;
  /** Duty cycle, fraction −1…1. */
  dutyCycle?: number;
  /** Electrical RPM. */
  erpm?: number;
  /** Wheel speed from ERPM, poles, wheel diameter and gearing, m/s (signed). */
  speedMps?: number;
  /** Input voltage, V (filtered). */
  inputVoltage?: number;
  /** Battery level from the configured battery type and cell count, fraction 0…1. */
  batteryLevel?: number;
  /** Amp hours drawn, summed over the CAN bus, Ah. */
  ampHoursTotal?: number;
  /** Amp hours regenerated, summed over the CAN bus, Ah. */
  ampHoursChargedTotal?: number;
  /** Watt hours drawn, summed over the CAN bus, Wh. */
  wattHoursTotal?: number;
  /** Watt hours regenerated, summed over the CAN bus, Wh. */
  wattHoursChargedTotal?: number;
  /** Trip distance since boot (signed, from the tachometer), m. */
  tripDistanceM?: number;
  /** Absolute trip distance since boot, m. */
  tripDistanceAbsM?: number;
  /** PID position, degrees. */
  pidPosition?: number;
  /** mc_fault_code. */
  fault?: number;
  /** bldc `FAULT_CODE_*` name of `fault`. */
  faultName?: string;
  /** The controller's CAN id. */
  controllerId?: number;
  /** VESCs counted in the totals (this one plus those heard on CAN). */
  vescCount?: number;
  /** Energy left in the battery by the same estimate as batteryLevel, Wh. */
  wattHoursLeft?: number;
  /** Lifetime distance, m (bldc ≥ 5.02; survives reboots, not firmware updates). */
  odometerM?: number;
  /** Time since the controller booted, ms (bldc ≥ 5.03). */
  uptimeMs?: number;
}

/** COMM_GET_STATS (128), bldc ≥ 5.03: statistics since boot or the last COMM_RESET_STATS. */
export interface RideStats {
  /** Average speed, m/s. */
  speedAvgMps?: number;
  /** Maximum speed, m/s. */
  speedMaxMps?: number;
  /** Average input power, W. */
  powerAvgW?: number;
  /** Maximum input power, W. */
  powerMaxW?: number;
  /** Average motor current, A. */
  currentAvgA?: number;
  /** Maximum motor current, A. */
  currentMaxA?: number;
  /** Average MOSFET temperature, °C. */
  tempMosAvgC?: number;
  /** Maximum MOSFET temperature, °C (−300 until the first sample). */
  tempMosMaxC?: number;
  /** Average motor temperature, °C. */
  tempMotorAvgC?: number;
  /** Maximum motor temperature, °C (−300 until the first sample). */
  tempMotorMaxC?: number;
  /** Time the statistics cover, s. */
  elapsedS?: number;
}

/** COMM_GET_IMU_DATA (65), bldc ≥ 3.52. */
export interface ImuValues {
  /** Roll, rad. */
  roll?: number;
  /** Pitch, rad. */
  pitch?: number;
  /** Yaw, rad. */
  yaw?: number;
  /** Acceleration, g. */
  accX?: number;
  accY?: number;
  accZ?: number;
  /** Angular rate, °/s. */
  gyroX?: number;
  gyroY?: number;
  gyroZ?: number;
  /** Magnetic field (raw sensor units). */
  magX?: number;
  magY?: number;
  magZ?: number;
  /** Attitude quaternion. */
  q0?: number;
  q1?: number;
  q2?: number;
  q3?: number;
  /** The controller's CAN id, appended by bldc ≥ 6.05. */
  controllerId?: number;
}

/** COMM_GET_BATTERY_CUT (115), bldc ≥ 5.03: the configured battery cut-off, V. */
export interface BatteryCut {
  /** Voltage where current limiting starts, V. */
  startV: number;
  /** Voltage where output is cut, V. */
  endV: number;
}

/** COMMAND_INFO version 1 (Float, Refloat 1.0): no name, version as major·10 + minor. */
export interface BalancePackageInfoV1 {
  readonly infoVersion: 1;
  /** major × 10 + minor, e.g. 20 for Float 2.0. */
  readonly majorMinor: number;
  readonly build: number;
  /** 0 none, 1 internal, 3 external. */
  readonly ledType: number;
}

/** COMMAND_INFO version 2 (Refloat ≥ 1.1). */
export interface BalancePackageInfoV2 {
  readonly infoVersion: 2;
  readonly flags: number;
  /** "Refloat". */
  readonly name: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** "", "beta2", … */
  readonly suffix: string;
  /** First 4 bytes of the package's git hash. */
  readonly gitHash: number;
  /** Ticks per second of REALTIME_DATA's timestamps (10000 on VESC). */
  readonly tickRateHz: number;
  /** 0x1 LEDs, 0x2 external LEDs, 0x4 GNSS, 0x80000000 data recording. */
  readonly capabilities: number;
  readonly extraFlags: number;
}

export type BalancePackageInfo = BalancePackageInfoV1 | BalancePackageInfoV2;

/**
 * The Float-compatible run state (Float's FloatState, Refloat's state_compat). 0 STARTUP,
 * 1–5 RUNNING…, 6–13 FAULT_* (not riding: why the board stopped), 14 CHARGING, 15 DISABLED.
 */
export type BalanceRunState =
  | "startup"
  | "running"
  | "running_tiltback"
  | "running_wheelslip"
  | "running_upsidedown"
  | "running_flywheel"
  | "idle_pitch"
  | "idle_roll"
  | "idle_switch_half"
  | "idle_switch_full"
  | "idle_duty"
  | "idle_startup"
  | "idle_reverse"
  | "idle_quickstop"
  | "charging"
  | "disabled";

/** Footpad as the compat byte reports it: both pads, one pad, none. */
export type FootpadCompat = "none" | "one" | "both";

/** COMMAND_GET_ALLDATA (10), Float and Refloat: mode 1 fields always, more with higher modes. */
export interface BalanceAllData {
  /** The mode the package answered (1–4). */
  readonly mode: number;
  /** Balance PID output, A. */
  readonly balanceCurrent: number;
  /** Balance pitch, °. */
  readonly balancePitch: number;
  /** Roll, °. */
  readonly roll: number;
  /** Raw compat state (low nibble of the state byte). */
  readonly stateCode: number;
  readonly state: BalanceRunState;
  /** Setpoint adjustment type (compat numbering, high nibble). */
  readonly satCode: number;
  readonly footpad: FootpadCompat;
  readonly handtest: boolean;
  /** Last beep reason (0 none, 1 low voltage, … 10 error). */
  readonly beepReason: number;
  /** Footpad sensor voltages, V (0.02 V steps). */
  readonly adcLeftV: number;
  readonly adcRightV: number;
  /** Setpoints, ° (0.2° steps). */
  readonly setpoint: number;
  readonly atrSetpoint: number;
  readonly brakeTiltSetpoint: number;
  readonly torqueTiltSetpoint: number;
  readonly turnTiltSetpoint: number;
  readonly remoteSetpoint: number;
  /** IMU pitch, °. */
  readonly pitch: number;
  /** Booster current, A. */
  readonly boosterCurrent: number;
  /** Battery voltage, V. */
  readonly batteryVoltage: number;
  readonly erpm: number;
  /** Speed, m/s. */
  readonly speedMps: number;
  /** Motor current, A. */
  readonly motorCurrent: number;
  /** Battery current, A. */
  readonly batteryCurrent: number;
  /** Duty cycle, fraction (1 % steps). */
  readonly dutyCycle: number;
  /** |FOC d-axis current|, A (1/3 A steps); undefined when the firmware has none (222). */
  readonly focId?: number;
  /** Mode ≥ 2: absolute trip distance, m; temperatures, °C (0.5 °C steps, clamped at 0). */
  readonly distanceAbsM?: number;
  readonly tempMosfet?: number;
  readonly tempMotor?: number;
  /** Mode ≥ 3: odometer, m; Ah and Wh used and charged; battery level, % (0.5 % steps). */
  readonly odometerM?: number;
  readonly ampHours?: number;
  readonly ampHoursCharged?: number;
  readonly wattHours?: number;
  readonly wattHoursCharged?: number;
  readonly batteryPercent?: number;
  /** Mode ≥ 4: charger current, A, and voltage, V. */
  readonly chargingCurrent?: number;
  readonly chargingVoltage?: number;
}

/** GET_ALLDATA while the controller has a fault: only the fault code is sent. */
export interface BalanceAllDataFault {
  readonly fault: number;
  readonly faultName: string;
}

/** Refloat ≥ 1.3 package state (state_flags bits 24–25). */
export type RefloatState = "disabled" | "startup" | "ready" | "running";
/** Refloat footpad state (state_flags bits 22–23). */
export type RefloatFootpad = "none" | "left" | "right" | "both";
/** Refloat mode (state_flags bits 28–29). */
export type RefloatMode = "normal" | "handtest" | "flywheel" | "unknown";

/** REALTIME_DATA state_flags, unpacked. */
export interface RefloatStateFlags {
  readonly mode: RefloatMode;
  readonly state: RefloatState;
  readonly footpad: RefloatFootpad;
  readonly charging: boolean;
  readonly fatalError: boolean;
  readonly darkride: boolean;
  readonly wheelslip: boolean;
  /** Setpoint adjustment type (Refloat numbering). */
  readonly sat: number;
  /** Why the board stopped (0 none, 1 pitch, 2 roll, 3/4 switch half/full, 5 reverse stop, 6 quickstop). */
  readonly stopCondition: number;
  readonly beepReason: number;
}

/** The REALTIME_DATA (33) fields, named as Refloat's REALTIME_DATA.md names them. */
export interface RefloatRealtimeValues {
  /** Bit 0: data recording active etc. */
  extraFlags?: number;
  /** Bit 1. */
  stateFlags?: RefloatStateFlags;
  /** km/h as Refloat sends it (its one non-SI unit). */
  speedKmh?: number;
  erpm?: number;
  /** Motor current, A. */
  current?: number;
  dirCurrent?: number;
  filtCurrent?: number;
  dutyCycle?: number;
  /** V. */
  batteryVoltage?: number;
  /** A. */
  batteryCurrent?: number;
  /** Fraction 0…1. */
  batterySoc?: number;
  /** °C. */
  mosfetTemp?: number;
  motorTemp?: number;
  /** °. */
  pitch?: number;
  balancePitch?: number;
  roll?: number;
  /** Footpad sensor voltages, V. */
  adcLeftV?: number;
  adcRightV?: number;
  remoteInput?: number;
  setpoint?: number;
  atrSetpoint?: number;
  brakeTiltSetpoint?: number;
  torqueTiltSetpoint?: number;
  turnTiltSetpoint?: number;
  remoteSetpoint?: number;
  balanceCurrent?: number;
  /** Hz. */
  loopFrequency?: number;
  /** mask2: lifetime distance, m. */
  odometerM?: number;
  /** Ride absolute distance, m. */
  distanceAbsM?: number;
  /** Charger voltage, V, and current, A. */
  chargingVoltage?: number;
  chargingCurrent?: number;
  ampHours?: number;
  ampHoursCharged?: number;
  wattHours?: number;
  wattHoursCharged?: number;
  /** FOC d-axis current, A. */
  motorId?: number;
  /** GNSS position (privacy-sensitive: request only on purpose), °. */
  gnssLat?: number;
  gnssLon?: number;
  /** m. */
  gnssAltitude?: number;
  /** km/h. */
  gnssSpeedKmh?: number;
  gnssHdop?: number;
  /** Ticks. */
  gnssLastUpdate?: number;
}

/** A REALTIME_DATA reply: the echoed request header, the tick timestamp and the values. */
export interface RefloatRealtime {
  /** 0x1: values are float32 (else Refloat's float16). */
  readonly controlFlags: number;
  readonly mask1: number;
  readonly mask2: number;
  /** Ticks (see tickRateHz of COMMAND_INFO v2). */
  readonly time: number;
  readonly values: RefloatRealtimeValues;
}

/** One ALERTS_LIST log entry: an alert becoming active or ending. */
export interface RefloatAlertRecord {
  /** Ticks (see tickRateHz). */
  readonly time: number;
  /** Alert id: 1 = ALERT_FW_FAULT. */
  readonly id: number;
  readonly active: boolean;
  /** The firmware fault code for ALERT_FW_FAULT, else 0. */
  readonly code: number;
  /** The fault's name without "FAULT_CODE_", when code ≠ 0. */
  readonly faultName?: string;
}

/** COMMAND_ALERTS_LIST (35), Refloat ≥ 1.2: active alerts and the recent alert log. */
export interface RefloatAlerts {
  /** Bit id − 1 set for each alert active now (ALERT_FW_FAULT = bit 0). */
  readonly activeMask: number;
  /** The next 32 alert ids (always 0 so far). */
  readonly activeMask2: number;
  /** The firmware fault behind an active ALERT_FW_FAULT, else 0. */
  readonly fwFaultCode: number;
  readonly fwFaultName?: string;
  readonly log: readonly RefloatAlertRecord[];
}
