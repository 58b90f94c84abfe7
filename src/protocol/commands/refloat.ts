/**
 * COMM_CUSTOM_APP_DATA (36) for the Refloat and Float balance packages: payload
 * `[36, 101 (package id), command, ...]`, request and reply alike; it works through
 * COMM_FORWARD_CAN. Layouts per lukash/refloat `src/main.c` and vedderb/vesc_pkg
 * `float/float/float.c`:
 * - COMMAND_INFO (0): v1 reply `[major·10+minor, build, led type]` (Float, Refloat 1.0, which
 *   ignore the requested version); v2 reply (Refloat ≥ 1.1) starts with its version byte 2.
 * - COMMAND_GET_ALLDATA (10, Float and every Refloat): fixed fields by mode 1–4, or `[69, fault]`
 *   while the controller has a fault.
 * - COMMAND_REALTIME_DATA (33, Refloat ≥ 1.3): masked fields as Refloat's float16 or float32.
 * - COMMAND_ALERTS_LIST (35, Refloat ≥ 1.2): active alert mask and the alert log.
 */
import type {
  BalanceAllData,
  BalanceAllDataFault,
  BalancePackageInfo,
  BalanceRunState,
  FootpadCompat,
  RefloatFootpad,
  RefloatAlertRecord,
  RefloatAlerts,
  RefloatMode,
  RefloatRealtime,
  RefloatRealtimeValues,
  RefloatState,
  RefloatStateFlags,
} from "../../model/ride.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { type CommandCodec, expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";
import { ProtocolError } from "../errors.js";
import { faultCodeName } from "../faultCode.js";

/** The package interface id of Float and Refloat ("magic"). */
export const BALANCE_PACKAGE_ID = 101;

export enum BalanceCommand {
  Info = 0,
  GetRtData = 1,
  GetAllData = 10,
  RealtimeData = 33,
  AlertsList = 35,
}

/** GET_ALLDATA's marker in place of the mode byte while the controller has a fault. */
const ALLDATA_FAULT_MARKER = 69;
/** GET_ALLDATA's FOC d-current byte when the firmware exposes none. */
const ALLDATA_NO_FOC_ID = 222;
const FIXED_STRING_BYTES = 20;

function header(command: BalanceCommand): ByteWriter {
  return new ByteWriter().uint8(CommandId.CustomAppData).uint8(BALANCE_PACKAGE_ID).uint8(command);
}

function expectHeader(r: ByteReader, command: BalanceCommand, name: string): void {
  expectCommand(r, CommandId.CustomAppData, "COMM_CUSTOM_APP_DATA");
  const pkg = r.uint8("package id");
  if (pkg !== BALANCE_PACKAGE_ID) {
    throw new ProtocolError("UnexpectedCommand", `${name}: package id ${pkg}, not ${BALANCE_PACKAGE_ID}`);
  }
  const got = r.uint8("package command");
  if (got !== command)
    throw new ProtocolError("UnexpectedCommand", `expected ${name} (${command}), got ${got}`);
}

// ---------------------------------------------------------------------------------------
// Refloat float16: IEEE half layout without NaN/Inf (exponent 31 is a normal number).

/** Refloat `to_float16` (src/conf/buffer.c): round to nearest, saturate at ±131008. */
export function toRefloatFloat16(x: number): number {
  const f = new DataView(new ArrayBuffer(4));
  f.setFloat32(0, x);
  const b = (f.getUint32(0) + 0x1000) >>> 0;
  const e = (b & 0x7f800000) >>> 23;
  const m = b & 0x007fffff;
  const normal = e > 112 ? (((e - 112) << 10) & 0x7c00) | (m >>> 13) : 0;
  const subnormal = e < 113 && e > 101 ? (((0x007ff000 + m) >>> (125 - e)) + 1) >>> 1 : 0;
  const saturate = e > 143 ? 0x7fff : 0;
  return ((b & 0x80000000) >>> 16) | normal | subnormal | saturate;
}

export function fromRefloatFloat16(n: number): number {
  const e = (n >>> 10) & 0x1f;
  const m = n & 0x3ff;
  const magnitude = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
  return n & 0x8000 ? -magnitude : magnitude;
}

// ---------------------------------------------------------------------------------------
// COMMAND_INFO

export interface InfoRequest {
  /** Requested INFO version (default 2); v1-only packages answer v1 anyway. */
  readonly version?: number;
  readonly flags?: number;
}

