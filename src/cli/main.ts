#!/usr/bin/env node
/**
 * The `vesc2mqtt` command: dispatches to one module per sub-command (loaded on demand, so
 * `--help` stays fast) and turns anything a sub-command throws into one line on stderr.
 * Stack traces are for bugs only, and only with VESC2MQTT_DEBUG=1.
 */
import { readFileSync, realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";

type CommandFn = (argv: string[]) => Promise<number>;

interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<CommandFn>;
}

const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  read: {
    summary: "read telemetry from one device (--tcp | --hub --hub-id | --serial), table or NDJSON",
    load: async () => (await import("./read.js")).readCommand,
  },
  scan: {
    summary: "list the devices on a device's CAN bus (explicit; never automatic)",
    load: async () => (await import("./scan.js")).scanCommand,
  },
  run: {
    summary: "the bridge: devices → MQTT / Home Assistant, dashboard, history (--config FILE)",
    load: async () => (await import("./run.js")).runCommand,
  },
  demo: {
    summary: "simulated 20S VESC Express + embedded MQTT broker + bridge + dashboard",
    load: async () => (await import("./demo.js")).demoCommand,
  },
  sim: {
    summary: "a simulated VESC Express with a BMS (and CAN motor controllers) on TCP",
    load: async () => (await import("./sim.js")).simCommand,
  },
  hub: {
    summary: "a self-hosted VESC Hub relay where devices, VESC Tool and the bridge meet",
    load: async () => (await import("./hub.js")).hubCommand,
  },
  addon: {
    summary: "Home Assistant add-on entrypoint: /data/options.json (+ Supervisor MQTT) → config → run",
    load: async () => (await import("../addon/main.js")).addonCommand,
  },
};

export function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return typeof pkg === "object" && pkg !== null && "version" in pkg && typeof pkg.version === "string"
    ? pkg.version
    : "0.0.0";
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "usage: vesc2mqtt <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "  vesc2mqtt <command> --help   options of one command",
    "  vesc2mqtt --version",
    "",
    "The hub password comes from VESC_HUB_PASSWORD or --hub-password-file, never from a flag.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(`${usage()}\n`);
    return first === undefined ? 2 : 0;
  }
  if (first === "--version" || first === "-v") {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const entry = COMMANDS[first];
  if (!entry) {
    process.stderr.write(`vesc2mqtt: unknown command "${first}" (try: vesc2mqtt --help)\n`);
    return 2;
  }
  const run = await entry.load();
  return run(rest);
}

export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    // npm's bin is a symlink; the module URL is the real file.
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`vesc2mqtt: ${describeError(e)}\n`);
      if (process.env.VESC2MQTT_DEBUG === "1" && e instanceof Error && e.stack)
        process.stderr.write(`${e.stack}\n`);
      process.exitCode = 1;
    },
  );
}
