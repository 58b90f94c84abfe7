/**
 * The connection flags `read` and `scan` share:
 *   --tcp HOST[:PORT] | --hub HOST[:PORT] --hub-id ID | --serial PATH [--baud N]
 * plus --timeout and --hub-password-file. The hub password comes from a file or from
 * VESC_HUB_PASSWORD, never from the command line (where `ps` would show it).
 */
import { readFileSync } from "node:fs";
import { splitHostPort, transportUrl } from "../transport/fromSpec.js";
import {
  type ConnectionSpec,
  DEFAULT_BAUD,
  DEFAULT_HUB_PORT,
  DEFAULT_TCP_PORT,
} from "../transport/transport.js";

export const PUBLIC_HUB_HOST = "veschub.vedder.se";

/** A mistake on the command line: exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const CONNECTION_OPTIONS = {
  tcp: { type: "string" },
  hub: { type: "string" },
  "hub-id": { type: "string" },
  "hub-password-file": { type: "string" },
  serial: { type: "string" },
  baud: { type: "string" },
  timeout: { type: "string" },
} as const;

export interface ConnectionValues {
  tcp?: string | undefined;
  hub?: string | undefined;
  "hub-id"?: string | undefined;
  "hub-password-file"?: string | undefined;
  serial?: string | undefined;
  baud?: string | undefined;
  timeout?: string | undefined;
}

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

function readPassword(values: ConnectionValues, env: Readonly<Record<string, string | undefined>>): string {
  const file = values["hub-password-file"];
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
  const chosen = (["tcp", "hub", "serial"] as const).filter((k) => values[k] !== undefined);
  if (chosen.length !== 1) {
    throw new UsageError(
      chosen.length === 0
        ? "say how to reach the device: --tcp HOST[:PORT], --hub HOST[:PORT] --hub-id ID, or --serial PATH"
        : `use only one of --tcp, --hub, --serial (got ${chosen.map((k) => `--${k}`).join(", ")})`,
    );
  }
  if (values["hub-id"] !== undefined && values.hub === undefined)
    throw new UsageError("--hub-id goes with --hub");
  if (values.baud !== undefined && values.serial === undefined)
    throw new UsageError("--baud goes with --serial");
  const timeoutMs = secondsFlag(values.timeout, "--timeout", { min: 0.001 });
  let spec: ConnectionSpec;
  if (values.tcp !== undefined) {
    spec = { type: "tcp", ...parseHostPort(values.tcp, DEFAULT_TCP_PORT, "--tcp") };
  } else if (values.hub !== undefined) {
    const hubId = values["hub-id"];
    if (hubId === undefined || hubId.trim() === "") throw new UsageError("--hub needs --hub-id ID");
    if (hubId.includes(":")) throw new UsageError("--hub-id must not contain ':'");
    const password = readPassword(values, env);
    spec = {
      type: "hub",
      ...parseHostPort(values.hub, DEFAULT_HUB_PORT, "--hub"),
      hubId: hubId.trim(),
      password,
    };
  } else {
    const path = values.serial ?? "";
    if (path === "") throw new UsageError("--serial: expected a device path such as /dev/ttyACM0");
    spec = { type: "serial", path, baud: integerFlag(values.baud, "--baud", 1, 10_000_000) ?? DEFAULT_BAUD };
  }
  return {
    spec,
    url: transportUrl(spec),
    publicHub: spec.type === "hub" && spec.host.toLowerCase().replace(/\.$/, "") === PUBLIC_HUB_HOST,
    timeoutMs,
  };
}

/** The one-line message for an error, with the password scrubbed as a last line of defence. */
export function oneLine(e: unknown, secret?: string): string {
  let text = e instanceof Error ? e.message : String(e);
  text = text.replace(/\s*\n\s*/g, " ");
  if (secret) text = text.split(secret).join("***");
  return text;
}