function readFixedString(r: ByteReader, what: string): string {
  const bytes = r.bytesN(FIXED_STRING_BYTES, what);
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
}

function writeFixedString(w: ByteWriter, s: string): void {
  const out = new Uint8Array(FIXED_STRING_BYTES);
  out.set(new TextEncoder().encode(s).subarray(0, FIXED_STRING_BYTES));
  w.bytes(out);
}

export function decodeBalanceInfo(payload: Uint8Array): BalancePackageInfo {
  const r = new ByteReader(payload);
  expectHeader(r, BalanceCommand.Info, "COMMAND_INFO");
  const first = r.uint8("info version");
  if (first === 2) {
    const flags = r.uint8("flags");
    const name = readFixedString(r, "package name");
    const major = r.uint8("major");
    const minor = r.uint8("minor");
    const patch = r.uint8("patch");
    const suffix = readFixedString(r, "version suffix");
    const gitHash = r.uint32("git hash");
    const tickRateHz = r.uint32("tick rate");
    const capabilities = r.uint32("capabilities");
    const extraFlags = r.uint8("extra flags");
    return {
      infoVersion: 2,
      flags,
      name,
      major,
      minor,
      patch,
      suffix,
      gitHash,
      tickRateHz,
      capabilities,
      extraFlags,
    };
  }
  // v1 has no version byte: its first byte is major·10 + minor, always ≥ 10.
  if (first < 10)
    throw new ProtocolError("InvalidPayload", `COMMAND_INFO: unsupported info version ${first}`);
  const build = r.uint8("build");
  const ledType = r.uint8("led type");
  return { infoVersion: 1, majorMinor: first, build, ledType };
}

export function encodeBalanceInfoResponse(info: BalancePackageInfo): Uint8Array {
  const w = header(BalanceCommand.Info);
  if (info.infoVersion === 1) return w.uint8(info.majorMinor).uint8(info.build).uint8(info.ledType).finish();
  w.uint8(2).uint8(info.flags);
  writeFixedString(w, info.name);
  w.uint8(info.major).uint8(info.minor).uint8(info.patch);
  writeFixedString(w, info.suffix);
  return w
    .uint32(info.gitHash >>> 0)
    .uint32(info.tickRateHz >>> 0)
    .uint32(info.capabilities >>> 0)
    .uint8(info.extraFlags)
    .finish();
}

export const balanceInfo: CommandCodec<InfoRequest, BalancePackageInfo> = {
  id: CommandId.CustomAppData,
  name: "COMM_CUSTOM_APP_DATA COMMAND_INFO",
  encodeRequest: (req) =>
    header(BalanceCommand.Info)
      .uint8(req.version ?? 2)
      .uint8(req.flags ?? 0)
      .finish(),
  decodeRequest: (payload) => {
    const r = new ByteReader(payload);
    expectHeader(r, BalanceCommand.Info, "COMMAND_INFO");
    // Refloat: no version byte means version 1; the flags only count for version 2.
    const version = r.remaining > 0 ? r.uint8("version") : 1;
    const flags = version === 2 && r.remaining > 0 ? r.uint8("flags") : 0;
    return { version, flags };
  },
  encodeResponse: encodeBalanceInfoResponse,
  decodeResponse: decodeBalanceInfo,
};

// ---------------------------------------------------------------------------------------
// COMMAND_GET_ALLDATA

const RUN_STATES: readonly BalanceRunState[] = [
  "startup",
  "running",
  "running_tiltback",
  "running_wheelslip",
  "running_upsidedown",
  "running_flywheel",
  "idle_pitch",
  "idle_roll",
  "idle_switch_half",
  "idle_switch_full",
  "idle_duty",
  "idle_startup",
  "idle_reverse",
  "idle_quickstop",
  "charging",
  "disabled",
];
const FOOTPAD_COMPAT: readonly FootpadCompat[] = ["none", "one", "both"];

/** The name of a Float-compatible state code (0–15). */
export function balanceRunState(code: number): BalanceRunState {
  return RUN_STATES[code & 0xf] as BalanceRunState;
}

export type AllDataReply = BalanceAllData | BalanceAllDataFault;

export function isAllDataFault(reply: AllDataReply): reply is BalanceAllDataFault {
  return "fault" in reply;
}

