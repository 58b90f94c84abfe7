/**
 * The bytes a bldc motor controller writes for the ride telemetry commands, version by
 * version (bldc `comm/commands.c`): GET_VALUES_SETUP(_SELECTIVE) from 3.48 with the
 * odometer from 5.02 and the uptime from 5.03, GET_IMU_DATA from 3.52 (controller id byte
 * from 6.05), GET_STATS and GET_BATTERY_CUT from 5.03, and COMM_CUSTOM_APP_DATA for a
 * balance package (packages from 6.00): INFO, GET_ALLDATA, REALTIME_DATA, ALERTS_LIST. A command the firmware is too old for, or a package
 * command the package does not know, gets no reply, as on the real controller. Scaled values
 * are truncated like `util/buffer.c`; the package's biased bytes like C's float → uint8_t.
 */
import type { BalanceAllData } from "../../model/ride.js";
import {
  BALANCE_PACKAGE_ID,
  BalanceCommand,
  BATTERY_CUT_SINCE_FW,
  ByteWriter,
  CommandId,
  encodeBalanceAllDataResponse,
  encodeBalanceInfoResponse,
  encodeBatteryCutResponse,
  encodeImuDataResponse,
  encodeRefloatAlertsResponse,
  encodeRefloatRealtimeResponse,
  encodeStatsResponse,
  faultCodeName,
  getImuData,
  getStats,
  getValuesSetupSelective,
  IMU_CONTROLLER_ID_SINCE_FW,
  IMU_SINCE_FW,
  refloatRealtime,
  SETUP_BIT_SINCE_FW,
  SETUP_LAYOUT,
  SETUP_SINCE_FW,
  STATS_SINCE_FW,
} from "../../protocol/index.js";
import {
  BalancePackageModel,
  type BalancePackageSpec,
  type ChargerState,
  PACKAGES_SINCE_FW,
} from "../model/refloat.js";
import { CUT_PER_CELL_V, type RideContext, RideModel } from "../model/ride.js";
import { type Firmware, fwNumber } from "./version.js";

export interface RideRequestContext extends RideContext {
  readonly firmware: Firmware;
  readonly charger: ChargerState;
}

/** The ride state one motor controller keeps: its ride model and its package, if any. */
export interface RideNode {
  readonly ride: RideModel;
  readonly pkg: BalancePackageModel | undefined;
}

/** The SETUP reply body: masked fields this firmware knows, truncated like buffer_append_*. */
function writeSetup(
  w: ByteWriter,
  ctx: RideRequestContext,
  ride: RideModel,
  mask: number,
  version: number,
): void {
  const values = ride.setupValues(ctx);
  for (const entry of SETUP_LAYOUT) {
    if (!((mask >>> entry.bit) & 1) || version < (SETUP_BIT_SINCE_FW[entry.bit] ?? 0)) continue;
    const value = values[entry.field] ?? 0;
    const k = entry.kind;
    if (k.type === "u8") w.uint8(value);
    else if (k.type === "u32") w.uint32(Math.trunc(value) >>> 0);
    else if (k.type === "f16") w.float16Truncated(value, k.scale);
    else if (k.type === "f32") w.float32Truncated(value, k.scale);
  }
}

/** float → int16 scaled by `scale`, truncated toward 0 (buffer_append_float16), back as a value. */
const t16 = (v: number, scale: number): number =>
  Math.max(-32768, Math.min(32767, Math.trunc(Math.fround(Math.fround(v) * Math.fround(scale))))) / scale;
/** `value * scale + offset` through C's float → uint8_t, back as a value. */
const tByte = (v: number, scale: number, offset: number): number =>
  (Math.max(0, Math.min(255, Math.trunc(Math.fround(v * scale + offset)))) - offset) / scale;

