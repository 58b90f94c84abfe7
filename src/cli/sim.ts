/**
 * `vesc2mqtt sim`: one or more simulated VESC Express devices (20S BMS, optional CAN motor
 * controllers) on TCP, optionally behind a hub-style login line, with fault injection.
 * Prints one line per device, runs until SIGINT/SIGTERM, then closes everything and exits 0.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  DEFAULT_SIM_PORT,
  loadReplayFile,
  parseFaults,
  ReplayFileError,
  SIM_PROFILES,
  type Scenario,
  type SimProfile,
  type SimulatorFleet,
  startSimulatorFleet,
} from "../sim/index.js";
import type { SimulatorOptions } from "../sim/server.js";
import { registerWithHub } from "../sim/hubClient.js";
import { startTcphubEmulator } from "../sim/tcphubEmulator.js";

export interface SimIo {
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Stops the simulator like SIGINT would (tests). */
  readonly signal?: AbortSignal;
  /** Called once the devices listen (tests). */
  readonly onListening?: (fleet: SimulatorFleet) => void;
}

const USAGE = `usage: vesc2mqtt sim [options]
  --port P             TCP port (default 65102; 0 = any free port); device i listens on P+i
  --host H             address to listen on (default 127.0.0.1)
  --cells N            series cells 1-32 (default 20)
  --temps N            temperature sensors 0-50 (default 4)
  --can-ids 84,85      motor controllers on the CAN bus (default none)
  --can-hw ADV500,...  their hardware names (default ADV500)
  --bms-can-id N       CAN id of the BMS, 255 = not on CAN (default 10)
  --scenario S         charging | riding | idle (default charging)
  --firmware M.mm      firmware of the Express and its motor controllers, two-digit minor
                       (default 6.05); replies have that version's layouts
  --profile P          model (default): every BMS field simulated | express-6.05: BMS values
                       as a real Express 6.05 reports them (i_in 0, SOC/SOH/totals 0, 24
                       temperature slots, one stuck at 99.00 °C, BMS not on CAN)
  --replay FILE        answer BMS requests with the recorded replies in FILE, in order, in a
                       loop (one "[seconds] hex-frame" per line); the rest is an Express 6.05
  --hub-login ID[:PW]  expect "VESCTOOL:<ID>:<PW>\\n" first; PW may come from VESC_HUB_PASSWORD
                       or --hub-password-file instead of the command line
  --hub-password-file F
  --hub-swallow        with --hub-login: listen as VESC Tool's hub would (tcphub.cpp), which
                       loses bytes that follow the login line in the same read; the devices
                       register with it as ID (device i > 0: ID-i)
  --faults LIST        latency=MS,jitter=MS,split=BYTES,garbage=P,garbage-size=N,corrupt=P,
                       drop=P,stall,reset=P|once,slow-login=MS,old-firmware
  --seed N             deterministic devices (device i uses seed N+i)
  --devices N          how many devices (default 1)`;

class UsageError extends Error {}

const OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  cells: { type: "string" },
  temps: { type: "string" },
  "can-ids": { type: "string" },
  "can-hw": { type: "string" },
  "bms-can-id": { type: "string" },
  scenario: { type: "string" },
  firmware: { type: "string" },
  profile: { type: "string" },
  replay: { type: "string" },
  "hub-login": { type: "string" },
  "hub-password-file": { type: "string" },
  "hub-swallow": { type: "boolean" },
  faults: { type: "string" },
  seed: { type: "string" },
  devices: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function int(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: expected a whole number ${min}-${max}, got "${text}"`);
  }
  return n;
}

/** Parses argv into fleet options; throws UsageError with a one-line message. */
export function parseSimArgs(
  argv: string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): { options: SimulatorOptions; devices: number; hubSwallow?: true } | "help" {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>["values"];
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help) return "help";
  const options: SimulatorOptions = {};
  if (values.host !== undefined) options.host = values.host;
  const port = int(values.port, "--port", 0, 65535);
  if (port !== undefined) options.port = port;
  const cells = int(values.cells, "--cells", 1, 32);
  if (cells !== undefined) options.cells = cells;
  const temps = int(values.temps, "--temps", 0, 50);
  if (temps !== undefined) options.tempSensors = temps;
  const bmsCanId = int(values["bms-can-id"], "--bms-can-id", 0, 255);
  if (bmsCanId !== undefined) options.bmsCanId = bmsCanId;
  if (values["can-ids"] !== undefined) {
    const ids = values["can-ids"].split(",").map((s) => int(s, "--can-ids", 0, 254) ?? 0);
    if (new Set(ids).size !== ids.length) throw new UsageError("--can-ids: an id is listed twice");
    options.canIds = ids;
  }
  if (values["can-hw"] !== undefined) options.canHardware = values["can-hw"].split(",").map((s) => s.trim());
  if (values.scenario !== undefined) {
    if (!["charging", "riding", "idle"].includes(values.scenario)) {
      throw new UsageError(`--scenario: expected charging, riding or idle, got "${values.scenario}"`);
    }
    options.scenario = values.scenario as Scenario;
  }
  if (values.firmware !== undefined) {
    // The minor is two digits, as the firmware defines it: "6.5" would be ambiguous.
    const m = /^(\d{1,3})\.(\d{2})$/.exec(values.firmware.trim());
    if (!m) throw new UsageError(`--firmware: expected MAJOR.MINOR like 6.05, got "${values.firmware}"`);
    options.firmware = { major: Number(m[1]), minor: Number(m[2]) };
  }
  if (values.profile !== undefined) {
    if (!(SIM_PROFILES as readonly string[]).includes(values.profile)) {
      throw new UsageError(`--profile: expected ${SIM_PROFILES.join(" or ")}, got "${values.profile}"`);
    }
    options.profile = values.profile as SimProfile;
  }
  if (values.replay !== undefined) {
    try {
      options.replay = loadReplayFile(values.replay);
    } catch (e) {
      if (!(e instanceof ReplayFileError)) throw e;
      throw new UsageError(`--replay: ${e.message}`);
    }
  }
  const seed = int(values.seed, "--seed", 0, 0xffffffff);
  if (seed !== undefined) options.seed = seed;
  if (values.faults !== undefined) {
    const faults = parseFaults(values.faults);
    if ("error" in faults) throw new UsageError(`--faults: ${faults.error}`);
    options.faults = faults;
  }
  if (values["hub-login"] !== undefined)
    options.hubLogin = hubLogin(values["hub-login"], values["hub-password-file"], env);
  else if (values["hub-password-file"] !== undefined)
    throw new UsageError("--hub-password-file needs --hub-login ID");
  const devices = int(values.devices, "--devices", 1, 10_000) ?? 1;
  if (values["hub-swallow"] && !options.hubLogin) throw new UsageError("--hub-swallow needs --hub-login ID");
  return { options, devices, ...(values["hub-swallow"] ? { hubSwallow: true as const } : {}) };
}

function hubLogin(
  spec: string,
  passwordFile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { id: string; password: string } {
  const colon = spec.indexOf(":");
  const id = colon < 0 ? spec : spec.slice(0, colon);
  let password = colon < 0 ? undefined : spec.slice(colon + 1);
  if (id.replaceAll(" ", "").length < 3)
    throw new UsageError("--hub-login: the id needs at least 3 characters");
  if (password === undefined && passwordFile !== undefined) {
    try {
      password = readFileSync(passwordFile, "utf8").replace(/\r?\n$/, "");
    } catch (e) {
      throw new UsageError(
        `--hub-password-file: cannot read ${passwordFile} (${(e as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  }
  password ??= env.VESC_HUB_PASSWORD;
  if (password === undefined) {
    throw new UsageError(
      "--hub-login ID: give the password as ID:PASSWORD, in VESC_HUB_PASSWORD or --hub-password-file",
    );
  }
  if (password.includes(":") || password.includes("\n")) {
    throw new UsageError("--hub-login: the password must not contain ':' or a newline");
  }
  return { id, password };
}

function describe(options: SimulatorOptions, url: string): string {
  const parts = [`${options.cells ?? 20} cells`];
  if (options.canIds && options.canIds.length > 0) parts.push(`CAN ${options.canIds.join(",")}`);
  if (options.hubLogin) parts.push(`hub login ${options.hubLogin.id}`); // never the password
  if (options.profile) parts.push(`profile ${options.profile}`);
  if (options.replay) parts.push(`replaying ${options.replay.length} BMS replies`);
  return `simulated VESC Express listening on ${url} (${parts.join(", ")})`;
}

export async function simCommand(argv: string[], io: SimIo = {}): Promise<number> {
  const out = io.stdout ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = io.stderr ?? ((l: string) => process.stderr.write(`${l}\n`));
  let parsed: ReturnType<typeof parseSimArgs>;
  try {
    parsed = parseSimArgs(argv, io.env ?? process.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`vesc2mqtt sim: ${e.message}`);
    return 2;
  }
  if (parsed === "help") {
    out(USAGE);
    return 0;
  }
  const { options, devices } = parsed;
  if (parsed.hubSwallow) return runSwallowingHub(options, devices, io, out, err);
  // A fleet picks free ports by default; the command keeps the Express's own port.
  options.port ??= DEFAULT_SIM_PORT;
  let fleet: SimulatorFleet;
  try {
    fleet = await startSimulatorFleet(devices, options);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const where = `${options.host ?? "127.0.0.1"}:${options.port ?? 65102}`;
    err(`vesc2mqtt sim: cannot listen on ${where}${code ? ` (${code})` : ""}`);
    return 1;
  }
  for (const sim of fleet.sims) out(describe(options, sim.url));
  io.onListening?.(fleet);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      io.signal?.removeEventListener("abort", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener("abort", stop, { once: true });
  });
  await fleet.close();
  return 0;
}

/** Waits for SIGINT/SIGTERM or the test's abort signal. */
function untilStopped(io: SimIo): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      io.signal?.removeEventListener("abort", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener("abort", stop, { once: true });
  });
}

/** --hub-swallow: a tcphub emulator on --port (default 65101), every device registered with it. */
async function runSwallowingHub(
  options: SimulatorOptions,
  devices: number,
  io: SimIo,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const login = options.hubLogin;
  if (!login) return 2;
  const host = options.host ?? "127.0.0.1";
  let hub: Awaited<ReturnType<typeof startTcphubEmulator>>;
  try {
    hub = await startTcphubEmulator({ host, port: options.port ?? 65101 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    err(`vesc2mqtt sim: cannot listen on ${host}:${options.port ?? 65101}${code ? ` (${code})` : ""}`);
    return 1;
  }
  // The devices' own servers take free ports; clients are meant to come through the hub.
  const { hubLogin: _login, ...deviceOptions } = options;
  const fleet = await startSimulatorFleet(devices, { ...deviceOptions, port: 0 });
  const registrations = [];
  for (const [i, sim] of fleet.sims.entries()) {
    const id = i === 0 ? login.id : `${login.id}-${i}`;
    registrations.push(
      await registerWithHub(sim.device, { host, port: hub.port, id, password: login.password }),
    );
    out(`simulated VESC Express registered as ${id} with the tcphub emulator on tcp://${host}:${hub.port}`);
  }
  io.onListening?.(fleet);
  await untilStopped(io);
  for (const r of registrations) await r.close();
  await fleet.close();
  await hub.close();
  return 0;
}
