/**
 * The connection flags `read` and `scan` share, one set per kind in the transport table
 * (src/transport/kinds.ts): --tcp HOST[:PORT] | --hub HOST[:PORT] --hub-id ID |
 * --serial PATH [--baud N], plus --timeout and --hub-password-file. The hub password comes from a file or from
 * VESC_HUB_PASSWORD, never from the command line (where `ps` would show it).
 */
import { readFileSync } from "node:fs";
import {
  type FlagContext,
  splitHostPort,
  TRANSPORT_KINDS,
  type AnyTransportKind,
  transportUrl,
} from "../transport/kinds.js";
import type { ConnectionSpec } from "../transport/transport.js";

export const PUBLIC_HUB_HOST = "veschub.vedder.se";

/** A mistake on the command line: exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const KINDS = Object.values(TRANSPORT_KINDS) as AnyTransportKind[];

/** parseArgs options: each kind's flags (from the transport table) plus --timeout. */
export const CONNECTION_OPTIONS: Readonly<Record<string, { type: "string" }>> = Object.fromEntries(
  [...KINDS.flatMap((k) => [k.flag, ...k.flags]), "timeout"].map((f) => [f, { type: "string" }]),
);

export type ConnectionValues = Readonly<Record<string, string | boolean | undefined>>;

export interface CliIo {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Cancels the command like Ctrl-C (tests). */
  readonly signal?: AbortSignal;
}

export interface ResolvedConnection {
  readonly spec: ConnectionSpec;
  /** Without the password. */
  readonly url: string;
  readonly publicHub: boolean;
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

function readPassword(values: ConnectionValues, env: Readonly<Record<string, string | undefined>>): string {
  const file = stringFlag(values["hub-password-file"]);
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "error";
      throw new UsageError(`cannot read --hub-password-file ${file} (${code})`);
    }
    // Editors add a final newline; the password itself never contains one (it ends the login line).
    const password = text.replace(/\r?\n$/, "");
    if (password === "") throw new UsageError(`--hub-password-file ${file} is empty`);
    return password;
  }
  const fromEnv = env.VESC_HUB_PASSWORD;
  if (fromEnv === undefined || fromEnv === "") {
    throw new UsageError("hub password missing: set VESC_HUB_PASSWORD or pass --hub-password-file FILE");
  }
  return fromEnv;
}

export function resolveConnection(
  values: ConnectionValues,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedConnection {
  const chosen = KINDS.filter((k) => values[k.flag] !== undefined);
  const [kind] = chosen;
  if (!kind || chosen.length > 1) {
    throw new UsageError(
      chosen.length === 0
        ? `say how to reach the device: ${orList(KINDS.map((k) => k.flagForm))}`
        : `use only one of ${KINDS.map((k) => `--${k.flag}`).join(", ")} (got ${chosen.map((k) => `--${k.flag}`).join(", ")})`,
    );
  }
  for (const k of KINDS)
    for (const f of k.companionFlags)
      if (values[f] !== undefined && k !== kind) throw new UsageError(`--${f} goes with --${k.flag}`);
  const timeoutMs = secondsFlag(stringFlag(values.timeout), "--timeout", { min: 0.001 });
  const ctx: FlagContext = {
    fail: (message) => {
      throw new UsageError(message);
    },
    password: () => readPassword(values, env),
    hostPort: parseHostPort,
    integer: integerFlag,
  };
  const spec: ConnectionSpec = kind.fromFlags(values, ctx);
  return {
    spec,
    url: transportUrl(spec),
    publicHub: spec.type === "hub" && spec.host.toLowerCase().replace(/\.$/, "") === PUBLIC_HUB_HOST,
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