/** GET_ALLDATA's values as the package's truncating writes leave them. */
function quantiseAllData(d: BalanceAllData): BalanceAllData {
  const opt = (v: number | undefined, q: (x: number) => number) => (v === undefined ? undefined : q(v));
  const out: Record<string, unknown> = {
    ...d,
    balanceCurrent: t16(d.balanceCurrent, 10),
    balancePitch: t16(d.balancePitch, 10),
    roll: t16(d.roll, 10),
    adcLeftV: tByte(d.adcLeftV, 50, 0),
    adcRightV: tByte(d.adcRightV, 50, 0),
    setpoint: tByte(d.setpoint, 5, 128),
    atrSetpoint: tByte(d.atrSetpoint, 5, 128),
    brakeTiltSetpoint: tByte(d.brakeTiltSetpoint, 5, 128),
    torqueTiltSetpoint: tByte(d.torqueTiltSetpoint, 5, 128),
    turnTiltSetpoint: tByte(d.turnTiltSetpoint, 5, 128),
    remoteSetpoint: tByte(d.remoteSetpoint, 5, 128),
    pitch: t16(d.pitch, 10),
    boosterCurrent: tByte(d.boosterCurrent, 1, 128),
    batteryVoltage: t16(d.batteryVoltage, 10),
    erpm: Math.max(-32768, Math.min(32767, Math.trunc(d.erpm))),
    speedMps: t16(d.speedMps, 10),
    motorCurrent: t16(d.motorCurrent, 10),
    batteryCurrent: t16(d.batteryCurrent, 10),
    dutyCycle: tByte(d.dutyCycle, 100, 128),
    focId: opt(d.focId, (x) => tByte(x, 3, 0)),
    tempMosfet: opt(d.tempMosfet, (x) => tByte(x, 2, 0)),
    tempMotor: opt(d.tempMotor, (x) => tByte(x, 2, 0)),
    ampHours: opt(d.ampHours, (x) => t16(x, 10)),
    ampHoursCharged: opt(d.ampHoursCharged, (x) => t16(x, 10)),
    wattHours: opt(d.wattHours, (x) => t16(x, 1)),
    wattHoursCharged: opt(d.wattHoursCharged, (x) => t16(x, 1)),
    batteryPercent: opt(d.batteryPercent, (x) => tByte(x, 2, 0)),
    chargingCurrent: opt(d.chargingCurrent, (x) => t16(x, 10)),
    chargingVoltage: opt(d.chargingVoltage, (x) => t16(x, 10)),
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as unknown as BalanceAllData;
}

/** The package's answer to `[36, 101, command, ...]` (Refloat on_command_received). */
function balancePackageReply(
  inner: Uint8Array,
  node: RideNode,
  ctx: RideRequestContext,
): Uint8Array | undefined {
  const pkg = node.pkg;
  // The package logs and drops a command shorter than its 2-byte header or for another id.
  if (!pkg || inner.length < 3 || inner[1] !== BALANCE_PACKAGE_ID) return undefined;
  const body = inner.subarray(3);
  switch (inner[2]) {
    case BalanceCommand.Info: {
      const requested = body[0] ?? 1;
      return encodeBalanceInfoResponse(pkg.info(requested, body[1] ?? 0));
    }
    case BalanceCommand.GetAllData: {
      if (body.length !== 1) return undefined; // `len == 3` or nothing
      if ((ctx.values.fault ?? 0) !== 0) {
        const fault = ctx.values.fault ?? 0;
        return encodeBalanceAllDataResponse({ fault, faultName: faultCodeName(fault) });
      }
      const mode = body[0] as number;
      return encodeBalanceAllDataResponse(quantiseAllData(pkg.allData(mode, ctx, node.ride, ctx.charger)));
    }
    case BalanceCommand.RealtimeData: {
      if (!pkg.hasRealtimeData || body.length < 5) return undefined;
      const req = refloatRealtime.decodeRequest(inner);
      return encodeRefloatRealtimeResponse({
        ...req,
        time: node.ride.ticks(ctx.now),
        values: pkg.realtime(ctx, node.ride, ctx.charger),
      });
    }
    case BalanceCommand.AlertsList:
      return pkg.hasAlertsList ? encodeRefloatAlertsResponse(pkg.alerts(ctx, node.ride)) : undefined;
    default:
      return undefined;
  }
}

/** The controller's reply to a ride telemetry request, or undefined (silence). */
export function bldcRideReply(
  inner: Uint8Array,
  node: RideNode,
  ctx: RideRequestContext,
): Uint8Array | undefined {
  const version = fwNumber(ctx.firmware);
  switch (inner[0]) {
    case CommandId.GetValuesSetup: {
      if (version < SETUP_SINCE_FW) return undefined;
      const w = new ByteWriter().uint8(CommandId.GetValuesSetup);
      writeSetup(w, ctx, node.ride, 0xffffffff, version);
      return w.finish();
    }
    case CommandId.GetValuesSetupSelective: {
      if (version < SETUP_SINCE_FW) return undefined;
      const mask = getValuesSetupSelective.decodeRequest(inner);
      const w = new ByteWriter().uint8(CommandId.GetValuesSetupSelective).uint32(mask);
      writeSetup(w, ctx, node.ride, mask, version);
      return w.finish();
    }
    case CommandId.GetStats: {
      if (version < STATS_SINCE_FW) return undefined;
      return encodeStatsResponse({ mask: getStats.decodeRequest(inner), stats: node.ride.rideStats(ctx) });
    }
    case CommandId.GetImuData: {
      if (version < IMU_SINCE_FW) return undefined;
      const imu = node.ride.imu(ctx);
      const withId =
        version >= IMU_CONTROLLER_ID_SINCE_FW ? { ...imu, controllerId: ctx.values.controllerId ?? 0 } : imu;
      return encodeImuDataResponse({ mask: getImuData.decodeRequest(inner), imu: withId });
    }
    case CommandId.GetBatteryCut: {
      if (version < BATTERY_CUT_SINCE_FW) return undefined;
      return encodeBatteryCutResponse({
        startV: Math.trunc(ctx.cells * CUT_PER_CELL_V.start * 1000) / 1000,
        endV: Math.trunc(ctx.cells * CUT_PER_CELL_V.end * 1000) / 1000,
      });
    }
    case CommandId.CustomAppData:
      return version >= PACKAGES_SINCE_FW ? balancePackageReply(inner, node, ctx) : undefined;
    default:
      return undefined;
  }
}

/** The ride state of every motor controller on the bus, created on its first ride request. */
export class RideNodes {
  private readonly nodes = new Map<number, RideNode>();

  constructor(
    private readonly seed: number,
    /** The balance package every motor controller runs; null = none. */
    private readonly pkg: BalancePackageSpec | null,
  ) {}

  reply(canId: number, inner: Uint8Array, ctx: RideRequestContext): Uint8Array | undefined {
    let node = this.nodes.get(canId);
    if (!node) {
      const seed = (this.seed ^ Math.imul(canId + 1, 0x85ebca6b)) >>> 0;
      node = {
        ride: new RideModel(seed, ctx.now),
        pkg: this.pkg ? new BalancePackageModel(this.pkg, seed) : undefined,
      };
      this.nodes.set(canId, node);
    }
    return bldcRideReply(inner, node, ctx);
  }
}
