/**
 * COMM_PING_CAN (62): the Express pings CAN ids 0..254 (10 ms each, so the reply can take
 * ~2.5 s) and answers with the ids that ponged, one u8 each, ascending (vesc_express
 * `main/commands.c`, `main/comm_can.c`).
 */
import { ByteReader, ByteWriter } from "../bytes.js";
import { type CommandCodec, expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";

const NAME = "COMM_PING_CAN";

export function decodePingCan(payload: Uint8Array): number[] {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.PingCan, NAME);
  return Array.from(r.rest());
}

export const pingCan: CommandCodec<void, number[]> = {
  id: CommandId.PingCan,
  name: NAME,
  encodeRequest: () => Uint8Array.of(CommandId.PingCan),
  decodeRequest: (payload) => {
    expectCommand(new ByteReader(payload), CommandId.PingCan, NAME);
  },
  encodeResponse: (ids) => {
    const w = new ByteWriter().uint8(CommandId.PingCan);
    for (const id of ids) w.uint8(id);
    return w.finish();
  },
  decodeResponse: decodePingCan,
};
