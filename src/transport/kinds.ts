/**
 * The transport table: every kind of link in one place. A row says how the kind is chosen
 * (CLI flags, config entry, device URL), how its URL is written without secrets, which
 * settings can never connect (not recoverable: the poller stops trying instead of retrying
 * forever), how a connection is opened, and the link policy the poller follows (yielding to
 * another client, what the handshake must allow for). Nothing else branches on the kind.
 * Adding a transport = its opener in one file + one row here (docs/architecture.md).
 */
import { HUB_LINK, type HubSpec, hubLoginProblem, hubTransport, hubUrl } from "./hub.js";
import { SERIAL_LINK, type SerialSpec, serialTransport, serialUrl } from "./serial.js";
import { TCP_LINK, type TcpSpec, hostPort, tcpTransport } from "./tcp.js";
import {
  DEFAULT_BAUD,
  DEFAULT_HUB_PORT,
  DEFAULT_TCP_PORT,
  type LinkPolicy,
  TransportError,
  type TransportFactory,
  withPolicy,
} from "./transport.js";

/** What every kind's spec has: the kind's name, also the config's `connection.type`. */
interface SpecBase {
  readonly type: string;
}
/** What a device URL or a config entry says before secrets are resolved: the spec without its password. */
export type DeviceUrlOf<S extends SpecBase> = Omit<S, "password">;

export interface FactoryOptions {
  readonly connectTimeoutMs?: number;
}

/** The connection flags of `read`/`scan`, as node:util parseArgs returns them. */
export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

export interface FlagContext {
  /** Throws the command's usage error (exit code 2). */
  readonly fail: (message: string) => never;
  /** Resolves the hub password (file or environment; never a flag). */
  readonly password: () => string;
  /** Parses HOST[:PORT] for `flag`. */
  readonly hostPort: (text: string, defaultPort: number, flag: string) => { host: string; port: number };
  /** Parses a whole number flag within bounds (undefined when absent). */
  readonly integer: (text: string | undefined, flag: string, min: number, max: number) => number | undefined;
}

export interface TransportKind<S extends SpecBase> {
  readonly type: S["type"];
  /** Device URL scheme, e.g. `tcp` for tcp://HOST:PORT. */
  readonly scheme: string;
  /** The URL form, for messages. */
  readonly urlForm: string;
  /** The CLI flag that selects this kind ("tcp" for --tcp) and its form, for messages. */
  readonly flag: string;
  readonly flagForm: string;
  /** The spec carries a password, resolved by the caller (file, environment, config); never in a URL. */
  readonly needsPassword: boolean;
  /** Further CLI flags: value type only (parseArgs); they are valid with this kind only. */
  readonly flags: readonly string[];
  /** Flags that go only with this kind (--hub-id goes with --hub). */
  readonly companionFlags: readonly string[];
  fromFlags(values: FlagValues, ctx: FlagContext): S;
  /** A config entry (validated by src/config/schema.ts, password resolved) as a spec. */
  fromConfig(entry: DeviceUrlOf<S> & { readonly password?: string | undefined }): S;
  /** Parses the part after `scheme://`; `fail` throws the invalid-URL error. */
  parseUrl(rest: string, fail: (why: string) => never): DeviceUrlOf<S>;
  /** Where the connection goes, safe for logs and status (no password). */
  url(spec: DeviceUrlOf<S>): string;
  /** Why a spec can never connect (checked again by every connection attempt), or undefined. */
  unusable(spec: S): string | undefined;
  open(spec: S, options: FactoryOptions): TransportFactory;
  /** Yielding and handshake allowances (declared beside the opener, which tags its factories with it). */
  readonly policy: LinkPolicy;
}

const timeout = (o: FactoryOptions) => (o.connectTimeoutMs ? { connectTimeoutMs: o.connectTimeoutMs } : {});

/** `HOST[:PORT][/PATH]` of a tcp:// or hub:// URL. */
function authorityAndPath(
  rest: string,
  fail: (why: string) => never,
  defaultPort: number,
): { host: string; port: number; path: string } {
  if (rest.includes("@")) fail("credentials do not belong in the URL; pass the hub password separately");
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash + 1).replace(/\/+$/, "");
  const { host, portText } = splitHostPort(authority);
  if (host === "") fail("missing host");
  let port = defaultPort;
  if (portText !== "") {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail("port must be 1-65535");
  }
  return { host, port, path };
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

const tcp: TransportKind<TcpSpec> = {
  type: "tcp",
  scheme: "tcp",
  urlForm: "tcp://HOST[:PORT]",
  flag: "tcp",
  flagForm: "--tcp HOST[:PORT]",
  needsPassword: false,
  flags: [],
  companionFlags: [],
  fromFlags: (v, ctx) => ({ type: "tcp", ...ctx.hostPort(String(v.tcp), DEFAULT_TCP_PORT, "--tcp") }),
  fromConfig: (c) => ({ type: "tcp", host: c.host, port: c.port }),
  parseUrl(rest, fail) {
    const { host, port, path } = authorityAndPath(rest, fail, DEFAULT_TCP_PORT);
    if (path !== "") fail("a tcp URL has no path");
    return { type: "tcp", host, port };
  },
  url: (s) => `tcp://${hostPort(s.host, s.port)}`,
  unusable: () => undefined,
  open: (s, o) => tcpTransport({ host: s.host, port: s.port, ...timeout(o) }),
  policy: TCP_LINK,
};

