/**
 * COMM_GET_BATTERY_CUT (115), bldc ≥ 5.03 (bldc 33da0361): the motor configuration's
 * l_battery_cut_start and l_battery_cut_end as float32 ×1000, V. Useful as alert limits.
 */
import type { BatteryCut } from "../../model/ride.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { type CommandCodec, expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";

const NAME = "COMM_GET_BATTERY_CUT";
export const BATTERY_CUT_SINCE_FW = 503;

export function decodeBatteryCut(payload: Uint8Array): BatteryCut {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.GetBatteryCut, NAME);
  const startV = r.float32(1000, "cut start");
  const endV = r.float32(1000, "cut end");
  return { startV, endV };
}

export function encodeBatteryCutResponse(cut: BatteryCut): Uint8Array {
  return new ByteWriter()
    .uint8(CommandId.GetBatteryCut)
    .float32(cut.startV, 1000)
    .float32(cut.endV, 1000)
    .finish();
}

export const getBatteryCut: CommandCodec<void, BatteryCut> = {
  id: CommandId.GetBatteryCut,
  name: NAME,
  encodeRequest: () => Uint8Array.of(CommandId.GetBatteryCut),
  decodeRequest: (payload) => {
    expectCommand(new ByteReader(payload), CommandId.GetBatteryCut, NAME);
  },
  encodeResponse: encodeBatteryCutResponse,
  decodeResponse: decodeBatteryCut,
};
