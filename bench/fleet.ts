/**
 * Fleet benchmark: one process polls N simulated Expresses at 1 Hz and publishes to a real
 * Mosquitto. Three subjects: "bridge" (src/bridge, the production composition: pollers → bus →
 * HA/MQTT sink + metrics + alerts; web and history off), "pollers" (bare Pollers, state
 * documents through the Publisher) and "sockets" (raw sockets on the same schedule: the floor
 * this machine, Node and the simulators allow). The simulators run in
 * a separate child process (bench/fleetSims.ts). N ramps up; for each N, after every device
 * has read once, a window of --seconds is measured: poll latency (Reading.latencyMs), missed
 * polls, event-loop delay, RSS and CPU of the subject's process, CPU of the simulators and
 * Mosquitto, MQTT publishes, and device states retained at the broker afterwards. The reference is the project's fleet goal: N ≥ 5,000 with p99 < 50 ms,
 * no missed polls, RSS < 500 MB. The ramp stops at the first N that fails or at --budget s.
 * Each step runs in a fresh process (bench/fleetStep.ts), so its RSS is its own.
 * Flags: --sizes 500,1000,2000,5000  --seconds 15  --budget 720  --mode bridge|pollers|sockets
 *        --profile DIR (write a V8 CPU profile of each step's process to DIR)
 *        --node-args "--trace-gc ..." (extra Node flags for each step's process)
 */
import { fork } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type FleetMode, type FleetStep, P99_GOAL_MS, RSS_GOAL_MB } from "./fleetStep.js";
import { BenchMosquitto } from "./mosquitto.js";
import { type Benchmark, type BenchResult, type BenchRow, fmt } from "./report.js";

const N_GOAL = 5000;
const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs one step in a fresh Node process and returns what it measured. */
function forkStep(
  mode: FleetMode,
  n: number,
  windowS: number,
  broker: BenchMosquitto,
  execArgv: readonly string[],
): Promise<FleetStep> {
  return new Promise((resolve, reject) => {
    const child = fork(
      path.join(here, "fleetStep.js"),
      [mode, String(n), String(windowS), broker.url, String(broker.pid ?? "")],
      {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        execArgv: [...execArgv],
      },
    );
    let result: FleetStep | undefined;
    child.on("message", (m: FleetStep) => {
      result = m;
    });
    child.once("exit", (code) =>
      result
        ? resolve(result)
        : reject(new Error(`fleet step N=${n} (${mode}) exited ${code} without a result`)),
    );
  });
}

function listFlag(args: readonly string[], name: string, fallback: number[]): number[] {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = (args[i + 1] ?? "").split(",").map(Number);
  return v.every((x) => Number.isInteger(x) && x > 0) ? v : fallback;
}

function numFlag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** Distinct `vesc2mqtt/<device>/state` topics Mosquitto holds retained: proof the states got there. */
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

function table(mode: FleetMode, steps: readonly FleetStep[]): string[] {
  return [
    `| ${mode} N | start-up | readings | missed | p50 / p99 / max poll latency | loop delay p99 (sims) | RSS (heap) | heap after GC | CPU (per device) | sims CPU | Mosquitto CPU | MQTT publishes/s | states retained at broker | pass |`,
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...steps.map(
      (s) =>
        `| ${s.n} | ${s.startupS.toFixed(1)} s | ${s.readings.toLocaleString("en-US")} | ${s.missedPolls} | ` +
        `${fmt(s.p50)} / ${fmt(s.p99)} / ${fmt(s.maxLatency)} ms | ${fmt(s.loopDelayP99)} (${fmt(s.simLoopDelayP99)}) ms | ` +
        `${s.rssMb.toFixed(0)} (${s.heapMb.toFixed(0)}) MB | ${s.heapAfterGcMb.toFixed(0)} MB | ${pct(s.bridgeCpu)} (${((s.bridgeCpu / s.n) * 1e6).toFixed(0)} µs/s) | ` +
        `${pct(s.simCpu)} | ${pct(s.brokerCpu)} | ${s.retained === undefined ? "–" : fmt(s.publishedPerS)} | ${s.retained === undefined ? "–" : `${s.retained}/${s.n}`} | ${s.passed ? "yes" : "NO"} |`,
    ),
  ];
}

async function ramp(
  mode: FleetMode,
  sizes: readonly number[],
  windowS: number,
  budgetS: number,
  broker: BenchMosquitto,
  notes: string[],
  execArgv: readonly string[],
): Promise<FleetStep[]> {
  const steps: FleetStep[] = [];
  const started = Date.now();
  for (const n of sizes) {
    const left = budgetS - (Date.now() - started) / 1000;
    // Start-up grows with N (bridge discovery about 2 s per 1,000 devices here, allowed 4); skip a step that cannot finish.
    if (left < windowS + 10 + n / 250) {
      notes.push(`${mode}: N=${n} not run, its ${budgetS.toFixed(0)} s share of --budget was used up.`);
      break;
    }
    console.log(`fleet ${mode}: N=${n} ...`);
    const s = await forkStep(mode, n, windowS, broker, execArgv);
    steps.push(s);
    console.log(table(mode, [s]).at(-1));
    if (!s.passed) break;
  }
  return steps;
}