/** A byte the package computed as `value * scale + offset` (C float → uint8 conversion). */
const unbias = (byte: number, scale: number, offset: number): number => (byte - offset) / scale;

export function decodeBalanceAllData(payload: Uint8Array): AllDataReply {
  const r = new ByteReader(payload);
  expectHeader(r, BalanceCommand.GetAllData, "COMMAND_GET_ALLDATA");
  const mode = r.uint8("mode");
  if (mode === ALLDATA_FAULT_MARKER) {
    const fault = r.uint8("fault");
    return { fault, faultName: faultCodeName(fault) };
  }
  const balanceCurrent = r.float16(10, "balance current");
  const balancePitch = r.float16(10, "balance pitch");
  const roll = r.float16(10, "roll");
  const stateByte = r.uint8("state");
  const switchByte = r.uint8("switch state");
  const footpad = FOOTPAD_COMPAT[switchByte & 0x7];
  if (footpad === undefined) {
    throw new ProtocolError("InvalidPayload", `COMMAND_GET_ALLDATA: footpad state ${switchByte & 0x7}`);
  }
  const base = {
    mode,
    balanceCurrent,
    balancePitch,
    roll,
    stateCode: stateByte & 0xf,
    state: balanceRunState(stateByte),
    satCode: stateByte >>> 4,
    footpad,
    handtest: (switchByte & 0x8) !== 0,
    beepReason: switchByte >>> 4,
    adcLeftV: r.uint8("adc left") / 50,
    adcRightV: r.uint8("adc right") / 50,
    setpoint: unbias(r.uint8("setpoint"), 5, 128),
    atrSetpoint: unbias(r.uint8("atr setpoint"), 5, 128),
    brakeTiltSetpoint: unbias(r.uint8("brake tilt setpoint"), 5, 128),
    torqueTiltSetpoint: unbias(r.uint8("torque tilt setpoint"), 5, 128),
    turnTiltSetpoint: unbias(r.uint8("turn tilt setpoint"), 5, 128),
    remoteSetpoint: unbias(r.uint8("remote setpoint"), 5, 128),
    pitch: r.float16(10, "pitch"),
    boosterCurrent: r.uint8("booster current") - 128,
    batteryVoltage: r.float16(10, "battery voltage"),
    erpm: r.int16("erpm"),
    speedMps: r.float16(10, "speed"),
    motorCurrent: r.float16(10, "motor current"),
    batteryCurrent: r.float16(10, "battery current"),
    dutyCycle: unbias(r.uint8("duty"), 100, 128),
  };
  const focByte = r.uint8("foc id");
  let out: BalanceAllData = focByte === ALLDATA_NO_FOC_ID ? base : { ...base, focId: focByte / 3 };
  if (mode >= 2) {
    const distanceAbsM = r.float32Auto("distance abs");
    const tempMosfet = r.uint8("mosfet temp") / 2;
    const tempMotor = r.uint8("motor temp") / 2;
    r.uint8("battery temp (unused)");
    out = { ...out, distanceAbsM, tempMosfet, tempMotor };
  }
  if (mode >= 3) {
    out = {
      ...out,
      odometerM: r.uint32("odometer"),
      ampHours: r.float16(10, "amp hours"),
      ampHoursCharged: r.float16(10, "amp hours charged"),
      wattHours: r.float16(1, "watt hours"),
      wattHoursCharged: r.float16(1, "watt hours charged"),
      batteryPercent: r.uint8("battery level") / 2,
    };
  }
  if (mode >= 4) {
    out = {
      ...out,
      chargingCurrent: r.float16(10, "charging current"),
      chargingVoltage: r.float16(10, "charging voltage"),
    };
  }
  return out;
}

/**
 * `value * scale + offset` as a byte, rounded to the nearest step like the other codec
 * encoders (the simulator quantises like the package first) and clamped to 0…255.
 */
const biasedByte = (value: number, scale: number, offset: number): number =>
  Math.min(255, Math.max(0, Math.round(value * scale + offset)));

