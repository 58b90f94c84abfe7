/**
 * Pure: a motor node's ride telemetry as the bridge publishes it. The balance package's
 * REALTIME_DATA (Refloat ≥ 1.3) or GET_ALLDATA becomes a RefloatReading (rider units, each
 * pad's state), and the setup
 * values plus the package's data become the RideReading a dashboard shows (km/h or mph, km,
 * Wh/km). Nothing here talks to a device.
 */
import type {
  BalanceAllData,
  BalanceAllDataFault,
  BalancePackageInfo,
  BalanceRunState,
  ImuValues,
  RefloatRealtimeValues,
  SetupValues,
} from "./ride.js";
import type { RefloatReading, RideReading, RideState } from "./reading.js";

/** m/s → km/h and mph; m → km. */
const KMH_PER_MPS = 3.6;
const MPH_PER_MPS = 3.6 / 1.609344;
/** Below this trip distance an energy-per-distance figure is noise. */
const MIN_TRIP_FOR_WH_PER_KM_M = 100;

/** "Refloat 1.2.3", "Refloat 1.3.0-beta2", "Float 2.0" (a v1 INFO has no name). */
export function packageName(info: BalancePackageInfo): string {
  if (info.infoVersion === 1) return `Float ${Math.floor(info.majorMinor / 10)}.${info.majorMinor % 10}`;
  const suffix = info.suffix ? `-${info.suffix}` : "";
  return `${info.name || "Refloat"} ${info.major}.${info.minor}.${info.patch}${suffix}`;
}

