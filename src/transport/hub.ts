/**
 * VESC Hub relay client (vesc_tool `tcphub.cpp`, docs/connecting.md): connect, send the
 * line `VESCTOOL:<id>:<password>\n`, then frames flow as if the device were attached. The hub
 * never answers the login: a wrong id/password or an offline device shows only as the hub
 * closing the socket before anything arrived, reported as LoginRejected. The password is
 * written to the socket and nowhere else: not in the URL, errors or logs.
 */
import { type LinkPolicy, TransportError, type TransportFactory, withPolicy } from "./transport.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, SocketTransport, hostPort, openSocket } from "./tcp.js";

/** A VESC Hub login (`hub://HOST:PORT/ID`); the password is resolved by the caller. */
export interface HubSpec {
  readonly type: "hub";
  readonly host: string;
  readonly port: number;
  readonly hubId: string;
  readonly password: string;
}

export interface HubTransportOptions {
  readonly host: string;
  readonly port: number;
  readonly hubId: string;
  readonly password: string;
  readonly connectTimeoutMs?: number;
}

/** The public VESC Hub run by the VESC project: anyone can reach a device registered there. */
export const PUBLIC_HUB_HOST = "veschub.vedder.se";

export const LOGIN_REJECTED_MESSAGE =
  "hub closed the connection after login: wrong hub id/password or device offline";

/** The hub URL without the password. */
export function hubUrl(host: string, port: number, hubId: string): string {
  return `hub://${hostPort(host, port)}/${encodeURIComponent(hubId)}`;
}

/**
 * Why a login can never succeed, or undefined. The hub splits the line on ':' and wants
 * exactly three tokens: caught here with a clear message instead of a silent close (which
 * would read as a wrong password, and be retried forever).
 */
export function hubLoginProblem(hubId: string, password: string): string | undefined {
  return [hubId, password].some((s) => s.includes(":") || s.includes("\n"))
    ? "hub id and password must not contain ':' or newlines"
    : undefined;
}

/**
 * The hub hands the device to the newest login and closes the previous session; it may
 * swallow the frame right after the login line and flush a previous client's replies.
 */
export const HUB_LINK: LinkPolicy = {
  yieldWhenClosedAfterReplies: true,
  quickFailuresBeforeYield: 0,
  resendFirstRequest: true,
  confirmIdentity: true,
};

export function hubTransport(options: HubTransportOptions): TransportFactory {
  const url = hubUrl(options.host, options.port, options.hubId);
  const problem = hubLoginProblem(options.hubId, options.password);
  return withPolicy(async (signal) => {
    // Not recoverable: the same login line would be refused the same way on every attempt.
    if (problem !== undefined) throw new TransportError("ConnectFailed", `${url}: ${problem}`, false);
    const socket = await openSocket(
      options.host,
      options.port,
      url,
      signal,
      options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    );
    const transport = new SocketTransport(url, socket, (self, cause) =>
      self.bytesReceived === 0
        ? new TransportError("LoginRejected", `${url}: ${LOGIN_REJECTED_MESSAGE}`, true, { cause })
        : new TransportError("Closed", `${url}: the hub closed the connection`, true, { cause }),
    );
    try {
      await transport.write(new TextEncoder().encode(`VESCTOOL:${options.hubId}:${options.password}\n`));
    } catch (e) {
      await transport.close();
      throw new TransportError("ConnectFailed", `cannot log in to ${url}: connection lost`, true, {
        cause: e,
      });
    }
    return transport;
  }, HUB_LINK);
}
