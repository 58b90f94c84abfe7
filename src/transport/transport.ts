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
    /** Worth retrying with backoff (true for nearly everything but a bad URL). */
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

/** Opens one connection. Rejects with TransportError; honours the abort signal. */
export type TransportFactory = (signal: AbortSignal) => Promise<Transport>;

/** How to reach a device; the password is already resolved (from file/env/config) by the caller. */
export type ConnectionSpec =
  | { readonly type: "tcp"; readonly host: string; readonly port: number }
  | {
      readonly type: "hub";
      readonly host: string;
      readonly port: number;
      readonly hubId: string;
      readonly password: string;
    }
  | { readonly type: "serial"; readonly path: string; readonly baud: number };

export const DEFAULT_TCP_PORT = 65102;
export const DEFAULT_HUB_PORT = 65101;
export const DEFAULT_BAUD = 115200;