const hub: TransportKind<HubSpec> = {
  type: "hub",
  scheme: "hub",
  urlForm: "hub://HOST[:PORT]/HUB_ID",
  flag: "hub",
  flagForm: "--hub HOST[:PORT] --hub-id ID",
  needsPassword: true,
  flags: ["hub-id", "hub-password-file"],
  companionFlags: ["hub-id"],
  fromFlags(v, ctx) {
    const hubId = typeof v["hub-id"] === "string" ? v["hub-id"].trim() : "";
    if (hubId === "") ctx.fail("--hub needs --hub-id ID");
    if (hubId.includes(":")) ctx.fail("--hub-id must not contain ':'");
    const password = ctx.password();
    return { type: "hub", ...ctx.hostPort(String(v.hub), DEFAULT_HUB_PORT, "--hub"), hubId, password };
  },
  fromConfig: (c) => ({
    type: "hub",
    host: c.host,
    port: c.port,
    hubId: c.hubId,
    password: c.password ?? "",
  }),
  parseUrl(rest, fail) {
    const { host, port, path } = authorityAndPath(rest, fail, DEFAULT_HUB_PORT);
    if (path === "") fail("expected hub://HOST[:PORT]/HUB_ID");
    return { type: "hub", host, port, hubId: decodeURIComponent(path) };
  },
  url: (s) => hubUrl(s.host, s.port, s.hubId),
  unusable: (s) => hubLoginProblem(s.hubId, s.password),
  open: (s, o) =>
    hubTransport({ host: s.host, port: s.port, hubId: s.hubId, password: s.password, ...timeout(o) }),
  policy: HUB_LINK,
};

const serial: TransportKind<SerialSpec> = {
  type: "serial",
  scheme: "serial",
  urlForm: "serial:///DEV[?baud=N]",
  flag: "serial",
  flagForm: "--serial PATH [--baud N]",
  needsPassword: false,
  flags: ["baud"],
  companionFlags: ["baud"],
  fromFlags(v, ctx) {
    const path = typeof v.serial === "string" ? v.serial : "";
    if (path === "") ctx.fail("--serial: expected a device path such as /dev/ttyACM0");
    const baudText = typeof v.baud === "string" ? v.baud : undefined;
    return { type: "serial", path, baud: ctx.integer(baudText, "--baud", 1, 10_000_000) ?? DEFAULT_BAUD };
  },
  fromConfig: (c) => ({ type: "serial", path: c.path, baud: c.baud }),
  parseUrl(rest, fail) {
    const [path = "", query = ""] = rest.split("?", 2);
    if (!path.startsWith("/")) fail("expected serial:///dev/ttyACM0");
    const baudText = new URLSearchParams(query).get("baud");
    const baud = baudText === null ? DEFAULT_BAUD : Number(baudText);
    if (!Number.isInteger(baud) || baud <= 0) fail("baud must be a positive integer");
    return { type: "serial", path: decodeURIComponent(path), baud };
  },
  url: (s) => serialUrl(s.path, s.baud),
  // A missing /dev/ttyACM0 is a board not plugged in yet: recoverable, like every open error.
  unusable: () => undefined,
  open: (s) => serialTransport({ path: s.path, baud: s.baud }),
  policy: SERIAL_LINK,
};

/** The table. Each key is its row's `type`, the config's `connection.type`. */
export const TRANSPORT_KINDS = { tcp, hub, serial } as const;

type Rows = typeof TRANSPORT_KINDS;
export type TransportKindName = keyof Rows;
type SpecOfRow<R> = R extends TransportKind<infer S> ? S : never;
/** How to reach a device, one variant per row; a hub password is already resolved by the caller. */
export type ConnectionSpec = SpecOfRow<Rows[TransportKindName]>;
export type SpecOf<K extends TransportKindName> = SpecOfRow<Rows[K]>;
/** Any row, for code that treats every kind alike. */
export type AnyTransportKind = TransportKind<ConnectionSpec>;

export const TRANSPORT_KIND_NAMES = Object.keys(TRANSPORT_KINDS) as TransportKindName[];

export function transportKind(type: TransportKindName): AnyTransportKind {
  return TRANSPORT_KINDS[type] as AnyTransportKind;
}

/** A factory for `spec`, tagged with its kind's link policy. */
export function createTransportFactory(spec: ConnectionSpec, options: FactoryOptions = {}): TransportFactory {
  const kind = transportKind(spec.type);
  const problem = kind.unusable(spec);
  if (problem !== undefined) {
    const error = new TransportError("ConnectFailed", `${kind.url(spec)}: ${problem}`, false);
    return withPolicy(() => Promise.reject(error), kind.policy);
  }
  return withPolicy(kind.open(spec, options), kind.policy);
}

/** The URL of a spec, safe for logs and status (no password). */
export function transportUrl(spec: ConnectionSpec | DeviceUrlOf<ConnectionSpec>): string {
  return transportKind(spec.type).url(spec as DeviceUrlOf<ConnectionSpec>);
}