/** The Float-compatible run state, summarised for a rider. */
export function rideStateOf(state: BalanceRunState): RideState {
  if (state.startsWith("running")) return "riding";
  if (state.startsWith("idle")) return "idle";
  if (state === "charging") return "charging";
  return state === "startup" ? "startup" : "disabled";
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A GET_ALLDATA reply (or its fault form) as published. */
export function toRefloatReading(pkg: string, d: BalanceAllData | BalanceAllDataFault): RefloatReading {
  if ("fault" in d) return { package: pkg, rideState: "fault", fault: d.faultName };
  // The compat byte counts pads; with one pressed, the pad whose sensor reads higher is it.
  const one = d.footpad === "one";
  const left = d.footpad === "both" || (one && d.adcLeftV >= d.adcRightV);
  const right = d.footpad === "both" || (one && d.adcRightV > d.adcLeftV);
  return {
    package: pkg,
    rideState: rideStateOf(d.state),
    state: d.state,
    footpad: d.footpad,
    footpadLeft: left,
    footpadRight: right,
    adcLeftV: round(d.adcLeftV, 2),
    adcRightV: round(d.adcRightV, 2),
    pitch: d.pitch,
    roll: d.roll,
    speedMps: d.speedMps,
    batteryVoltage: d.batteryVoltage,
    batteryCurrent: d.batteryCurrent,
    motorCurrent: d.motorCurrent,
    ...(d.batteryPercent !== undefined ? { batteryPercent: d.batteryPercent } : {}),
    ...(d.odometerM !== undefined ? { odometerM: d.odometerM } : {}),
    ...(d.distanceAbsM !== undefined ? { distanceAbsM: d.distanceAbsM } : {}),
    ...(d.chargingVoltage !== undefined ? { chargingVoltage: d.chargingVoltage } : {}),
    ...(d.chargingCurrent !== undefined ? { chargingCurrent: d.chargingCurrent } : {}),
    charging: d.state === "charging",
  };
}

/** Refloat ≥ 1.3 can say what REALTIME_DATA carries; older packages only GET_ALLDATA. */
export function hasRealtimeData(info: BalancePackageInfo): boolean {
  return info.infoVersion === 2 && (info.major > 1 || (info.major === 1 && info.minor >= 3));
}

/** The REALTIME_DATA fields read (Refloat ≥ 1.3): each footpad exactly, the charging flag. */
export const REALTIME_FIELDS: readonly (keyof RefloatRealtimeValues)[] = [
  "stateFlags",
  "speedKmh",
  "current",
  "batteryVoltage",
  "batteryCurrent",
  "batterySoc",
  "pitch",
  "roll",
  "adcLeftV",
  "adcRightV",
  "odometerM",
  "distanceAbsM",
  "chargingVoltage",
  "chargingCurrent",
];

/** A REALTIME_DATA reply as published: Refloat's own state and footpad bits, no guessing. */
export function refloatFromRealtime(pkg: string, v: RefloatRealtimeValues): RefloatReading {
  const f = v.stateFlags;
  const rideState: RideState = !f
    ? "idle"
    : f.fatalError
      ? "fault"
      : f.charging
        ? "charging"
        : f.state === "running"
          ? "riding"
          : f.state === "ready"
            ? "idle"
            : f.state;
  const opt = <K extends string, T>(k: K, x: T | undefined) => (x === undefined ? {} : { [k]: x });
  return {
    package: pkg,
    rideState,
    ...(f
      ? {
          footpad: f.footpad === "both" ? "both" : f.footpad === "none" ? "none" : "one",
          footpadLeft: f.footpad === "left" || f.footpad === "both",
          footpadRight: f.footpad === "right" || f.footpad === "both",
          charging: f.charging,
        }
      : {}),
    ...opt("adcLeftV", v.adcLeftV === undefined ? undefined : round(v.adcLeftV, 2)),
    ...opt("adcRightV", v.adcRightV === undefined ? undefined : round(v.adcRightV, 2)),
    ...opt("pitch", v.pitch),
    ...opt("roll", v.roll),
    ...opt("speedMps", v.speedKmh === undefined ? undefined : v.speedKmh / 3.6),
    ...opt("batteryVoltage", v.batteryVoltage),
    ...opt("batteryCurrent", v.batteryCurrent),
    ...opt("motorCurrent", v.current),
    ...opt("batteryPercent", v.batterySoc === undefined ? undefined : round(v.batterySoc * 100, 1)),
    ...opt("odometerM", v.odometerM),
    ...opt("distanceAbsM", v.distanceAbsM),
    ...opt("chargingVoltage", v.chargingVoltage),
    ...opt("chargingCurrent", v.chargingCurrent),
  };
}

const RAD_TO_DEG = 180 / Math.PI;

/**
 * The ride values from whatever the node sent: the controller's setup values first (its own
 * wheel configuration), the package's data where setup has nothing, the IMU for attitude
 * without a package. Undefined when there is nothing to derive from.
 */
export function deriveRide(
  parts: { setup?: SetupValues; refloat?: RefloatReading; imu?: ImuValues },
  speedUnit: "kmh" | "mph" = "kmh",
): RideReading | undefined {
  const { setup, refloat, imu } = parts;
  if (!setup && !refloat && !imu) return undefined;
  const out: { -readonly [K in keyof RideReading]: RideReading[K] } = {};
  const speedMps = setup?.speedMps ?? refloat?.speedMps;
  if (speedMps !== undefined) {
    const speed = Math.abs(speedMps);
    if (speedUnit === "mph") out.speedMph = round(speed * MPH_PER_MPS, 2);
    else out.speedKmh = round(speed * KMH_PER_MPS, 2);
  }
  const tripM = setup?.tripDistanceAbsM ?? refloat?.distanceAbsM;
  if (tripM !== undefined) out.tripKm = round(tripM / 1000, 3);
  const odometerM = setup?.odometerM ?? refloat?.odometerM;
  if (odometerM !== undefined) out.odometerKm = round(odometerM / 1000, 3);
  const level = setup?.batteryLevel !== undefined ? setup.batteryLevel * 100 : refloat?.batteryPercent;
  if (level !== undefined) out.batteryPercent = round(level, 1);
  if (setup?.wattHoursLeft !== undefined) out.wattHoursLeft = round(setup.wattHoursLeft, 1);
  if (setup?.wattHoursTotal !== undefined && setup.tripDistanceAbsM !== undefined) {
    const net = setup.wattHoursTotal - (setup.wattHoursChargedTotal ?? 0);
    out.whPerKm =
      setup.tripDistanceAbsM >= MIN_TRIP_FOR_WH_PER_KM_M
        ? round(net / (setup.tripDistanceAbsM / 1000), 1)
        : null;
  }
  if (refloat) {
    out.state = refloat.rideState;
    if (refloat.footpadLeft !== undefined) out.footpadLeft = refloat.footpadLeft;
    if (refloat.footpadRight !== undefined) out.footpadRight = refloat.footpadRight;
    if (refloat.charging !== undefined) out.charging = refloat.charging;
  }
  const pitch = refloat?.pitch ?? (imu?.pitch !== undefined ? imu.pitch * RAD_TO_DEG : undefined);
  const roll = refloat?.roll ?? (imu?.roll !== undefined ? imu.roll * RAD_TO_DEG : undefined);
  if (pitch !== undefined) out.pitch = round(pitch, 1);
  if (roll !== undefined) out.roll = round(roll, 1);
  return out;
}
