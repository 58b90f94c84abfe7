/**
 * COMM_FORWARD_CAN (34): `[34, target can id, inner payload...]`. The target's reply comes
 * back UNPREFIXED (vesc_express `main/comm_can.c`, commands_send_packet_can_last), so there is
 * no response codec: the caller decodes the reply with the inner command's codec and must
 * keep one forwarded request in flight at a time.
 */
import { ByteReader, ByteWriter } from "../bytes.js";
import { expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";
import { ProtocolError } from "../errors.js";

const NAME = "COMM_FORWARD_CAN";

export interface ForwardCan {
  readonly canId: number;
  readonly inner: Uint8Array;
}

export function wrapForwardCan(canId: number, inner: Uint8Array): Uint8Array {
  if (inner.length === 0) throw new ProtocolError("ValueOutOfRange", `${NAME}: empty inner payload`);
  return new ByteWriter().uint8(CommandId.ForwardCan).uint8(canId).bytes(inner).finish();
}

export function unwrapForwardCan(payload: Uint8Array): ForwardCan {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.ForwardCan, NAME);
  const canId = r.uint8("can id");
  if (r.remaining === 0) throw new ProtocolError("Truncated", `${NAME}: no inner payload`);
  return { canId, inner: r.rest().slice() };
}

export const forwardCan = {
  id: CommandId.ForwardCan,
  name: NAME,
  encodeRequest: (req: ForwardCan): Uint8Array => wrapForwardCan(req.canId, req.inner),
  decodeRequest: unwrapForwardCan,
} as const;
