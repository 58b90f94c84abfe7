/**
 * Reads a CAN motor node's configured groups through COMM_FORWARD_CAN (docs/ride.md):
 * GET_VALUES, GET_VALUES_SETUP, GET_STATS, GET_IMU_DATA, GET_BATTERY_CUT and the balance
 * package's GET_ALLDATA. A command the node's firmware predates is never sent. A command
 * the node leaves unanswered while it answers others (no package, a stripped build) is not
 * asked again for RETRY_UNANSWERED_MS; a new connection starts over. One instance per node
 * per connection.
 */
import type { CanNodeReading, CanReadGroup, DeviceInfo, RefloatReading } from "../model/reading.js";
import type { BatteryCut } from "../model/ride.js";
import {
  deriveRide,
  hasRealtimeData,
  packageName,
  REALTIME_FIELDS,
  refloatFromRealtime,
  toRefloatReading,
} from "../model/rideReading.js";
import {
  ALL_STATS_MASK,
  BATTERY_CUT_SINCE_FW,
  balanceAllData,
  balanceInfo,
  CommandId,
  decodeBalanceAllData,
  decodeBalanceInfo,
  decodeBatteryCut,
  decodeImuData,
  decodeRefloatRealtime,
  decodeStats,
  decodeValues,
  decodeValuesSetup,
  getBatteryCut,
  getImuData,
  getStats,
  getValues,
  getValuesSetup,
  IMU_SINCE_FW,
  ProtocolError,
  realtimeMasks,
  refloatRealtime,
  SETUP_SINCE_FW,
  STATS_SINCE_FW,
} from "../protocol/index.js";
import { isSessionError, type Session } from "./session.js";
import type { CanNodeSpec } from "./types.js";

/** What a motor node is read for when its config names no groups. */
export const DEFAULT_MOTOR_GROUPS: readonly CanReadGroup[] = ["values", "setup", "stats", "refloat"];
/** How long a command a live node left unanswered is not asked again. */
export const RETRY_UNANSWERED_MS = 600_000;
/** VESC packages (Refloat, Float) need bldc 6.00 or later. */
export const PACKAGES_SINCE_FW = 600;
/** GET_IMU_DATA fields read: roll, pitch, yaw, acceleration and gyro x/y/z (bits 0–8). */
export const IMU_READ_MASK = 0x1ff;
/** REALTIME_DATA masks of the fields read, as Refloat's float16 (control flags 0). */
const REALTIME_MASKS = realtimeMasks(REALTIME_FIELDS);
/** GET_ALLDATA mode: every field, the charger's included (a package answers its highest). */
const ALLDATA_MODE = 4;

const SINCE_FW: Readonly<Record<CanReadGroup, number>> = {
  values: 0,
  setup: SETUP_SINCE_FW,
  stats: STATS_SINCE_FW,
  imu: IMU_SINCE_FW,
  battery_cut: BATTERY_CUT_SINCE_FW,
  refloat: PACKAGES_SINCE_FW,
};

/** "6.05" → 605; an unparsable version counts as the newest (every command is tried, then backed off). */
export function fwNumberOf(firmware: string): number {
  const m = /^(\d+)\.(\d+)/.exec(firmware);
  return m ? Number(m[1]) * 100 + Number(m[2]) : Number.POSITIVE_INFINITY;
}

/** The groups a node's firmware has, of those configured, in reading order. */
export function supportedGroups(groups: readonly CanReadGroup[], firmware: string): CanReadGroup[] {
  const fw = fwNumberOf(firmware);
  const order: readonly CanReadGroup[] = ["values", "setup", "stats", "refloat", "imu", "battery_cut"];
  return order.filter((g) => groups.includes(g) && fw >= SINCE_FW[g]);
}

type Parts = {
  -readonly [K in "values" | "setup" | "stats" | "imu" | "batteryCut" | "refloat"]?: CanNodeReading[K];
};

export class MotorNodeReader {
  /** Group → time (ms) before which it is not asked again. */
  private readonly silentUntil = new Map<CanReadGroup, number>();
  /** The package once INFO answered (its name, whether it has REALTIME_DATA); undefined = not found yet. */
  private pkg: { readonly name: string; readonly realtime: boolean } | undefined;
  /** Cut-off voltages are configuration: read once per connection. */
  private batteryCut: BatteryCut | undefined;

