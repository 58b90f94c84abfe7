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

export interface ImuReply {
  readonly mask: number;
  readonly imu: ImuValues;
}

export function decodeImuData(payload: Uint8Array): ImuReply {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.GetImuData, NAME);
  const mask = r.uint16("mask");
  const imu: ImuValues = {};
  IMU_FIELDS.forEach((field, bit) => {
    if ((mask >>> bit) & 1) imu[field] = r.float32Auto(field);
  });
  if (r.remaining >= 1) imu.controllerId = r.uint8("controller id");
  return { mask, imu };
}

/** The firmware's reply; the controller id is written when `imu.controllerId` is set (≥ 6.05). */
export function encodeImuDataResponse(reply: ImuReply): Uint8Array {
  const w = new ByteWriter().uint8(CommandId.GetImuData).uint16(reply.mask);
  IMU_FIELDS.forEach((field, bit) => {
    if ((reply.mask >>> bit) & 1) w.float32Auto(reply.imu[field] ?? 0);
  });
  if (reply.imu.controllerId !== undefined) w.uint8(reply.imu.controllerId);
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
