/**
 * The transport table: every kind of link in one place. A row says how the kind is chosen
 * (CLI flags, config entry and its keys, device URL), how its URL is written without secrets,
 * where its password comes from, which settings can never connect (not recoverable: the
 * poller stops trying instead of retrying forever), how a connection is opened, and the link
 * policy the poller follows (yielding to another client, what the handshake must allow for).
 * The config schema, the CLI flags, URL parsing and the configuration docs are built from
 * the rows: nothing else branches on the kind. Adding a transport = its opener in one file +
 * one row here (docs/architecture.md).
 */
import { z } from "zod";
import { PASSWORD_NOTE, passwordSources, port, text } from "../config/fields.js";
import { HUB_LINK, type HubSpec, PUBLIC_HUB_HOST, hubLoginProblem, hubTransport, hubUrl } from "./hub.js";
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
export interface SpecBase {
  readonly type: string;
}
/** What a device URL or a config entry says before secrets are resolved: the spec without its password. */
export type DeviceUrlOf<S extends SpecBase> = Omit<S, "password">;

/** A kind's `connection` keys in the config (camelCase): a strict object whose `type` is the kind's name. */
export type ConnectionEntrySchema = z.ZodObject<
  { readonly type: z.ZodLiteral<string> } & z.core.$ZodShape,
  z.core.$strict
>;
/** A validated config entry of a kind, with its password (if any) resolved by the loader. */
export type ConfigEntryOf<C extends ConnectionEntrySchema> = z.output<C> & {
  readonly password?: string | undefined;
};

export interface FactoryOptions {
  readonly connectTimeoutMs?: number;
}

/** The connection flags of `read`/`scan`, as node:util parseArgs returns them. */
export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

export interface FlagContext {
  /** Throws the command's usage error (exit code 2). */
  readonly fail: (message: string) => never;
  /** Resolves the kind's password (its `password.fileFlag` or `password.env`; never a flag value). */
  readonly password: () => string;
  /** Parses HOST[:PORT] for `flag`. */
  readonly hostPort: (text: string, defaultPort: number, flag: string) => { host: string; port: number };
  /** Parses a whole number flag within bounds (undefined when absent). */
  readonly integer: (text: string | undefined, flag: string, min: number, max: number) => number | undefined;
}

/**
 * Where a kind's secret comes from when the spec carries one. In the config: the entry's
 * `password`, `password_file` or `password_env` keys (its schema has them), else `env`.
 * On the command line: the file named by `fileFlag`, else `env`. Never in a URL or a flag value.
 */
export interface PasswordRule {
  /** What the secret is, for messages ("hub password"). */
  readonly what: string;
  /** The environment variable used when nothing else gives one. */
  readonly env: string;
  /** The CLI flag naming a file that holds it; listed in the row's `flags` too. */
  readonly fileFlag: string;
}

/** The kind's part of docs/configuration.md. */
export interface KindDocs {
  /** What the kind is, after "`type`:" in the `connection.type` line. */
  readonly summary: string;
  /** One line per key of the row's `config` besides `type`, by camelCase key. */
  readonly keys: Readonly<Record<string, string>>;
}

export interface TransportKind<S extends SpecBase, C extends ConnectionEntrySchema = ConnectionEntrySchema> {
  readonly type: S["type"];
  /** Device URL scheme, e.g. `tcp` for tcp://HOST:PORT. */
  readonly scheme: string;
  /** The URL form, for messages. */
  readonly urlForm: string;
  /** The CLI flag that selects this kind ("tcp" for --tcp) and its form, for messages and usage. */
  readonly flag: string;
  readonly flagForm: string;
  /** Further CLI flags: value type only (parseArgs); they are valid with this kind only. */
  readonly flags: readonly string[];
  /** Flags that go only with this kind (--hub-id goes with --hub). */
  readonly companionFlags: readonly string[];
  /** The config's `connection` keys for this kind; the config schema is the union of every row's. */
  readonly config: C;
  readonly docs: KindDocs;
  /** The spec carries a password, resolved by the caller from these sources; absent = no secret. */
  readonly password?: PasswordRule;
  fromFlags(values: FlagValues, ctx: FlagContext): S;
  /** A config entry (validated by `config`, password resolved) as a spec. */
  fromConfig(entry: ConfigEntryOf<C>): S;
  /** Parses the part after `scheme://`; `fail` throws the invalid-URL error. */
  parseUrl(rest: string, fail: (why: string) => never): DeviceUrlOf<S>;
  /** Where the connection goes, safe for logs and status (no password). */
  url(spec: DeviceUrlOf<S>): string;
  /** Why a spec can never connect (checked again by every connection attempt), or undefined. */
  unusable(spec: S): string | undefined;
  /** A relay anyone can reach, named for a warning before `scan` pings a bus through it; else undefined. */
  publicRelay?(spec: S): string | undefined;
  open(spec: S, options: FactoryOptions): TransportFactory;
  /** Yielding and handshake allowances (declared beside the opener, which tags its factories with it). */
  readonly policy: LinkPolicy;
}

/** Any row, for code that treats every kind alike (and for tables built in tests). */
export type AnyTransportKind = TransportKind<SpecBase, ConnectionEntrySchema>;

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

const tcpConfig = z.strictObject({ type: z.literal("tcp"), host: text(), port: port(DEFAULT_TCP_PORT) });

