/**
 * COMM_GET_IMU_DATA (65), bldc ≥ 3.52: u16 mask in the request, echoed as u16, then one
 * float32_auto per masked field (roll/pitch/yaw rad, acceleration g, gyro °/s, magnetometer,
 * quaternion). Since 6.05 (bldc e0bc1154) the controller id follows unconditionally as one
 * byte (the mask had no bit left), so it is decoded when a byte remains, as VESC Tool does.
 */
import type { ImuValues } from "../../model/ride.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { type CommandCodec, expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";
import { F32_AUTO, U8 } from "./fieldKind.js";
import { MaskedFields, maskedBit } from "./maskedLayout.js";

const NAME = "COMM_GET_IMU_DATA";

type ImuField = Exclude<keyof ImuValues, "controllerId">;

/** Bit i of the mask carries IMU_FIELDS[i]. */
export const IMU_FIELDS: readonly ImuField[] = [
  "roll",
  "pitch",
  "yaw",
  "accX",
  "accY",
  "accZ",
  "gyroX",
  "gyroY",
  "gyroZ",
  "magX",
  "magY",
  "magZ",
  "q0",
  "q1",
  "q2",
  "q3",
];

export const ALL_IMU_MASK = 0xffff;
export const IMU_SINCE_FW = 352;
/** The trailing controller id byte. */
export const IMU_CONTROLLER_ID_SINCE_FW = 605;

/**
 * The controller id sits at table bit 16, which a u16 echo never sets: every decode and
 * encode selects it, and like any bit with a since it is read only when the reply holds it.
 */
const CONTROLLER_ID_BIT = 1 << 16;

// A masked field absent from the values is encoded as 0 (the firmware sends every one).
const table = new MaskedFields<keyof ImuValues>({
  name: NAME,
  bits: [
    ...IMU_FIELDS.map((field, bit) => maskedBit(bit, [field], F32_AUTO)),
    maskedBit(16, ["controllerId"], U8, IMU_CONTROLLER_ID_SINCE_FW),
  ],
  absentAsZero: true,
});

export interface ImuReply {
  readonly mask: number;
  readonly imu: ImuValues;
}

export function decodeImuData(payload: Uint8Array): ImuReply {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.GetImuData, NAME);
  const mask = r.uint16("mask");
  return { mask, imu: table.decode(r, mask | CONTROLLER_ID_BIT) };
}

/** The firmware's reply; the controller id is written when `imu.controllerId` is set (≥ 6.05). */
export function encodeImuDataResponse(reply: ImuReply): Uint8Array {
  const w = new ByteWriter().uint8(CommandId.GetImuData).uint16(reply.mask);
  table.encode(w, reply.imu, reply.mask | CONTROLLER_ID_BIT);
  return w.finish();
}

export const getImuData: CommandCodec<number, ImuReply> = {
  id: CommandId.GetImuData,
  name: NAME,
  encodeRequest: (mask) => new ByteWriter().uint8(CommandId.GetImuData).uint16(mask).finish(),
  decodeRequest: (payload) => {
    const r = new ByteReader(payload);
    expectCommand(r, CommandId.GetImuData, NAME);
    return r.uint16("mask");
  },
  encodeResponse: encodeImuDataResponse,
  decodeResponse: decodeImuData,
};
