/**
 * Picks the transport for a connection spec or a device URL:
 *   tcp://host:65102   hub://host:65101/<hub id>   serial:///dev/ttyACM0?baud=115200
 * URLs never carry the hub password; it is resolved by the caller (file, env, config).
 */
import { hubTransport, hubUrl } from "./hub.js";
import { serialTransport, serialUrl } from "./serial.js";
import { hostPort, tcpTransport } from "./tcp.js";
import {
  type ConnectionSpec,
  DEFAULT_BAUD,
  DEFAULT_HUB_PORT,
  DEFAULT_TCP_PORT,
  TransportError,
  type TransportFactory,
} from "./transport.js";

export interface FactoryOptions {
  readonly connectTimeoutMs?: number;
}

/** A parsed device URL: a ConnectionSpec without the hub password. */
export type DeviceUrl =
  | Extract<ConnectionSpec, { type: "tcp" | "serial" }>
  | Omit<Extract<ConnectionSpec, { type: "hub" }>, "password">;

export function createTransportFactory(spec: ConnectionSpec, options: FactoryOptions = {}): TransportFactory {
  const connectTimeoutMs = options.connectTimeoutMs;
  switch (spec.type) {
    case "tcp":
      return tcpTransport({
        host: spec.host,
        port: spec.port,
        ...(connectTimeoutMs ? { connectTimeoutMs } : {}),
      });
    case "hub":
      return hubTransport({
        host: spec.host,
        port: spec.port,
        hubId: spec.hubId,
        password: spec.password,
        ...(connectTimeoutMs ? { connectTimeoutMs } : {}),
      });
    case "serial":
      return serialTransport({ path: spec.path, baud: spec.baud });
  }
}

/** The URL of a spec, safe for logs and status (no password). */
export function transportUrl(spec: ConnectionSpec | DeviceUrl): string {
  switch (spec.type) {
    case "tcp":
      return `tcp://${hostPort(spec.host, spec.port)}`;
    case "hub":
      return hubUrl(spec.host, spec.port, spec.hubId);
    case "serial":
      return serialUrl(spec.path, spec.baud);
  }
}

function badUrl(url: string, why: string): TransportError {
  // Echo the URL only without any userinfo part, which could hold a password.
  const shown = url.replace(/\/\/[^@/]*@/, "//");
  return new TransportError("ConnectFailed", `invalid device URL "${shown}": ${why}`, false);
}

function parsePort(text: string, url: string, fallback: number): number {
  if (text === "") return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw badUrl(url, "port must be 1-65535");
  return port;
}

/** Parses `tcp://`, `hub://` and `serial://` device URLs. Throws TransportError (not recoverable). */
export function parseDeviceUrl(url: string): DeviceUrl {
  const m = /^([a-z]+):\/\/(.*)$/i.exec(url.trim());
  if (!m) throw badUrl(url, "expected tcp://HOST[:PORT], hub://HOST[:PORT]/ID or serial:///DEV[?baud=N]");
  const scheme = (m[1] ?? "").toLowerCase();
  const rest = m[2] ?? "";
  if (scheme === "serial") {
    const [path = "", query = ""] = rest.split("?", 2);
    if (!path.startsWith("/")) throw badUrl(url, "expected serial:///dev/ttyACM0");
    const baudText = new URLSearchParams(query).get("baud");
    const baud = baudText === null ? DEFAULT_BAUD : Number(baudText);
    if (!Number.isInteger(baud) || baud <= 0) throw badUrl(url, "baud must be a positive integer");
    return { type: "serial", path: decodeURIComponent(path), baud };
  }
  if (scheme !== "tcp" && scheme !== "hub")
    throw badUrl(url, `unknown scheme "${scheme}" (tcp, hub or serial)`);
  if (rest.includes("@"))
    throw badUrl(url, "credentials do not belong in the URL; pass the hub password separately");
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash + 1).replace(/\/+$/, "");
  const { host, portText } = splitHostPort(authority);
  if (host === "") throw badUrl(url, "missing host");
  if (scheme === "tcp") {
    if (path !== "") throw badUrl(url, "a tcp URL has no path");
    return { type: "tcp", host, port: parsePort(portText, url, DEFAULT_TCP_PORT) };
  }
  if (path === "") throw badUrl(url, "expected hub://HOST[:PORT]/HUB_ID");
  return {
    type: "hub",
    host,
    port: parsePort(portText, url, DEFAULT_HUB_PORT),
    hubId: decodeURIComponent(path),
  };
}

/** Splits "host", "host:port", "[v6]" or "[v6]:port". */
export function splitHostPort(authority: string): { host: string; portText: string } {
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) return { host: "", portText: "" };
    const after = authority.slice(close + 1);
    return { host: authority.slice(1, close), portText: after.startsWith(":") ? after.slice(1) : after };
  }
  const colon = authority.lastIndexOf(":");
  // More than one colon without brackets: a bare IPv6 address, no port.
  if (colon < 0 || authority.indexOf(":") !== colon) return { host: authority, portText: "" };
  return { host: authority.slice(0, colon), portText: authority.slice(colon + 1) };
}

/** Device URL + resolved password → factory; the one-call form of sketch C. */
export function transportFromUrl(
  url: string,
  options: FactoryOptions & { password?: string } = {},
): TransportFactory {
  const parsed = parseDeviceUrl(url);
  if (parsed.type === "hub") {
    if (options.password === undefined) {
      throw new TransportError("ConnectFailed", `${transportUrl(parsed)}: a hub password is required`, false);
    }
    return createTransportFactory({ ...parsed, password: options.password }, options);
  }
  return createTransportFactory(parsed, options);
}
