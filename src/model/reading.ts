/**
 * The reading model: what one poll of a device yields, in the field names of the JSON
 * contract (docs/cli.md "JSON output"). Every sink (MQTT/HA, web, history, metrics, alerts) consumes
 * these types; nothing here knows about bytes or sockets.
 * Units: volts, amps, °C, Ah, Wh, Pa, percent (soc/soh/humidity), seconds unless named.
 */
import type {
  BalanceRunState,
  BatteryCut,
  FootpadCompat,
  ImuValues,
  RideStats,
  SetupValues,
} from "./ride.js";
import type { BatteryEstimate } from "../battery/battery.js";

/** Identity of a device as told by its COMM_FW_VERSION reply. */
export interface DeviceInfo {
  /** "6.05": major.minor, the minor always two digits (as VESC Tool shows it). */
  readonly firmware: string;
  /** Hardware name, e.g. "VESC Express T". */
  readonly hardware: string;
  /** 12-byte UUID as 24 lower-case hex chars (Express: 6-byte MAC + 6 zero bytes). */
  readonly uuid: string;
  /** CAN id this device was reached through (absent for the directly connected device). */
  readonly canId?: number;
  /** HW_TYPE enum: 0 VESC, 1 VESC BMS, 2 custom module (Express). */
  readonly hwType?: number;
  /** Firmware name set by a Lisp script, when non-empty. */
  readonly fwName?: string;
  /** Beta/test build number, 0 for a release. */
  readonly testVersion?: number;
}

/** min/max/average/delta over the cells; cell numbers are 1-based; ties take the lowest number. */
export interface CellStats {
  readonly cellMin: number;
  readonly cellMinNumber: number;
  readonly cellMax: number;
  readonly cellMaxNumber: number;
  readonly cellAverage: number;
  readonly cellDelta: number;
}

/** COMM_BMS_GET_VALUES decoded. Optional fields are omitted when the firmware does not send them. */
export interface BmsValues {
  readonly packVoltage: number;
  readonly chargeVoltage: number;
  /** i_in: pack current, A (positive = charging, as the BMS reports it). */
  readonly current: number;
  /** i_in_ic: the current the BMS IC measures, A (what VESC Tool's power uses). */
  readonly currentIc: number;
  readonly ampHours: number;
  readonly wattHours: number;
  /** Cell voltages, V; index 0 is cell 1. */
  readonly cells: readonly number[];
  readonly balancing: readonly boolean[];
  /**
   * Temperature slots, °C, as sent. data_version 1: 0 IC, 1 cell min, 2 cell max, 3 MOSFET,
   * 4 ambient, ≤ −280 = not applicable (protocol/commands/bmsTemperatures.ts).
   */
  readonly temperatures: readonly number[];
  readonly icTemperature: number;
  readonly humidityTemperature: number;
  /** %RH */
  readonly humidity: number;
  readonly maxCellTemperature: number;
  /** percent 0–100 */
  readonly soc?: number;
  /** percent 0–100 */
  readonly soh?: number;
  /** CAN id of the BMS; 255 = none heard yet. */
  readonly canId?: number;
  readonly ampHoursChargedTotal?: number;
  readonly wattHoursChargedTotal?: number;
  readonly ampHoursDischargedTotal?: number;
  readonly wattHoursDischargedTotal?: number;
  /** Pa */
  readonly pressure?: number;
  readonly dataVersion?: number;
  readonly status?: string;
}

/**
 * The BMS part of a reading: the values as the BMS sent them (BmsValues), except that a value
 * outside generous physical limits (model/plausibility.ts) and a "not applicable" temperature
 * are null: JSON null, never a number. A field the firmware did not send stays absent.
 */
