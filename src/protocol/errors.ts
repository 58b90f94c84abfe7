/**
 * The protocol layer's one error class. Codecs throw ProtocolError (and nothing else) on a
 * payload they cannot decode, so callers can tell "bad bytes from the device" from bugs.
 */

export type ProtocolErrorCode =
  | "Truncated" // the payload ends before a field it promises
  | "InvalidPayload" // a field holds a value the layout cannot have
  | "UnexpectedCommand" // the payload's id byte is not the command this codec decodes
  | "ValueOutOfRange"; // an encoder was given a value the wire format cannot carry

export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError;
}