export function encodeBalanceAllDataResponse(reply: AllDataReply): Uint8Array {
  const w = header(BalanceCommand.GetAllData);
  if (isAllDataFault(reply)) return w.uint8(ALLDATA_FAULT_MARKER).uint8(reply.fault).finish();
  const d = reply;
  const stateCode = RUN_STATES.indexOf(d.state);
  w.uint8(d.mode)
    .float16(d.balanceCurrent, 10)
    .float16(d.balancePitch, 10)
    .float16(d.roll, 10)
    .uint8((stateCode & 0xf) | ((d.satCode & 0xf) << 4))
    .uint8(FOOTPAD_COMPAT.indexOf(d.footpad) | (d.handtest ? 0x8 : 0) | ((d.beepReason & 0xf) << 4))
    .uint8(biasedByte(d.adcLeftV, 50, 0))
    .uint8(biasedByte(d.adcRightV, 50, 0));
  for (const sp of [
    d.setpoint,
    d.atrSetpoint,
    d.brakeTiltSetpoint,
    d.torqueTiltSetpoint,
    d.turnTiltSetpoint,
    d.remoteSetpoint,
  ]) {
    w.uint8(biasedByte(sp, 5, 128));
  }
  w.float16(d.pitch, 10)
    .uint8(biasedByte(d.boosterCurrent, 1, 128))
    .float16(d.batteryVoltage, 10)
    .int16(Math.trunc(d.erpm))
    .float16(d.speedMps, 10)
    .float16(d.motorCurrent, 10)
    .float16(d.batteryCurrent, 10)
    .uint8(biasedByte(d.dutyCycle, 100, 128))
    .uint8(d.focId === undefined ? ALLDATA_NO_FOC_ID : biasedByte(Math.abs(d.focId), 3, 0));
  if (d.mode >= 2) {
    w.float32Auto(d.distanceAbsM ?? 0)
      .uint8(biasedByte(Math.max(0, d.tempMosfet ?? 0), 2, 0))
      .uint8(biasedByte(Math.max(0, d.tempMotor ?? 0), 2, 0))
      .uint8(0);
  }
  if (d.mode >= 3) {
    w.uint32(Math.trunc(d.odometerM ?? 0))
      .float16(d.ampHours ?? 0, 10)
      .float16(d.ampHoursCharged ?? 0, 10)
      .float16(d.wattHours ?? 0, 1)
      .float16(d.wattHoursCharged ?? 0, 1)
      .uint8(biasedByte(Math.max(0, Math.min(125, d.batteryPercent ?? 0)), 2, 0));
  }
  if (d.mode >= 4) w.float16(d.chargingCurrent ?? 0, 10).float16(d.chargingVoltage ?? 0, 10);
  return w.finish();
}

export const balanceAllData: CommandCodec<number, AllDataReply> = {
  id: CommandId.CustomAppData,
  name: "COMM_CUSTOM_APP_DATA COMMAND_GET_ALLDATA",
  encodeRequest: (mode) => header(BalanceCommand.GetAllData).uint8(mode).finish(),
  decodeRequest: (payload) => {
    const r = new ByteReader(payload);
    expectHeader(r, BalanceCommand.GetAllData, "COMMAND_GET_ALLDATA");
    const mode = r.uint8("mode");
    // The packages answer only a request of exactly 3 package bytes (`len == 3`).
    if (r.remaining !== 0) throw new ProtocolError("InvalidPayload", "COMMAND_GET_ALLDATA: request too long");
    return mode;
  },
  encodeResponse: encodeBalanceAllDataResponse,
  decodeResponse: decodeBalanceAllData,
};

// ---------------------------------------------------------------------------------------
// COMMAND_REALTIME_DATA

type Num = Exclude<keyof RefloatRealtimeValues, "stateFlags">;
type Wire = "num" | "u8" | "u32" | "f64" | "state";

interface RtField {
  readonly mask: 1 | 2;
  readonly bit: number;
  readonly field: keyof RefloatRealtimeValues;
  readonly wire: Wire;
}

const rt = (mask: 1 | 2, bit: number, field: keyof RefloatRealtimeValues, wire: Wire = "num"): RtField => ({
  mask,
  bit,
  field,
  wire,
});