function modeRows(mode: FleetMode, steps: readonly FleetStep[]): BenchRow[] {
  const best = [...steps].reverse().find((s) => s.passed);
  const bestN = best?.n ?? 0;
  const rows: BenchRow[] = [
    {
      metric: `${mode}: largest N with p99 < 50 ms, no missed poll`,
      unit: "devices",
      ours: bestN,
      reference: N_GOAL,
      ratio: bestN / N_GOAL,
      goal: "≥ ×1 (N ≥ 5,000 on 2 cores)",
      met: bestN >= N_GOAL,
    },
  ];
  const at = best ?? steps[0];
  if (at) {
    rows.push(
      {
        metric: `${mode}: RSS at N=${at.n}`,
        unit: "MB",
        ours: at.rssMb,
        reference: RSS_GOAL_MB,
        ratio: at.rssMb / RSS_GOAL_MB,
        goal: "< ×1 (500 MB)",
        met: at.rssMb < RSS_GOAL_MB,
      },
      {
        metric: `${mode}: p99 poll latency at N=${at.n}`,
        unit: "ms",
        ours: at.p99,
        reference: P99_GOAL_MS,
        ratio: at.p99 / P99_GOAL_MS,
      },
      {
        metric: `${mode}: CPU per device at N=${at.n}`,
        unit: "% of a core",
        ours: (at.bridgeCpu / at.n) * 100,
      },
      { metric: `${mode}: RSS per device at N=${at.n}`, unit: "KB", ours: (at.rssMb * 1024) / at.n },
      {
        metric: `${mode}: heap after a forced GC per device at N=${at.n}`,
        unit: "KB",
        ours: (at.heapAfterGcMb * 1024) / at.n,
      },
    );
  }
  return rows;
}

export async function runFleetBench(args: readonly string[] = []): Promise<BenchResult> {
  const sizes = listFlag(args, "sizes", [500, 1000, 2000, 5000]);
  const windowS = numFlag(args, "seconds", 15);
  const budgetS = numFlag(args, "budget", 720);
  const profileDir = args.includes("--profile") ? args[args.indexOf("--profile") + 1] : undefined;
  const nodeArgs = args.includes("--node-args") ? (args[args.indexOf("--node-args") + 1] ?? "") : "";
  const execArgv = [
    // Lets each step force a full GC after its window and report the heap that is retained.
    "--expose-gc",
    ...(profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : []),
    ...nodeArgs.split(/\s+/).filter(Boolean),
  ];
  const modeArg = args[args.indexOf("--mode") + 1];
  const modes: FleetMode[] =
    args.includes("--mode") && (modeArg === "bridge" || modeArg === "pollers" || modeArg === "sockets")
      ? [modeArg]
      : ["bridge", "pollers", "sockets"];
  const broker = new BenchMosquitto();
  await broker.start();
  const notes: string[] = [];
  const rows: BenchRow[] = [];
  const details: string[] = [];
  try {
    const started = Date.now();
    for (const [i, mode] of modes.entries()) {
      // What one mode leaves of the budget goes to the next.
      const share = (budgetS - (Date.now() - started) / 1000) / (modes.length - i);
      const steps = await ramp(mode, sizes, windowS, share, broker, notes, execArgv);
      rows.push(...modeRows(mode, steps));
      details.push(...table(mode, steps), "");
    }
  } finally {
    await broker.stop();
  }
  notes.push(
    "bridge = the production Bridge (HA/MQTT sink with device-based discovery, metrics, alerts; web and history off). pollers = bare Pollers publishing each state document through the same Publisher. sockets = the floor: one raw socket per device writing the pre-encoded request on the same schedule, no decoding, no MQTT. All three spread their devices' polls evenly over the 1 s interval.",
    `start-up = until every device has read once and (bridge) every device's HA discovery has gone out, acknowledged by the broker; then 2 s of rest and a ${windowS} s window. Simulators (20S BMS each) in a child process; Mosquitto on loopback; subject, simulators and Mosquitto share the machine's ${os.availableParallelism()} cores (load average at end ${os.loadavg()[0]?.toFixed(1)}). Loop delay: p99 of the subject's event loop (in brackets: the simulators' process).`,
    "missed = polls short of one per second per device over the window (one of slack for where the window cuts a cycle). The ramp stops at the first N that fails.",
  );
  return {
    name: "fleet",
    title: "one process, N simulated devices at 1 Hz, real Mosquitto",
    reference: "the fleet goal (N ≥ 5,000, p99 < 50 ms, RSS < 500 MB), each step measured in this run",
    rows,
    notes,
    details,
  };
}

export const fleetBench: Benchmark = { name: "fleet", run: runFleetBench };
