/**
 * `vesc2mqtt demo` (= `npm start`): everything on one machine with nothing installed — a
 * simulated VESC Express (20S BMS, motor controller on CAN 84), an embedded MQTT broker,
 * the bridge and (when built) the dashboard. Prints the URLs; Ctrl-C / SIGTERM stops all
 * cleanly with exit 0. A busy port is one line on stderr and exit 1.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Bridge } from "../bridge/bridge.js";
import { createLog, type LogLevel } from "../bridge/log.js";
import { validateConfig } from "../config/load.js";
import { type Simulator, startSimulator } from "../sim/index.js";
import { untilStopped } from "./run.js";

const USAGE =
  "usage: vesc2mqtt demo [--mqtt-port P] [--web-port P] [--cells N] [--log-level error|warn|info|debug]";

export const DEMO_DEVICE_ID = "demo_pack";
export const DEMO_MOTOR_CAN_ID = 84;

export interface DemoOptions {
  readonly mqttPort: number;
  readonly webPort: number;
  readonly cells: number;
  readonly logLevel: LogLevel;
  readonly stderr: (line: string) => void;
}

export interface Demo {
  readonly bridge: Bridge;
  readonly sim: Simulator;
  readonly mqttUrl: string;
  /** Undefined while the web dashboard does not exist. */
  readonly webUrl: string | undefined;
  stop(): Promise<void>;
}

/** Starts simulator, embedded broker, bridge and web; rejects (leaving nothing running) on a busy port. */
export async function startDemo(o: DemoOptions): Promise<Demo> {
  const sim = await startSimulator({
    host: "127.0.0.1",
    port: 0,
    cells: o.cells,
    canIds: [DEMO_MOTOR_CAN_ID],
  });
  // A fresh history per run: each run simulates a different pack, and two demos must not share a DB.
  const dataDir = mkdtempSync(join(tmpdir(), "vesc2mqtt-demo-"));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  const config = validateConfig(
    {
      log_level: o.logLevel,
      data_dir: dataDir,
      mqtt: { embedded: { enabled: true, host: "127.0.0.1", port: o.mqttPort }, client_id: "vesc2mqtt-demo" },
      devices: [
        {
          id: DEMO_DEVICE_ID,
          name: "Demo pack",
          connection: { type: "tcp", host: "127.0.0.1", port: sim.port },
          interval_s: 1,
          can: [{ id: DEMO_MOTOR_CAN_ID, kind: "motor", name: "Demo motor" }],
        },
      ],
      web: { enabled: true, host: "127.0.0.1", port: o.webPort },
    },
    { env: {} },
  );
  const bridge = new Bridge({ config, log: createLog(o.logLevel, o.stderr) });
  try {
    await bridge.start();
  } catch (e) {
    await sim.close();
    removeData();
    throw e;
  }
  const web = bridge.sinks.find((s) => s.name === "web") as { url?: unknown } | undefined;
  return {
    bridge,
    sim,
    mqttUrl: bridge.mqttUrl,
    webUrl: typeof web?.url === "string" ? web.url : undefined,
    async stop() {
      await bridge.stop();
      await sim.close();
      removeData();
    },
  };
}

export interface DemoCommandIo {
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
  /** Stops the demo like Ctrl-C would (tests). */
  readonly signal?: AbortSignal;
}

export async function demoCommand(argv: string[], io: DemoCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = io.stderr ?? ((l: string) => process.stderr.write(`${l}\n`));
  let options: DemoOptions;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        "mqtt-port": { type: "string", default: "1883" },
        "web-port": { type: "string", default: "8080" },
        cells: { type: "string", default: "20" },
        "log-level": { type: "string", default: "warn" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    const level = values["log-level"];
    if (!["error", "warn", "info", "debug"].includes(level))
      throw new Error(`--log-level: expected error, warn, info or debug`);
    options = {
      mqttPort: intArg("--mqtt-port", values["mqtt-port"], 0, 65535),
      webPort: intArg("--web-port", values["web-port"], 0, 65535),
      cells: intArg("--cells", values.cells, 1, 32),
      logLevel: level as LogLevel,
      stderr: err,
    };
  } catch (e) {
    err(`vesc2mqtt demo: ${(e as Error).message} (see: vesc2mqtt demo --help)`);
    return 2;
  }
  let demo: Demo;
  try {
    demo = await startDemo(options);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES") {
      err(
        `vesc2mqtt demo: ${(e as Error).message.replace(/^listen /, "cannot listen: ")} — pick another port with --mqtt-port / --web-port`,
      );
    } else {
      err(`vesc2mqtt demo: cannot start: ${(e as Error).message}`);
    }
    return 1;
  }
  out("vesc2mqtt demo running");
  out(`  dashboard:  ${demo.webUrl ?? "(not available in this build)"}`);
  out(`  MQTT:       ${demo.mqttUrl}   (state: vesc2mqtt/#, discovery: homeassistant/#)`);
  out(
    `  simulator:  ${demo.sim.url}   (${options.cells}S BMS, motor controller on CAN ${DEMO_MOTOR_CAN_ID})`,
  );
  out("Press Ctrl-C to stop.");
  await untilStopped(io.signal);
  await demo.stop();
  out("vesc2mqtt demo stopped");
  return 0;
}

function intArg(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new Error(`${name}: expected a whole number ${min}–${max}`);
  return n;
}