export interface BmsReading {
  readonly packVoltage: number | null;
  readonly chargeVoltage: number | null;
  /** i_in as sent (see packCurrent for the headline current). */
  readonly current: number | null;
  /** i_in_ic as sent. */
  readonly currentIc: number | null;
  /**
   * The current the BMS actually measures, A: currentIc, unless that is 0 while current is
   * not (then current). The real Express sends i_in = 0 and measures only i_in_ic.
   */
  readonly packCurrent: number | null;
  /** packVoltage × packCurrent, W (VESC Tool shows i_in_ic × v_tot). */
  readonly packPower: number | null;
  readonly ampHours: number | null;
  readonly wattHours: number | null;
  /** Cell voltages, V; index 0 is cell 1; null = implausible. */
  readonly cells: readonly (number | null)[];
  readonly balancing: readonly boolean[];
  /** Temperature slots, °C (see BmsValues); null = not applicable or implausible. */
  readonly temperatures: readonly (number | null)[];
  readonly icTemperature: number | null;
  readonly humidityTemperature: number | null;
  /** %RH */
  readonly humidity: number | null;
  readonly maxCellTemperature: number | null;
  /** percent 0–100 */
  readonly soc?: number | null;
  /** percent 0–100 */
  readonly soh?: number | null;
  /** CAN id of the BMS; 255 = none heard yet. */
  readonly canId?: number;
  readonly ampHoursChargedTotal?: number | null;
  readonly wattHoursChargedTotal?: number | null;
  readonly ampHoursDischargedTotal?: number | null;
  readonly wattHoursDischargedTotal?: number | null;
  /** Pa */
  readonly pressure?: number | null;
  readonly dataVersion?: number;
  readonly status?: string;
  /** Absent when the BMS reports no plausible cell. */
  readonly stats?: CellStats;
  /** Fields of this reply that were implausible and so are null ("cells[3]", "packVoltage"); absent when none. */
  readonly implausible?: readonly string[];
  /** Set by the bridge from the readings so far (src/model/sensorHealth.ts, docs/home-assistant.md). */
  readonly fitted?: BmsHealth["fitted"];
  readonly stuck?: BmsHealth["stuck"];
  readonly unverified?: BmsHealth["unverified"];
  readonly stale?: boolean;
  /** Set by the bridge for the device's own BMS: its battery estimates (src/battery/, docs/battery.md). */
  readonly battery?: BatteryReading;
}

/** The bridge's battery estimates as published: BatteryEstimate without its time (the reading has one). */
export type BatteryReading = Omit<BatteryEstimate, "timeMs"> & {
  /** The highest of cellResistanceOhm, Ω; null while none is known. */
  readonly maxCellResistanceOhm: number | null;
  /** The cellDriftV farthest from 0 (signed), V; null while none is known. */
  readonly maxCellDriftV: number | null;
};

/** The bridge's verdict on a BMS's sensors; sensor numbers are 1-based, as shown to users. */
export interface BmsHealth {
  /** Sensors known to be measured: reported a plausible non-zero value at least once. */
  readonly fitted: { readonly temperatures: readonly number[]; readonly soc: boolean; readonly soh: boolean };
  /** Fitted temperature sensors whose value has not moved while a sibling's did. */
  readonly stuck: { readonly temperatures: readonly number[] };
  /** Fitted temperature sensors not yet seen to change, younger than the stuck rule: alerts wait for them. */
  readonly unverified: { readonly temperatures: readonly number[] };
  /** The whole BMS reply has not changed for the configured time: the Express repeats its cache. */
  readonly stale: boolean;
}

/** COMM_GET_VALUES / COMM_GET_VALUES_SELECTIVE decoded (motor controller). Fields a mask left out are absent. */
export interface MotorValues {
  readonly tempFet?: number;
  readonly tempMotor?: number;
  readonly currentMotor?: number;
  readonly currentInput?: number;
  readonly currentD?: number;
  readonly currentQ?: number;
  /** fraction −1..1 */
  readonly dutyCycle?: number;
  /** electrical RPM */
  readonly erpm?: number;
  readonly inputVoltage?: number;
  readonly ampHours?: number;
  readonly ampHoursCharged?: number;
  readonly wattHours?: number;
  readonly wattHoursCharged?: number;
  readonly tachometer?: number;
  readonly tachometerAbs?: number;
  /** mc_fault_code number */
  readonly fault?: number;
  /** mc_fault_code name, e.g. "FAULT_CODE_NONE" */
  readonly faultName?: string;
  /** degrees */
  readonly pidPosition?: number;
  readonly controllerId?: number;
  readonly tempMos1?: number;
  readonly tempMos2?: number;
  readonly tempMos3?: number;
  readonly voltageD?: number;
  readonly voltageQ?: number;
  /** bit0 has_timeout, bit1 kill switch active */
  readonly status?: number;
}

export type CanNodeKind = "bms" | "motor";

/** What a CAN motor node is read for (config `groups`; docs/ride.md). */
export type CanReadGroup = "values" | "setup" | "stats" | "refloat" | "imu" | "battery_cut";

/**
 * The balance package's view of the board (Float or Refloat, COMMAND_GET_ALLDATA), in the
 * units a rider reads: °, V, A, m/s. A fault reply sets only `package`, `rideState` and `fault`.
 */
