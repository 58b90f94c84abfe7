/**
 * How the simulated Express answers a request. Tests add behaviours with
 * `device.defineBehavior` (a mock-controller pattern): the newest is asked first, and whatever
 * none handles falls through to `answerLikeFirmware`, which mirrors vesc_express
 * `main/commands.c`: no reply to COMM_ALIVE, to writes or to unknown commands.
 */
import {
  CommandId,
  commandName,
  decodeCustomConfigRequest,
  getValuesSelective,
  pingCan,
  unwrapForwardCan,
} from "../protocol/index.js";
import type { SimDevice } from "./device.js";

export interface ConnectionInfo {
  /** Unique per device, increasing. */
  readonly id: number;
  /** "tcp 127.0.0.1:50312", "serial /dev/pts/3", "hub 127.0.0.1:65101", ... */
  readonly label: string;
}

export interface RequestContext {
  readonly device: SimDevice;
  readonly connection: ConnectionInfo;
  /** The device clock at the time of the request, ms. */
  readonly now: number;
  /** payload[0] */
  readonly command: number;
  /** "COMM_BMS_GET_VALUES", or "COMM_<id>" for an id outside the enum. */
  readonly commandName: string;
  /** Set for COMM_FORWARD_CAN requests. */
  readonly forward?: { readonly canId: number; readonly inner: Uint8Array };
  /** The payloads the default firmware behaviour would answer with (computed on demand). */
  defaultReply(): Uint8Array[];
}

export interface BehaviorResult {
  /** False: let older behaviours and then the default answer. */
  readonly handled: boolean;
  /** Reply payloads (framed and subject to faults); null or [] = no reply. */
  readonly reply?: Uint8Array | Uint8Array[] | null;
  /** Bytes written as they are, unframed, before the reply (for hostile-stream tests). */
  readonly raw?: Uint8Array;
  /** Reset the connection after writing. */
  readonly close?: boolean;
}

export interface SimBehavior {
  onRequest(payload: Uint8Array, ctx: RequestContext): BehaviorResult;
}

/** The reply of the whole device model to one request payload: what firmware would send. */
export function answerLikeFirmware(device: SimDevice, payload: Uint8Array): Uint8Array[] {
  const id = payload[0];
  switch (id) {
    case CommandId.FwVersion:
      return [device.fwVersionReply()];
    case CommandId.BmsGetValues:
      return [device.takeBmsReply()];
    case CommandId.PingCan:
      return [pingCan.encodeResponse(device.canNodeIds())];
    case CommandId.GetCustomConfig:
      // Only config index 0 exists; other indices are silently ignored by the firmware.
      return decodeCustomConfigRequest(payload) === 0 ? [device.customConfigReply(0)] : [];
    case CommandId.ForwardCan: {
      const { canId, inner } = unwrapForwardCan(payload);
      const reply = answerOnCan(device, canId, inner);
      return reply ? [reply] : [];
    }
    default:
      return [];
  }
}

/**
 * A CAN node's reply to a forwarded payload. It goes back UNPREFIXED, exactly the node's own
 * reply (vesc_express `main/comm_can.c`, commands_send_packet_can_last). Unknown ids: silence.
 */
function answerOnCan(device: SimDevice, canId: number, inner: Uint8Array): Uint8Array | undefined {
  const id = inner[0];
  if (device.hasMotor(canId)) {
    switch (id) {
      case CommandId.FwVersion:
        return device.fwVersionReply(canId);
      case CommandId.GetValues:
        return device.motorReply(canId);
      case CommandId.GetValuesSelective:
        return device.motorSelectiveReply(canId, getValuesSelective.decodeRequest(inner));
      default:
        return device.motorRideReply(canId, inner);
    }
  }
  if (device.hasCanBms(canId)) {
    // The VESC BMS answers itself, in vesc_bms_fw's layouts, not from the Express's cache.
    switch (id) {
      case CommandId.FwVersion:
        return device.fwVersionReply(canId);
      case CommandId.BmsGetValues:
        return device.canBmsReply();
      default:
        return undefined;
    }
  }
  return undefined;
}

/** Name used in stats: the firmware name, forwarded requests as "COMM_GET_VALUES@84". */
export function requestName(payload: Uint8Array): string {
  const id = payload[0] ?? -1;
  const name = commandName(id) ?? `COMM_${id}`;
  if (id === CommandId.ForwardCan && payload.length >= 3) {
    const innerId = payload[2] ?? -1;
    return `${commandName(innerId) ?? `COMM_${innerId}`}@${payload[1]}`;
  }
  return name;
}
