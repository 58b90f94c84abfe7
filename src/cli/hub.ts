/**
 * `vesc2mqtt hub`: a self-hosted VESC Hub relay (src/hub). Settings come from the `hub:`
 * section of `--config` (if given), overridden by flags. `--allow ID:ENV` pins a device id
 * with the password read from environment variable ENV (never from the command line, where
 * `ps` would show it). Runs until SIGINT/SIGTERM, then closes every connection and exits 0.
 */
import { parseArgs } from "node:util";
import { isConfigError, loadConfig } from "../config/load.js";
import { hubDeviceProblems } from "../hub/deviceRules.js";
import { type HubDeviceSpec, HubServer } from "../hub/hubServer.js";

const USAGE =
  "usage: vesc2mqtt hub [--port P] [--host H] [--config FILE] [--on-conflict replace|refuse] [--allow ID:PASSWORD_ENV ...]";

export interface HubCommandIo {
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Stops the hub like SIGINT would (tests). */
  readonly signal?: AbortSignal;
}

class UsageError extends Error {}

export async function hubCommand(argv: string[], io: HubCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = io.stderr ?? ((l: string) => process.stderr.write(`${l}\n`));
  const env = io.env ?? process.env;
  if (argv.includes("--help") || argv.includes("-h")) {
    out(USAGE);
    return 0;
  }
  let hub: HubServer;
  try {
    hub = new HubServer({
      ...hubOptions(argv, env, err),
      logger: (level, message) => {
        if (level !== "debug") err(`hub ${level}: ${message}`);
      },
    });
  } catch (e) {
    if (e instanceof UsageError || isConfigError(e)) {
      err(`vesc2mqtt hub: ${isConfigError(e) ? e.errors.join("; ") : e.message}`);
      return 2;
    }
    throw e;
  }
  let address: { host: string; port: number };
  try {
    address = await hub.start();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    err(`vesc2mqtt hub: cannot listen (${code}): ${(e as Error).message}`);
    return 2;
  }
  out(`vesc2mqtt hub listening on ${address.host}:${address.port}`);
  let stop = () => {};
  await new Promise<void>((resolve) => {
    stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    io.signal?.addEventListener("abort", stop);
    if (io.signal?.aborted) stop();
  });
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  io.signal?.removeEventListener("abort", stop);
  await hub.stop();
  out("vesc2mqtt hub stopped");
  return 0;
}

function hubOptions(
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  err: (line: string) => void,
) {
  let values: { port?: string; host?: string; config?: string; "on-conflict"?: string; allow?: string[] };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        config: { type: "string" },
        "on-conflict": { type: "string" },
        allow: { type: "string", multiple: true },
      },
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (see: vesc2mqtt hub --help)`);
  }
  const fromConfig = values.config !== undefined ? loadConfig(values.config, env).hub : undefined;
  let port = fromConfig?.port ?? 65101;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535)
      throw new UsageError(`--port: expected 0–65535, got "${values.port}"`);
  }
  const onConflict = values["on-conflict"] ?? fromConfig?.onConflict ?? "replace";
  if (onConflict !== "replace" && onConflict !== "refuse") {
    throw new UsageError(`--on-conflict: expected replace or refuse, got "${onConflict}"`);
  }
  const devices: HubDeviceSpec[] = (fromConfig?.devices ?? []).map((d) => ({
    id: d.id,
    password: d.password ?? "",
  }));
  const labels = devices.map((_, i) => `hub.devices[${i}]`);
  for (const spec of values.allow ?? []) {
    const m = /^([^:]+):([A-Za-z_][A-Za-z0-9_]*)$/.exec(spec);
    if (m === null)
      throw new UsageError(`--allow: expected ID:PASSWORD_ENV (an environment variable name), got "${spec}"`);
    const [, id, envName] = m as unknown as [string, string, string];
    const password = env[envName];
    if (password === undefined || password === "") {
      throw new UsageError(`--allow ${id}: environment variable ${envName} is not set`);
    }
    devices.push({ id, password });
    labels.push(`--allow ${id}:${envName}`);
  }
  // The config's own devices were checked by loadConfig; this adds --allow and clashes between both.
  const problem = hubDeviceProblems(devices, (i) => labels[i] ?? `device ${i}`)[0];
  if (problem !== undefined) throw new UsageError(problem);
  if (devices.length === 0)
    err("vesc2mqtt hub: no --allow list: any device id may register (first registration sets its password)");
  return {
    host: values.host ?? fromConfig?.host ?? "0.0.0.0",
    port,
    onConflict,
    devices,
  } as const;
}
