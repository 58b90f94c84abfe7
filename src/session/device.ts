/**
 * What the poller, `read`, `scan` and the benchmark do on one session: the handshake
 * (handshake.ts; PING_CAN only for an explicit scan) and one poll
 * (the device's BMS, then each listed CAN node through COMM_FORWARD_CAN). Only ids the caller
 * listed are ever forwarded to.
 */
import { toBmsReading } from "../model/bmsReading.js";
import type { BmsReading, BmsValues, CanNodeReading, DeviceInfo, Reading } from "../model/reading.js";
import {
  CommandId,
  bmsGetValues,
  decodeBmsValues,
  decodeFwVersion,
  decodePingCan,
  deviceInfoFromFwVersion,
  encodeFrame,
  type FwVersion,
  fwVersion,
  pingCan,
} from "../protocol/index.js";
import { MotorNodeReader } from "./rideReader.js";
import { type Session, isSessionError } from "./session.js";
import type { CanNodeSpec } from "./types.js";

export const DEFAULT_REQUEST_TIMEOUT_MS = 2000;
/** The BMS poll request, encoded once (it never changes). */
const BMS_REQUEST_FRAME = encodeFrame(bmsGetValues.encodeRequest());
/** The Express pings 255 ids at 10 ms each (~2.6 s); VESC Tool allows 5 s. */
export const PING_CAN_TIMEOUT_MS = 5000;

export { type HandshakeOptions, handshake } from "./handshake.js";

/** COMM_PING_CAN: ids on the device's CAN bus. Only for an explicit scan. */
export async function scanCanBus(session: Session, timeoutMs = PING_CAN_TIMEOUT_MS): Promise<number[]> {
  const reply = await session.request(pingCan.encodeRequest(), {
    expect: CommandId.PingCan,
    timeoutMs: Math.max(timeoutMs, PING_CAN_TIMEOUT_MS),
  });
  return decodePingCan(reply);
}

/** FW_VERSION of one CAN node through COMM_FORWARD_CAN. */
export async function canFirmware(session: Session, canId: number, timeoutMs: number): Promise<FwVersion> {
  const reply = await session.forward(canId, fwVersion.encodeRequest(), {
    expect: CommandId.FwVersion,
    timeoutMs,
  });
  return decodeFwVersion(reply);
}

export interface DeviceReaderOptions {
  readonly deviceId: string;
  readonly requestTimeoutMs?: number;
  readonly readBms?: boolean;
  readonly can?: readonly CanNodeSpec[];
  /** CAN node identities already read on this session (skips their FW_VERSION). */
  readonly canDevices?: ReadonlyMap<number, DeviceInfo>;
  /** ms on the Date.now() scale (default Date.now): when an unanswered ride command is asked again. */
  readonly now?: () => number;
  /** Called for errors that do not stop the poll (a CAN node not answering, a malformed node reply). */
  readonly onError?: (error: Error) => void;
}

/** Polls one device on one session. Create one per connection, after handshake(). */
export class DeviceReader {
  private readonly canInfo: Map<number, DeviceInfo>;
  /** Per motor node: what its firmware answers, learnt on this connection. */
  private readonly motorReaders = new Map<number, MotorNodeReader>();

  constructor(
    private readonly session: Session,
    readonly device: DeviceInfo,
    private readonly options: DeviceReaderOptions,
  ) {
    this.canInfo = new Map(options.canDevices ?? []);
  }

  /**
   * One poll. Throws SessionError (timeout/closed) or ProtocolError when the device's own BMS
   * reply fails: nothing of a malformed payload is ever returned as numbers.
   */
  async poll(): Promise<Reading> {
    const started = performance.now();
    const timeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    let bms: BmsReading | undefined;
    if (this.options.readBms ?? true) {
      const reply = await this.session.requestFrame(BMS_REQUEST_FRAME, {
        expect: CommandId.BmsGetValues,
        timeoutMs,
      });
      bms = toBmsReading(decodeBmsValues(reply));
    }
    let can: Record<string, CanNodeReading> | undefined;
    for (const node of this.options.can ?? []) {
      can ??= {};
      can[String(node.id)] = await this.pollNode(node, timeoutMs);
    }
    return {
      deviceId: this.options.deviceId,
      time: new Date().toISOString(),
      device: this.device,
      ...(bms ? { bms } : {}),
      ...(can ? { can } : {}),
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
    };
  }

  private async pollNode(node: CanNodeSpec, timeoutMs: number): Promise<CanNodeReading> {
    try {
      let device = this.canInfo.get(node.id);
      if (!device) {
        device = deviceInfoFromFwVersion(await canFirmware(this.session, node.id, timeoutMs), node.id);
        this.canInfo.set(node.id, device);
      }
      if (node.kind === "bms") {
        const reply = await this.session.forward(node.id, bmsGetValues.encodeRequest(), {
          expect: CommandId.BmsGetValues,
          timeoutMs,
        });
        return { canId: node.id, kind: node.kind, device, bms: toBmsReading(decodeBmsValues(reply)) };
      }
      let motor = this.motorReaders.get(node.id);
      if (!motor) {
        motor = new MotorNodeReader(this.session, node, this.options.now ?? Date.now, this.options.onError);
        this.motorReaders.set(node.id, motor);
      }
      return await motor.poll(device, timeoutMs);
    } catch (e) {
      // A lost link ends the whole poll; a silent or garbled node only this node's part.
      if (isSessionError(e) && e.code === "Closed") throw e;
      const error = e instanceof Error ? e : new Error(String(e));
      this.options.onError?.(error);
      return { canId: node.id, kind: node.kind, error: error.message };
    }
  }
}

/**
 * Decoded BMS values as a poll publishes them: not-applicable and implausible values null,
 * packCurrent/packPower and cell stats derived (model/bmsReading.ts).
 */
export function withStats(bms: BmsValues): BmsReading {
  return toBmsReading(bms);
}
