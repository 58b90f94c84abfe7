/**
 * The shape every command codec shares. The client uses encodeRequest/decodeResponse; the
 * simulator uses decodeRequest/encodeResponse, so both sides share one byte layout.
 */
import type { ByteReader } from "./bytes.js";
import type { CommandId } from "./commandId.js";
import { ProtocolError } from "./errors.js";

export interface CommandCodec<Req, Res> {
  readonly id: CommandId;
  /** Firmware name, e.g. "COMM_BMS_GET_VALUES". */
  readonly name: string;
  encodeRequest(request: Req): Uint8Array;
  decodeRequest(payload: Uint8Array): Req;
  encodeResponse(response: Res): Uint8Array;
  /** Throws ProtocolError (only) on a payload that is not a valid reply of this command. */
  decodeResponse(payload: Uint8Array): Res;
}

/** Checks the id byte and returns a reader positioned after it. */
export function expectCommand(reader: ByteReader, id: CommandId, name: string): void {
  const got = reader.uint8(`${name} id`);
  if (got !== id) {
    throw new ProtocolError("UnexpectedCommand", `expected ${name} (${id}), got command id ${got}`);
  }
}