/** In wire order (Refloat cmd_realtime_data): mask1 bits ascending, then mask2 bits ascending. */
export const REALTIME_LAYOUT: readonly RtField[] = [
  rt(1, 0, "extraFlags", "u8"),
  rt(1, 1, "stateFlags", "state"),
  rt(1, 6, "speedKmh"),
  rt(1, 7, "erpm"),
  rt(1, 8, "current"),
  rt(1, 9, "dirCurrent"),
  rt(1, 10, "filtCurrent"),
  rt(1, 11, "dutyCycle"),
  rt(1, 12, "batteryVoltage"),
  rt(1, 13, "batteryCurrent"),
  rt(1, 14, "batterySoc"),
  rt(1, 15, "mosfetTemp"),
  rt(1, 16, "motorTemp"),
  rt(1, 17, "pitch"),
  rt(1, 18, "balancePitch"),
  rt(1, 19, "roll"),
  rt(1, 20, "adcLeftV"),
  rt(1, 21, "adcRightV"),
  rt(1, 22, "remoteInput"),
  rt(1, 23, "setpoint"),
  rt(1, 24, "atrSetpoint"),
  rt(1, 25, "brakeTiltSetpoint"),
  rt(1, 26, "torqueTiltSetpoint"),
  rt(1, 27, "turnTiltSetpoint"),
  rt(1, 28, "remoteSetpoint"),
  rt(1, 29, "balanceCurrent"),
  rt(1, 30, "loopFrequency"),
  rt(2, 0, "odometerM", "u32"),
  rt(2, 1, "distanceAbsM"),
  rt(2, 2, "chargingVoltage"),
  rt(2, 3, "chargingCurrent"),
  rt(2, 4, "ampHours"),
  rt(2, 5, "ampHoursCharged"),
  rt(2, 6, "wattHours"),
  rt(2, 7, "wattHoursCharged"),
  rt(2, 8, "motorId"),
  rt(2, 9, "gnssLat", "f64"),
  rt(2, 10, "gnssLon", "f64"),
  rt(2, 11, "gnssAltitude"),
  rt(2, 12, "gnssSpeedKmh"),
  rt(2, 13, "gnssHdop"),
  rt(2, 14, "gnssLastUpdate", "u32"),
];

/** The GNSS fields came later within 1.3.0-beta1 (refloat 4d315dc): an earlier build omits them. */
const FIRST_OPTIONAL_MASK2_BIT = 9;
export const REALTIME_FLOAT32 = 0x1;

const MODES: readonly RefloatMode[] = ["normal", "handtest", "flywheel", "unknown"];
const STATES: readonly RefloatState[] = ["disabled", "startup", "ready", "running"];
const FOOTPADS: readonly RefloatFootpad[] = ["none", "left", "right", "both"];

export function decodeStateFlags(v: number): RefloatStateFlags {
  return {
    mode: MODES[(v >>> 28) & 3] as RefloatMode,
    state: STATES[(v >>> 24) & 3] as RefloatState,
    footpad: FOOTPADS[(v >>> 22) & 3] as RefloatFootpad,
    charging: ((v >>> 21) & 1) === 1,
    fatalError: ((v >>> 20) & 1) === 1,
    darkride: ((v >>> 17) & 1) === 1,
    wheelslip: ((v >>> 16) & 1) === 1,
    sat: (v >>> 12) & 0xf,
    stopCondition: (v >>> 8) & 0xf,
    beepReason: v & 0xff,
  };
}

/** Refloat encode_state_flags. */
export function encodeStateFlags(s: RefloatStateFlags): number {
  return (
    ((MODES.indexOf(s.mode) << 28) |
      (STATES.indexOf(s.state) << 24) |
      (FOOTPADS.indexOf(s.footpad) << 22) |
      (Number(s.charging) << 21) |
      (Number(s.fatalError) << 20) |
      (Number(s.darkride) << 17) |
      (Number(s.wheelslip) << 16) |
      ((s.sat & 0xf) << 12) |
      ((s.stopCondition & 0xf) << 8) |
      (s.beepReason & 0xff)) >>>
    0
  );
}

const wireSize = (wire: Wire, f32: boolean): number =>
  wire === "u8" ? 1 : wire === "f64" ? 8 : wire === "num" && !f32 ? 2 : 4;

export interface RealtimeRequest {
  readonly controlFlags: number;
  readonly mask1: number;
  readonly mask2: number;
}

