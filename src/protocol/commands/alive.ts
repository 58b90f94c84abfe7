/**
 * COMM_ALIVE (30): keeps a motor controller's control timeout from firing; no reply. The
 * Express itself ignores it (vesc_express `main/commands.c` has no case), so it only makes
 * sense forwarded over CAN.
 */
import { ByteReader } from "../bytes.js";
import { expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";

export const alive = {
  id: CommandId.Alive,
  name: "COMM_ALIVE",
  encodeRequest: (): Uint8Array => Uint8Array.of(CommandId.Alive),
  decodeRequest: (payload: Uint8Array): void => {
    expectCommand(new ByteReader(payload), CommandId.Alive, "COMM_ALIVE");
  },
  /** ALIVE never gets a reply. */
  expectsReply: false,
} as const;
