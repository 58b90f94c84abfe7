/**
 * The connection flags `read` and `scan` share, one set per kind in the transport table
 * (src/transport/kinds.ts), e.g. --tcp HOST[:PORT] | --hub HOST[:PORT] --hub-id ID, plus
 * --timeout. A kind's password comes from the file its row's `password.fileFlag` names or
 * from its environment variable, never from the command line (where `ps` would show it).
 */
import { readFileSync } from "node:fs";
import {
  type AnyTransportKind,
  type FlagContext,
  type PasswordRule,
  type SpecBase,
  splitHostPort,
  TRANSPORT_KIND_LIST,
  transportSecret,
} from "../transport/kinds.js";
import type { ConnectionSpec, LinkPolicy } from "../transport/transport.js";

/** A mistake on the command line: exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** parseArgs options for `kinds`: each kind's flags plus --timeout. */
export function connectionOptionsOf(
  kinds: readonly AnyTransportKind[],
): Readonly<Record<string, { type: "string" }>> {
  return Object.fromEntries(
    [...kinds.flatMap((k) => [k.flag, ...k.flags]), "timeout"].map((f) => [f, { type: "string" }]),
  );
}

/** The usage text of the connection flags of `kinds`: "(--tcp … | …)" and the password-file flags. */
export function connectionUsageOf(kinds: readonly AnyTransportKind[]): { choose: string; files: string } {
  const files = kinds.flatMap((k) => (k.password ? [`[--${k.password.fileFlag} F]`] : []));
  return { choose: `(${kinds.map((k) => k.flagForm).join(" | ")})`, files: [...new Set(files)].join(" ") };
}

/** parseArgs options: each kind's flags (from the transport table) plus --timeout. */
export const CONNECTION_OPTIONS = connectionOptionsOf(TRANSPORT_KIND_LIST);
/** For usage lines: `${choose} [command flags] [--timeout SECONDS] ${files}`. */
export const CONNECTION_USAGE = connectionUsageOf(TRANSPORT_KIND_LIST);

export type ConnectionValues = Readonly<Record<string, string | boolean | undefined>>;

export interface CliIo {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Cancels the command like Ctrl-C (tests). */
  readonly signal?: AbortSignal;
}

export interface ResolvedConnection<S extends SpecBase = ConnectionSpec> {
  readonly spec: S;
  /** Without the password. */
  readonly url: string;
  /** The kind's link policy: the handshake follows its allowances. */
  readonly policy: LinkPolicy;
  /** The spec's password, to scrub from messages (undefined for a kind without one). */
  readonly secret: string | undefined;
  /** A relay anyone can reach, named for a warning (the public hub); else undefined. */
  readonly publicRelay: string | undefined;
  /** Connect and per-request timeout from --timeout, ms (undefined = defaults). */
  readonly timeoutMs: number | undefined;
}

export function parseHostPort(
  text: string,
  defaultPort: number,
  flag: string,
): { host: string; port: number } {
  const { host, portText } = splitHostPort(text.trim());
  if (host === "") throw new UsageError(`${flag}: expected HOST[:PORT], got "${text}"`);
  if (portText === "") return { host, port: defaultPort };
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`${flag}: port must be a number 1-65535, got "${portText}"`);
  }
  return { host, port };
}

/** A non-negative number of seconds from a flag, as ms. */
export function secondsFlag(
  text: string | undefined,
  flag: string,
  opts: { min?: number } = {},
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < (opts.min ?? 0)) {
    throw new UsageError(
      `${flag}: expected a number of seconds${opts.min ? ` ≥ ${opts.min}` : " ≥ 0"}, got "${text}"`,
    );
  }
  return Math.round(n * 1000);
}

export function integerFlag(
  text: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: expected a whole number ${min}-${max}, got "${text}"`);
  }
  return n;
}

function stringFlag(v: string | boolean | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function readPassword(
  rule: PasswordRule | undefined,
  values: ConnectionValues,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (rule === undefined) throw new Error("this transport kind has no password rule");
  const file = stringFlag(values[rule.fileFlag]);
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "error";
      throw new UsageError(`cannot read --${rule.fileFlag} ${file} (${code})`);
    }
    // Editors add a final newline; the password itself never contains one (it ends the login line).
    const password = text.replace(/\r?\n$/, "");
    if (password === "") throw new UsageError(`--${rule.fileFlag} ${file} is empty`);
    return password;
  }
  const fromEnv = env[rule.env];
  if (fromEnv === undefined || fromEnv === "") {
    throw new UsageError(`${rule.what} missing: set ${rule.env} or pass --${rule.fileFlag} FILE`);
  }
  return fromEnv;
}

export function resolveConnection(
  values: ConnectionValues,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedConnection {
  return resolveConnectionOf(TRANSPORT_KIND_LIST, values, env) as ResolvedConnection;
}

/** resolveConnection against `kinds` (the table, or a table a test builds). */
export function resolveConnectionOf(
  kinds: readonly AnyTransportKind[],
  values: ConnectionValues,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedConnection<SpecBase> {
  const chosen = kinds.filter((k) => values[k.flag] !== undefined);
  const [kind] = chosen;
  if (!kind || chosen.length > 1) {
    throw new UsageError(
      chosen.length === 0
        ? `say how to reach the device: ${orList(kinds.map((k) => k.flagForm))}`
        : `use only one of ${kinds.map((k) => `--${k.flag}`).join(", ")} (got ${chosen.map((k) => `--${k.flag}`).join(", ")})`,
    );
  }
  for (const k of kinds)
    for (const f of k.companionFlags)
      if (values[f] !== undefined && k !== kind) throw new UsageError(`--${f} goes with --${k.flag}`);
  const timeoutMs = secondsFlag(stringFlag(values.timeout), "--timeout", { min: 0.001 });
  const ctx: FlagContext = {
    fail: (message) => {
      throw new UsageError(message);
    },
    password: () => readPassword(kind.password, values, env),
    hostPort: parseHostPort,
    integer: integerFlag,
  };
  const spec = kind.fromFlags(values, ctx);
  return {
    spec,
    url: kind.url(spec),
    policy: kind.policy,
    secret: transportSecret(kind, spec),
    publicRelay: kind.publicRelay?.(spec),
    timeoutMs,
  };
}

/** "a, b, or c". */
function orList(items: readonly string[]): string {
  return items.length < 2 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")}, or ${items.at(-1)}`;
}

/** The one-line message for an error, with the password scrubbed as a last line of defence. */
export function oneLine(e: unknown, secret?: string): string {
  let text = e instanceof Error ? e.message : String(e);
  text = text.replace(/\s*\n\s*/g, " ");
  if (secret) text = text.split(secret).join("***");
  return text;
}
