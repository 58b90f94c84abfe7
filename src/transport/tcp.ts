/**
 * Direct TCP to a VESC Express (port 65102, plain framing both ways, no login): opens the
 * socket and hands it to the stream transport. The socket gets the options the Express itself
 * uses (vesc_express `main/comm_wifi.c`): no-delay, so a 6-byte request is not held back by
 * Nagle, and keep-alive, so a dead peer is noticed. The hub transport reuses the opener.
 */
import { type Socket, connect } from "node:net";
import { StreamTransport } from "./stream.js";
import {
  type LinkPolicy,
  PLAIN_LINK,
  TransportError,
  type TransportFactory,
  withPolicy,
} from "./transport.js";

/** A direct TCP connection (config `connection.type: tcp`, `tcp://HOST:PORT`). */
export interface TcpSpec {
  readonly type: "tcp";
  readonly host: string;
  readonly port: number;
}

export interface TcpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** Give up connecting after this long, ms (default 5000). */
  readonly connectTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const KEEPALIVE_IDLE_MS = 5000;

/** Human text for the errno codes a user can cause (bad host, nothing listening, ...). */
export function describeSocketError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "no such host";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    case "ECONNRESET":
      return "connection reset by peer";
    case "ETIMEDOUT":
      return "timed out";
    case "EPIPE":
      return "connection closed by peer";
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

/** A connected socket as a Transport (the stream transport, ended by destroying the socket). */
export class SocketTransport extends StreamTransport {
  constructor(
    url: string,
    socket: Socket,
    /** Maps a remote close to the error reported with it. */
    closeError?: (self: StreamTransport, cause?: Error) => TransportError,
  ) {
    super(url, socket, {
      end: () => socket.destroy(),
      describeError: describeSocketError,
      ...(closeError ? { closeError } : {}),
    });
  }
}

/**
 * Opens a TCP socket with timeout and abort handling; resolves once connected.
 * Rejects with TransportError ConnectFailed / ConnectTimeout; never leaves the socket open.
 */
export function openSocket(
  host: string,
  port: number,
  url: string,
  signal: AbortSignal,
  connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new TransportError("ConnectFailed", `${url}: aborted`, true, { cause: signal.reason }));
      return;
    }
    const socket = connect({
      host,
      port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: KEEPALIVE_IDLE_MS,
    });
    const done = (error?: TransportError): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      socket.off("error", onError);
      socket.off("connect", onConnect);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve(socket);
      }
    };
    const onAbort = (): void =>
      done(new TransportError("ConnectFailed", `${url}: aborted`, true, { cause: signal.reason }));
    const onError = (e: Error): void =>
      done(
        new TransportError("ConnectFailed", `cannot connect to ${url}: ${describeSocketError(e)}`, true, {
          cause: e,
        }),
      );
    const onConnect = (): void => done();
    const timer = setTimeout(
      () =>
        done(
          new TransportError(
            "ConnectTimeout",
            `cannot connect to ${url}: timed out after ${connectTimeoutMs} ms`,
          ),
        ),
      connectTimeoutMs,
    );
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", onError);
    socket.once("connect", onConnect);
  });
}

/** Formats host:port for URLs, bracketing IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The Express serves one TCP client: refused or dropped right away, again and again, means
 * VESC Tool has it.
 */
export const TCP_LINK: LinkPolicy = { ...PLAIN_LINK, quickFailuresBeforeYield: 3 };

export function tcpTransport(options: TcpTransportOptions): TransportFactory {
  const url = `tcp://${hostPort(options.host, options.port)}`;
  return withPolicy(async (signal) => {
    const socket = await openSocket(options.host, options.port, url, signal, options.connectTimeoutMs);
    return new SocketTransport(url, socket);
  }, TCP_LINK);
}
