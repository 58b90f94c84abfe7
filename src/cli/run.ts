/**
 * `vesc2mqtt run [--config FILE]`: the production bridge. Loads and validates the YAML
 * config (every mistake listed on stderr, exit 2), starts the bridge, and runs until
 * SIGINT/SIGTERM, then stops every part cleanly and exits 0.
 */
import { parseArgs } from "node:util";
import { Bridge } from "../bridge/bridge.js";
import { createLog } from "../bridge/log.js";
import { tuneV8ForBridge } from "../bridge/v8Tuning.js";
import { isConfigError, loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";

const USAGE = "usage: vesc2mqtt run [--config FILE]   (default ./vesc2mqtt.yaml, or env VESC2MQTT_CONFIG)";

export interface RunCommandIo {
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Stops the bridge like SIGTERM would (tests). */
  readonly signal?: AbortSignal;
}

export async function runCommand(argv: string[], io: RunCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = io.stderr ?? ((l: string) => process.stderr.write(`${l}\n`));
  const env = io.env ?? process.env;
  let values: { config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (e) {
    err(`vesc2mqtt run: ${(e as Error).message} (see: vesc2mqtt run --help)`);
    return 2;
  }
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const path = values.config ?? env.VESC2MQTT_CONFIG ?? "vesc2mqtt.yaml";
  let config: Config;
  try {
    config = loadConfig(path, env);
  } catch (e) {
    if (!isConfigError(e)) throw e;
    err(
      `vesc2mqtt run: ${path}: ${e.errors.length === 1 ? "configuration error" : `${e.errors.length} configuration errors`}`,
    );
    for (const line of e.errors) err(`  - ${line}`);
    return 2;
  }
  const log = createLog(config.logLevel, err);
  if (config.devices.length === 0) log.warn("no devices configured: nothing to poll");
  tuneV8ForBridge();
  const bridge = new Bridge({ config, log });
  try {
    await bridge.start();
  } catch (e) {
    err(`vesc2mqtt run: cannot start: ${(e as Error).message}`);
    return 1;
  }
  out(
    `vesc2mqtt running: ${config.devices.length} device(s) → ${redact(bridge.mqttUrl)} (base topic ${config.mqtt.baseTopic})`,
  );
  await untilStopped(io.signal);
  await bridge.stop();
  out("vesc2mqtt stopped");
  return 0;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//");
}

/** Resolves on SIGINT, SIGTERM or the abort signal; removes its listeners. */
export async function untilStopped(signal?: AbortSignal): Promise<void> {
  let stop = () => {};
  await new Promise<void>((resolve) => {
    stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    signal?.addEventListener("abort", stop);
    if (signal?.aborted) stop();
  });
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  signal?.removeEventListener("abort", stop);
}