export interface RefloatReading {
  /** "Refloat 1.2.3", "Float 2.0". */
  readonly package: string;
  /** riding, idle, charging, startup, disabled or fault (the package's run state, summarised). */
  readonly rideState: RideState;
  /** The Float-compatible run state, e.g. "idle_switch_full" (absent in a fault reply). */
  readonly state?: BalanceRunState;
  /** Pads pressed: none, one or both. */
  readonly footpad?: FootpadCompat;
  /** Each pad: exact for none/both; for "one", the pad whose sensor reads higher. */
  readonly footpadLeft?: boolean;
  readonly footpadRight?: boolean;
  /** Footpad sensor voltages, V. */
  readonly adcLeftV?: number;
  readonly adcRightV?: number;
  /** °. */
  readonly pitch?: number;
  readonly roll?: number;
  /** m/s. */
  readonly speedMps?: number;
  readonly batteryVoltage?: number;
  readonly batteryCurrent?: number;
  readonly motorCurrent?: number;
  /** Percent 0–100 (the package's estimate from the voltage). */
  readonly batteryPercent?: number;
  readonly odometerM?: number;
  readonly distanceAbsM?: number;
  /** Charger, V and A (0 without one). */
  readonly chargingVoltage?: number;
  readonly chargingCurrent?: number;
  /** The package reports CHARGING (its own charge detection). */
  readonly charging?: boolean;
  /** bldc fault name while the controller has a fault. */
  readonly fault?: string;
}

export type RideState = "riding" | "idle" | "charging" | "startup" | "disabled" | "fault";

/**
 * The ride values a rider and Home Assistant use, derived by the bridge from the node's
 * setup values and balance package data (src/session/ride.ts): display units, km.
 */
export interface RideReading {
  /** Wheel speed (absolute), in the node's configured unit: exactly one of the two is set. */
  readonly speedKmh?: number;
  readonly speedMph?: number;
  /** Absolute trip distance since the controller booted, km. */
  readonly tripKm?: number;
  /** Lifetime distance, km. */
  readonly odometerKm?: number;
  /** Battery level, percent 0–100 (the controller's estimate). */
  readonly batteryPercent?: number;
  /** Energy left by the same estimate, Wh. */
  readonly wattHoursLeft?: number;
  /** Net energy per distance over the trip, Wh/km; null until 100 m were ridden. */
  readonly whPerKm?: number | null;
  readonly state?: RideState;
  readonly footpadLeft?: boolean;
  readonly footpadRight?: boolean;
  /** °. */
  readonly pitch?: number;
  readonly roll?: number;
  /** The balance package's charge detection (for a pack whose BMS reports none). */
  readonly charging?: boolean;
}

/** One CAN node read through COMM_FORWARD_CAN, only for ids the user listed. */
export interface CanNodeReading {
  readonly canId: number;
  readonly kind: CanNodeKind;
  readonly device?: DeviceInfo;
  readonly bms?: BmsReading;
  readonly values?: MotorValues;
  /** Ride telemetry (docs/ride.md); each group only when configured and the firmware has it. */
  readonly setup?: SetupValues;
  readonly stats?: RideStats;
  readonly imu?: ImuValues;
  readonly batteryCut?: BatteryCut;
  readonly refloat?: RefloatReading;
  /** Derived from setup and refloat. */
  readonly ride?: RideReading;
  /** Set when this node did not answer this poll; the other fields are then absent. */
  readonly error?: string;
}

/** One poll of one configured device. */
export interface Reading {
  /** Configured device id (slug, [a-z0-9_-]), stable across restarts. */
  readonly deviceId: string;
  /** ISO-8601 UTC time the reading completed. */
  readonly time: string;
  readonly device: DeviceInfo;
  readonly bms?: BmsReading;
  /** Keyed by CAN id as a decimal string. */
  readonly can?: Readonly<Record<string, CanNodeReading>>;
  /** Round-trip time of this poll, ms. */
  readonly latencyMs?: number;
}

/** Link state of one configured device, as the poller sees it. */
export type LinkState = "connecting" | "online" | "stale" | "offline" | "yielded";

export interface DeviceStatus {
  readonly deviceId: string;
  readonly link: LinkState;
  /** Transport URL without secrets, e.g. "hub://127.0.0.1:65101/express1". */
  readonly url: string;
  readonly reconnects: number;
  readonly lastError?: string;
  /** ISO time of the last good reading. */
  readonly lastReadingTime?: string;
  /** Counters from the frame decoder of the current and past connections. */
  readonly crcErrors: number;
  readonly discardedBytes: number;
  readonly framesReceived: number;
  /** BMS values (own and CAN nodes) published as null because they were implausible, since start. */
  readonly implausibleValues?: number;
  /** Set by the bridge: the device's BMS reply has been frozen for the configured time (src/model/sensorHealth.ts). */
  readonly bmsStale?: boolean;
}