  constructor(
    private readonly session: Session,
    private readonly node: CanNodeSpec,
    private readonly now: () => number,
    private readonly onError?: (error: Error) => void,
  ) {}

  /**
   * One poll of the node. The first group asked is its liveness check: when it times out,
   * this throws (the node is gone, not merely silent on one command) and nothing is backed off.
   */
  async poll(device: DeviceInfo, timeoutMs: number): Promise<CanNodeReading> {
    const groups = supportedGroups(this.node.groups ?? DEFAULT_MOTOR_GROUPS, device.firmware);
    const parts: Parts = {};
    const now = this.now();
    let answered = false;
    for (const group of groups) {
      if ((this.silentUntil.get(group) ?? 0) > now) continue;
      try {
        await this.read(group, parts, timeoutMs);
        answered = true;
      } catch (e) {
        if (isSessionError(e) && e.code === "Closed") throw e;
        if (!answered) throw e;
        if (isSessionError(e) && e.code === "Timeout") {
          this.silentUntil.set(group, now + RETRY_UNANSWERED_MS);
          // No package is the common case, not an error; any other silence is worth one line.
          if (group !== "refloat")
            this.onError?.(
              new Error(`CAN node ${this.node.id}: no reply to ${group}, asking again in 10 min`),
            );
        } else this.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
    }
    const ride = deriveRide(parts, this.node.speedUnit);
    return { canId: this.node.id, kind: this.node.kind, device, ...parts, ...(ride ? { ride } : {}) };
  }

  private async read(group: CanReadGroup, parts: Parts, timeoutMs: number): Promise<void> {
    const ask = (request: Uint8Array, expect: CommandId) =>
      this.session.forward(this.node.id, request, { expect, timeoutMs });
    switch (group) {
      case "values":
        parts.values = this.checkController(
          decodeValues(await ask(getValues.encodeRequest(), CommandId.GetValues)),
        );
        return;
      case "setup": {
        const setup = decodeValuesSetup(await ask(getValuesSetup.encodeRequest(), CommandId.GetValuesSetup));
        this.checkController(setup);
        parts.setup = setup;
        return;
      }
      case "stats":
        parts.stats = decodeStats(
          await ask(getStats.encodeRequest(ALL_STATS_MASK), CommandId.GetStats),
        ).stats;
        return;
      case "imu": {
        const { imu } = decodeImuData(
          await ask(getImuData.encodeRequest(IMU_READ_MASK), CommandId.GetImuData),
        );
        this.checkController(imu);
        parts.imu = imu;
        return;
      }
      case "battery_cut":
        this.batteryCut ??= decodeBatteryCut(
          await ask(getBatteryCut.encodeRequest(), CommandId.GetBatteryCut),
        );
        parts.batteryCut = this.batteryCut;
        return;
      case "refloat":
        parts.refloat = await this.readPackage(ask);
        return;
    }
  }

  /** INFO once (it names the package), then REALTIME_DATA (Refloat ≥ 1.3) or GET_ALLDATA each poll. */
  private async readPackage(
    ask: (request: Uint8Array, expect: CommandId) => Promise<Uint8Array>,
  ): Promise<RefloatReading> {
    if (!this.pkg) {
      const info = decodeBalanceInfo(
        await ask(balanceInfo.encodeRequest({ version: 2 }), CommandId.CustomAppData),
      );
      this.pkg = { name: packageName(info), realtime: hasRealtimeData(info) };
    }
    if (this.pkg.realtime) {
      const request = refloatRealtime.encodeRequest({ controlFlags: 0, ...REALTIME_MASKS });
      const reply = decodeRefloatRealtime(await ask(request, CommandId.CustomAppData));
      return refloatFromRealtime(this.pkg.name, reply.values);
    }
    const reply = await ask(balanceAllData.encodeRequest(ALLDATA_MODE), CommandId.CustomAppData);
    return toRefloatReading(this.pkg.name, decodeBalanceAllData(reply));
  }

  /**
   * Forwarded replies carry no CAN id; a late reply from another node would be taken for this
   * one's. Replies that name their controller id are checked here.
   */
  private checkController<T extends { controllerId?: number }>(values: T): T {
    if (values.controllerId !== undefined && values.controllerId !== this.node.id) {
      throw new ProtocolError(
        "InvalidPayload",
        `CAN node ${this.node.id}: reply came from controller ${values.controllerId} (a late reply), ignored`,
      );
    }
    return values;
  }
}