export function decodeRefloatRealtime(payload: Uint8Array): RefloatRealtime {
  const r = new ByteReader(payload);
  expectHeader(r, BalanceCommand.RealtimeData, "COMMAND_REALTIME_DATA");
  const controlFlags = r.uint8("control flags");
  const mask1 = r.uint32("mask1");
  const mask2 = r.uint32("mask2");
  const time = r.uint32("time");
  const f32 = (controlFlags & REALTIME_FLOAT32) !== 0;
  const values: RefloatRealtimeValues = {};
  const out = values as Record<string, unknown>;
  for (const f of REALTIME_LAYOUT) {
    if (!(((f.mask === 1 ? mask1 : mask2) >>> f.bit) & 1)) continue;
    if (f.mask === 2 && f.bit >= FIRST_OPTIONAL_MASK2_BIT && r.remaining < wireSize(f.wire, f32)) break;
    switch (f.wire) {
      case "u8":
        out[f.field] = r.uint8(f.field);
        break;
      case "u32":
        out[f.field] = r.uint32(f.field);
        break;
      case "state":
        out[f.field] = decodeStateFlags(r.uint32(f.field));
        break;
      case "f64": {
        const x = new DataView(r.bytesN(8, f.field).slice().buffer).getFloat64(0, false);
        // A NaN/Inf bit pattern is no position; never let it reach a published number.
        if (!Number.isFinite(x))
          throw new ProtocolError("InvalidPayload", `COMMAND_REALTIME_DATA: ${f.field} ${x}`);
        out[f.field] = x;
        break;
      }
      case "num":
        out[f.field] = f32 ? r.float32Auto(f.field) : fromRefloatFloat16(r.uint16(f.field));
        break;
    }
  }
  return { controlFlags, mask1, mask2, time, values };
}

/** Refloat's reply: a masked field missing from `values` is sent as 0. */
export function encodeRefloatRealtimeResponse(reply: RefloatRealtime): Uint8Array {
  const w = header(BalanceCommand.RealtimeData)
    .uint8(reply.controlFlags)
    .uint32(reply.mask1 >>> 0)
    .uint32(reply.mask2 >>> 0)
    .uint32(reply.time >>> 0);
  const f32 = (reply.controlFlags & REALTIME_FLOAT32) !== 0;
  const v = reply.values;
  for (const f of REALTIME_LAYOUT) {
    if (!(((f.mask === 1 ? reply.mask1 : reply.mask2) >>> f.bit) & 1)) continue;
    if (f.wire === "state") {
      w.uint32(v.stateFlags ? encodeStateFlags(v.stateFlags) : 0);
      continue;
    }
    const n = v[f.field as Num] ?? 0;
    if (f.wire === "u8") w.uint8(n);
    else if (f.wire === "u32") w.uint32(Math.trunc(n) >>> 0);
    else if (f.wire === "f64") {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, n, false);
      w.bytes(b);
    } else if (f32) w.float32Auto(n);
    else w.uint16(toRefloatFloat16(n));
  }
  return w.finish();
}

export const refloatRealtime: CommandCodec<RealtimeRequest, RefloatRealtime> = {
  id: CommandId.CustomAppData,
  name: "COMM_CUSTOM_APP_DATA COMMAND_REALTIME_DATA",
  encodeRequest: (req) =>
    header(BalanceCommand.RealtimeData)
      .uint8(req.controlFlags)
      .uint32(req.mask1 >>> 0)
      .uint32(req.mask2 >>> 0)
      .finish(),
  decodeRequest: (payload) => {
    const r = new ByteReader(payload);
    expectHeader(r, BalanceCommand.RealtimeData, "COMMAND_REALTIME_DATA");
    const controlFlags = r.uint8("control flags");
    const mask1 = r.uint32("mask1");
    // mask2 is optional in the request (`len >= 9`).
    const mask2 = r.remaining >= 4 ? r.uint32("mask2") : 0;
    return { controlFlags, mask1, mask2 };
  },
  encodeResponse: encodeRefloatRealtimeResponse,
  decodeResponse: decodeRefloatRealtime,
};

/** The mask pair selecting the named REALTIME_DATA fields. */
export function realtimeMasks(fields: readonly (keyof RefloatRealtimeValues)[]): {
  mask1: number;
  mask2: number;
} {
  let mask1 = 0;
  let mask2 = 0;
  for (const f of REALTIME_LAYOUT) {
    if (!fields.includes(f.field)) continue;
    if (f.mask === 1) mask1 |= 1 << f.bit;
    else mask2 |= 1 << f.bit;
  }
  return { mask1: mask1 >>> 0, mask2: mask2 >>> 0 };
}

// ---------------------------------------------------------------------------------------
// COMMAND_ALERTS_LIST

/** Refloat buffer_append_string_max: a length byte, then that many bytes, no NUL. */
function readShortString(r: ByteReader, what: string): string {
  const n = r.uint8(`${what} length`);
  return new TextDecoder().decode(r.bytesN(n, what));
}