const tcp: TransportKind<TcpSpec, typeof tcpConfig> = {
  type: "tcp",
  scheme: "tcp",
  urlForm: "tcp://HOST[:PORT]",
  flag: "tcp",
  flagForm: "--tcp HOST[:PORT]",
  flags: [],
  companionFlags: [],
  config: tcpConfig,
  docs: {
    summary: "the VESC Express's own TCP server",
    keys: { host: "Address of the VESC Express.", port: "TCP port of the VESC Express." },
  },
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

const hubConfig = z.strictObject({
  type: z.literal("hub"),
  host: text(),
  port: port(DEFAULT_HUB_PORT),
  hubId: text(),
  ...passwordSources,
});
const HUB_PASSWORD_ENV = "VESC_HUB_PASSWORD";

const hub: TransportKind<HubSpec, typeof hubConfig> = {
  type: "hub",
  scheme: "hub",
  urlForm: "hub://HOST[:PORT]/HUB_ID",
  flag: "hub",
  flagForm: "--hub HOST[:PORT] --hub-id ID",
  flags: ["hub-id", "hub-password-file"],
  companionFlags: ["hub-id"],
  config: hubConfig,
  docs: {
    summary: "through a VESC Hub (public, or `vesc2mqtt hub`)",
    keys: {
      host: "Address of the hub. For a hub hosted by this bridge (`hub.enabled`) use `local`: read in-process, no network login.",
      port: "TCP port of the hub.",
      hubId: "The device's id on the hub (VESC Tool's \"VESC ID\").",
      password: `Hub password inline; ${PASSWORD_NOTE}. Without any, the environment variable \`${HUB_PASSWORD_ENV}\`.`,
      passwordFile: "File holding the hub password.",
      passwordEnv: "Environment variable holding the hub password.",
    },
  },
  password: { what: "hub password", env: HUB_PASSWORD_ENV, fileFlag: "hub-password-file" },
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
  publicRelay: (s) =>
    s.host.toLowerCase().replace(/\.$/, "") === PUBLIC_HUB_HOST
      ? `the public hub ${PUBLIC_HUB_HOST}`
      : undefined,
  open: (s, o) =>
    hubTransport({ host: s.host, port: s.port, hubId: s.hubId, password: s.password, ...timeout(o) }),
  policy: HUB_LINK,
};

const serialConfig = z.strictObject({
  type: z.literal("serial"),
  path: text(),
  baud: z
    .number({ error: "expected a baud rate" })
    .int()
    .positive({ error: "expected a baud rate" })
    .default(DEFAULT_BAUD),
});

const serial: TransportKind<SerialSpec, typeof serialConfig> = {
  type: "serial",
  scheme: "serial",
  urlForm: "serial:///DEV[?baud=N]",
  flag: "serial",
  flagForm: "--serial PATH [--baud N]",
  flags: ["baud"],
  companionFlags: ["baud"],
  config: serialConfig,
  docs: {
    summary: "a USB VESC",
    keys: { path: "Serial device, e.g. `/dev/ttyACM0`.", baud: "Serial baud rate." },
  },
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

/** The rows, in the order usage lines, messages and the configuration docs list them. */
const ROWS = [tcp, hub, serial] as const;

type Row = (typeof ROWS)[number];
export type TransportKindName = Row["type"];
type SpecOfRow<R> = R extends TransportKind<infer S, infer _C> ? S : never;
/** How to reach a device, one variant per row; a password is already resolved by the caller. */
export type ConnectionSpec = SpecOfRow<Row>;
export type SpecOf<K extends TransportKindName> = SpecOfRow<Extract<Row, { readonly type: K }>>;

/** The table. Each key is its row's `type`, the config's `connection.type`. */
export const TRANSPORT_KINDS = Object.fromEntries(ROWS.map((r) => [r.type, r])) as {
  readonly [R in Row as R["type"]]: R;
};
/** Every row, for code that treats every kind alike: the config schema, the CLI, URL parsing, the docs. */
export const TRANSPORT_KIND_LIST = ROWS;
export const TRANSPORT_KIND_NAMES: readonly TransportKindName[] = ROWS.map((r) => r.type);

export function transportKind(type: TransportKindName): AnyTransportKind {
  return TRANSPORT_KINDS[type];
}

/** A factory for `spec` from its row, tagged with the row's link policy. */
export function kindFactory(
  kind: AnyTransportKind,
  spec: SpecBase,
  options: FactoryOptions = {},
): TransportFactory {
  const problem = kind.unusable(spec);
  if (problem !== undefined) {
    const error = new TransportError("ConnectFailed", `${kind.url(spec)}: ${problem}`, false);
    return withPolicy(() => Promise.reject(error), kind.policy);
  }
  return withPolicy(kind.open(spec, options), kind.policy);
}

/** A factory for `spec`, tagged with its kind's link policy. */
export function createTransportFactory(spec: ConnectionSpec, options: FactoryOptions = {}): TransportFactory {
  return kindFactory(transportKind(spec.type), spec, options);
}

/** The URL of a spec, safe for logs and status (no password). */
export function transportUrl(spec: ConnectionSpec | DeviceUrlOf<ConnectionSpec>): string {
  return transportKind(spec.type).url(spec);
}

/** The secret a spec carries (to scrub from messages), or undefined for a kind without one. */
export function transportSecret(kind: AnyTransportKind, spec: SpecBase): string | undefined {
  if (kind.password === undefined || !("password" in spec)) return undefined;
  return typeof spec.password === "string" && spec.password !== "" ? spec.password : undefined;
}
