/**
 * The transport contract: bytes in, bytes out, nothing else. A transport never retries,
 * buffers or parses; the session owns framing, timeouts and backoff. A reconnect is
 * "call the factory again".
 */
import type { EventEmitter } from "node:events";

export type TransportErrorCode =
  | "ConnectFailed" // refused, unreachable, no such host
  | "ConnectTimeout"
  | "Closed" // the peer closed the connection
  | "LoginRejected" // a hub closed the connection right after our login line
  | "Io"; // any other socket/port error

export class TransportError extends Error {
  override readonly name = "TransportError";
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    /**
     * Worth retrying with backoff. False only when no retry can ever succeed (a bad URL, a hub
     * id that cannot be sent): the poller then stops trying that device. A rejected hub login
     * stays true: the hub cannot tell a wrong password from a device that is offline.
     */
    readonly recoverable = true,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isTransportError(e: unknown): e is TransportError {
  return e instanceof TransportError;
}

export interface TransportEvents {
  data: [chunk: Uint8Array];
  /** Emitted once, when the connection is gone for any reason (error absent on a local close()). */
  close: [error?: TransportError];
}

export interface Transport extends EventEmitter<TransportEvents> {
  /** Where this transport goes, without secrets: "tcp://10.0.0.5:65102", "hub://host:65101/express1". */
  readonly url: string;
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * How the poller treats a kind of link (see kinds.ts): when to yield the device to another
 * client, and what the handshake must allow for. Declared per kind, never guessed from a URL.
 */
export interface LinkPolicy {
  /** A connection that had replied and then was closed by the far end: another client took the device. */
  readonly yieldWhenClosedAfterReplies: boolean;
  /** Refused/quickly closed connections in a row, before any reply, that mean another client holds the device (0: never). */
  readonly quickFailuresBeforeYield: number;
  /** Re-send the first request until answered: a relay may swallow the frame after the login line. */
  readonly resendFirstRequest: boolean;
  /** Confirm the device's identity with a second FW_VERSION: a relay may flush a previous client's replies first. */
  readonly confirmIdentity: boolean;
}

/** No yielding, nothing to allow for: a link with no other client to share the device with. */
export const PLAIN_LINK: LinkPolicy = {
  yieldWhenClosedAfterReplies: false,
  quickFailuresBeforeYield: 0,
  resendFirstRequest: false,
  confirmIdentity: false,
};

/**
 * Opens one connection. Rejects with TransportError; honours the abort signal. Factories made
 * from the transport table (kinds.ts) carry their kind's `policy`.
 */
export type TransportFactory = ((signal: AbortSignal) => Promise<Transport>) & {
  readonly policy?: LinkPolicy;
};

/** The same factory, tagged with the policy the poller should use for it. */
export function withPolicy(
  open: (signal: AbortSignal) => Promise<Transport>,
  policy: LinkPolicy,
): TransportFactory {
  return Object.assign((signal: AbortSignal) => open(signal), { policy });
}

/** How to reach a device: one variant per row of the transport table (kinds.ts). */
export type { ConnectionSpec } from "./kinds.js";

export const DEFAULT_TCP_PORT = 65102;
export const DEFAULT_HUB_PORT = 65101;
export const DEFAULT_BAUD = 115200;