function writeShortString(w: ByteWriter, s: string): void {
  const bytes = new TextEncoder().encode(s).subarray(0, 50);
  w.uint8(bytes.length).bytes(bytes);
}

export function decodeRefloatAlerts(payload: Uint8Array): RefloatAlerts {
  const r = new ByteReader(payload);
  expectHeader(r, BalanceCommand.AlertsList, "COMMAND_ALERTS_LIST");
  const activeMask = r.uint32("active alert mask");
  const activeMask2 = r.uint32("active alert mask 2");
  const fwFaultCode = r.uint8("firmware fault code");
  const fwFaultName = fwFaultCode !== 0 ? readShortString(r, "firmware fault name") : undefined;
  const count = r.uint8("alert count");
  const log: RefloatAlertRecord[] = [];
  for (let i = 0; i < count; i++) {
    const time = r.uint32("alert time");
    const id = r.uint8("alert id");
    const active = r.uint8("alert active") !== 0;
    const code = r.uint8("alert code");
    log.push(
      code !== 0
        ? { time, id, active, code, faultName: readShortString(r, "alert fault name") }
        : { time, id, active, code },
    );
  }
  const head = { activeMask, activeMask2, fwFaultCode, log };
  return fwFaultName === undefined ? head : { ...head, fwFaultName };
}

export function encodeRefloatAlertsResponse(alerts: RefloatAlerts): Uint8Array {
  const w = header(BalanceCommand.AlertsList)
    .uint32(alerts.activeMask >>> 0)
    .uint32(alerts.activeMask2 >>> 0)
    .uint8(alerts.fwFaultCode);
  if (alerts.fwFaultCode !== 0) writeShortString(w, alerts.fwFaultName ?? "");
  w.uint8(alerts.log.length);
  for (const a of alerts.log) {
    w.uint32(a.time >>> 0)
      .uint8(a.id)
      .bool(a.active)
      .uint8(a.code);
    if (a.code !== 0) writeShortString(w, a.faultName ?? "");
  }
  return w.finish();
}

export const refloatAlerts: CommandCodec<number | undefined, RefloatAlerts> = {
  id: CommandId.CustomAppData,
  name: "COMM_CUSTOM_APP_DATA COMMAND_ALERTS_LIST",
  encodeRequest: (since) => {
    const w = header(BalanceCommand.AlertsList);
    return (since === undefined ? w : w.uint32(since >>> 0)).finish();
  },
  decodeRequest: (payload) => {
    const r = new ByteReader(payload);
    expectHeader(r, BalanceCommand.AlertsList, "COMMAND_ALERTS_LIST");
    // `since` is read only when all four bytes are there (`len >= 4`).
    return r.remaining >= 4 ? r.uint32("since") : undefined;
  },
  encodeResponse: encodeRefloatAlertsResponse,
  decodeResponse: decodeRefloatAlerts,
};

// ---------------------------------------------------------------------------------------
// Any COMM_CUSTOM_APP_DATA reply

export type BalancePackageReply =
  | { readonly command: "info"; readonly value: BalancePackageInfo }
  | { readonly command: "allData"; readonly value: AllDataReply }
  | { readonly command: "realtime"; readonly value: RefloatRealtime }
  | { readonly command: "alerts"; readonly value: RefloatAlerts }
  /** Another package's data, or a balance-package command without a codec here. */
  | { readonly command: "other"; readonly packageId: number; readonly packageCommand: number };

/** Decodes a COMM_CUSTOM_APP_DATA payload; ProtocolError only for a malformed one. */
export function decodeCustomAppData(payload: Uint8Array): BalancePackageReply {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.CustomAppData, "COMM_CUSTOM_APP_DATA");
  const packageId = r.uint8("package id");
  const packageCommand = r.uint8("package command");
  if (packageId === BALANCE_PACKAGE_ID) {
    switch (packageCommand) {
      case BalanceCommand.Info:
        return { command: "info", value: decodeBalanceInfo(payload) };
      case BalanceCommand.GetAllData:
        return { command: "allData", value: decodeBalanceAllData(payload) };
      case BalanceCommand.RealtimeData:
        return { command: "realtime", value: decodeRefloatRealtime(payload) };
      case BalanceCommand.AlertsList:
        return { command: "alerts", value: decodeRefloatAlerts(payload) };
    }
  }
  return { command: "other", packageId, packageCommand };
}
