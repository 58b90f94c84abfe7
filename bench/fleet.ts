/**
 * Fleet benchmark: ONE bridge (src/bridge, the production composition: pollers → bus → HA/MQTT
 * sink + metrics + alerts; web and history off) polls N simulated Expresses at 1 Hz and
 * publishes to a real Mosquitto. The simulators run in a separate child process
 * (bench/fleetSims.ts). N ramps up; for each N, after every device has read once, a window
 * of --seconds is measured: poll latency (Reading.latencyMs), missed polls, event-loop delay,
 * RSS and CPU of the bridge process, CPU of the simulators and Mosquitto, and messages
 * Mosquitto received. The reference is the goal of issue #9: N ≥ 5,000 with p99 < 50 ms,
 * no missed polls, RSS < 500 MB. The ramp stops at the first N that fails or at --budget s.
 * Flags: --sizes 250,500,1000,2000,5000  --seconds 15  --budget 270
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import mqtt from "mqtt";
import { Bridge } from "../src/bridge/bridge.js";
import { configSchema } from "../src/config/schema.js";
import type { Reading } from "../src/model/reading.js";
import { deviceStateDoc } from "../src/mqtt/state.js";
import { Poller } from "../src/session/poller.js";
import { createTransportFactory } from "../src/transport/fromSpec.js";
import { BenchMosquitto, sleep } from "./mosquitto.js";
import { type Benchmark, type BenchResult, type BenchRow, fmt, percentile } from "./report.js";
import { startSimChild } from "./simChild.js";

const P99_GOAL_MS = 50;
const RSS_GOAL_MB = 500;
const N_GOAL = 5000;

export interface FleetStep {
  readonly n: number;
  readonly startupS: number;
  readonly readings: number;
  readonly missedPolls: number;
  readonly p50: number;
  readonly p99: number;
  readonly maxLatency: number;
  readonly loopDelayP99: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly bridgeCpu: number;
  readonly simCpu: number;
  readonly brokerCpu: number;
  readonly brokerMsgsPerS: number;
  readonly passed: boolean;
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

/** Mosquitto's own count of PUBLISH packets received ($SYS, refreshed every sys_interval). */
async function brokerCounter(url: string): Promise<{ read: () => number; close: () => Promise<void> }> {
  const client = mqtt.connect(url, { clientId: `bench-sys-${process.pid}`, reconnectPeriod: 0 });
  let received = 0;
  client.on("message", (_t, payload) => {
    received = Number(payload.toString()) || received;
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  await client.subscribeAsync("$SYS/broker/publish/messages/received");
  return { read: () => received, close: () => client.endAsync() };
}

export type FleetMode = "bridge" | "pollers";

interface Subject {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The whole bridge (production path), polls unstaggered as the bridge starts them today. */
function bridgeSubject(
  ports: readonly number[],
  brokerUrl: string,
  dataDir: string,
  onReading: (r: Reading) => void,
): Subject {
  const config = configSchema.parse({
    logLevel: "warn",
    dataDir,
    mqtt: { url: brokerUrl, clientId: `bench-fleet-${process.pid}-${ports.length}`, baseTopic: "vesc2mqtt" },
    web: { enabled: false },
    history: { enabled: false },
    metrics: { enabled: true },
    devices: ports.map((port, i) => ({
      id: `sim-${i}`,
      connection: { type: "tcp", host: "127.0.0.1", port },
      intervalS: 1,
    })),
  });
  const bridge = new Bridge({ config });
  bridge.bus.on("reading", onReading);
  return { start: () => bridge.start(), stop: () => bridge.stop() };
}

/**
 * Bare pollers publishing each reading's state document with one MQTT client, their starts
 * spread evenly over the interval: the floor under what the bridge could reach.
 */
function pollersSubject(
  ports: readonly number[],
  brokerUrl: string,
  onReading: (r: Reading) => void,
): Subject {
  const client = mqtt.connect(brokerUrl, { clientId: `bench-pollers-${process.pid}-${ports.length}` });
  const pollers = ports.map(
    (port, i) =>
      new Poller({
        deviceId: `sim-${i}`,
        url: `tcp://127.0.0.1:${port}`,
        transport: createTransportFactory({ type: "tcp", host: "127.0.0.1", port }),
        intervalMs: 1000,
      }),
  );
  const timers: ReturnType<typeof setTimeout>[] = [];
  for (const p of pollers) {
    p.on("reading", (r) => {
      onReading(r);
      client.publish(`vesc2mqtt/${r.deviceId}/state`, deviceStateDoc(r).payload, { qos: 0, retain: true });
    });
    p.on("error", () => undefined);
  }
  return {
    start: async () => {
      await new Promise<void>((resolve) => client.once("connect", () => resolve()));
      pollers.forEach((p, i) => timers.push(setTimeout(() => p.start(), (i * 1000) / pollers.length)));
    },
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      await Promise.all(pollers.map((p) => p.stop()));
      await client.endAsync();
    },
  };
}

async function step(mode: FleetMode, n: number, windowS: number, broker: BenchMosquitto): Promise<FleetStep> {
  const sims = await startSimChild(n, 1000 + n);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vesc2mqtt-bench-fleet-"));
  const seen = new Set<string>();
  let measuring = false;
  const latencies: number[] = [];
  const counts = new Map<string, number>();
  const onReading = (r: Reading) => {
    if (!measuring) {
      seen.add(r.deviceId);
      return;
    }
    if (r.latencyMs !== undefined) latencies.push(r.latencyMs);
    counts.set(r.deviceId, (counts.get(r.deviceId) ?? 0) + 1);
  };
  const bridge =
    mode === "bridge"
      ? bridgeSubject(sims.ports, broker.url, dataDir, onReading)
      : pollersSubject(sims.ports, broker.url, onReading);
  const counter = await brokerCounter(broker.url);
  try {
    const t0 = Date.now();
    await bridge.start();
    const deadline = Date.now() + 60_000;
    while (seen.size < n && Date.now() < deadline) await sleep(100);
    const startupS = (Date.now() - t0) / 1000;
    await sleep(2000); // let the start-up burst (handshakes, discovery) settle
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    const sim0 = await sims.usage();
    const broker0 = broker.cpuSeconds();
    const msgs0 = counter.read();
    measuring = true;
    const w0 = performance.now();
    await sleep(windowS * 1000);
    measuring = false;
    const elapsed = (performance.now() - w0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const sim1 = await sims.usage();
    const broker1 = broker.cpuSeconds();
    loop.disable();
    const mem = process.memoryUsage();
    // A device polled at 1 Hz answers windowS times (±1 for where the window cuts its cycle).
    let missed = 0;
    for (let i = 0; i < n; i++)
      missed += Math.max(0, Math.floor(elapsed) - 1 - (counts.get(`sim-${i}`) ?? 0));
    const p99 = percentile(latencies, 99);
    const rssMb = mem.rss / 2 ** 20;
    return {
      n,
      startupS,
      readings: latencies.length,
      missedPolls: missed,
      p50: percentile(latencies, 50),
      p99,
      maxLatency: percentile(latencies, 100),
      loopDelayP99: loop.percentile(99) / 1e6,
      rssMb,
      heapMb: mem.heapUsed / 2 ** 20,
      bridgeCpu: (cpu.user + cpu.system) / 1e6 / elapsed,
      simCpu: (sim1.cpuSeconds - sim0.cpuSeconds) / elapsed,
      brokerCpu: (broker1 - broker0) / elapsed,
      brokerMsgsPerS: (counter.read() - msgs0) / elapsed,
      passed: seen.size === n && p99 < P99_GOAL_MS && missed === 0 && rssMb < RSS_GOAL_MB,
    };
  } finally {
    await bridge.stop();
    await counter.close();
    await sims.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

function table(mode: FleetMode, steps: readonly FleetStep[]): string[] {
  return [
    `| ${mode} N | start-up | readings | missed | p50 / p99 / max poll latency | loop delay p99 | RSS | CPU (per device) | sims CPU | Mosquitto CPU | broker msgs/s | pass |`,
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...steps.map(
      (s) =>
        `| ${s.n} | ${s.startupS.toFixed(1)} s | ${s.readings.toLocaleString("en-US")} | ${s.missedPolls} | ` +
        `${fmt(s.p50)} / ${fmt(s.p99)} / ${fmt(s.maxLatency)} ms | ${fmt(s.loopDelayP99)} ms | ` +
        `${s.rssMb.toFixed(0)} MB | ${pct(s.bridgeCpu)} (${((s.bridgeCpu / s.n) * 1e6).toFixed(0)} µs/s) | ` +
        `${pct(s.simCpu)} | ${pct(s.brokerCpu)} | ${fmt(s.brokerMsgsPerS)} | ${s.passed ? "yes" : "NO"} |`,
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
): Promise<FleetStep[]> {
  const steps: FleetStep[] = [];
  const started = Date.now();
  for (const n of sizes) {
    const left = budgetS - (Date.now() - started) / 1000;
    // Start-up grows with N (about 1 s per 1,000 devices here); skip a step that cannot finish.
    if (left < windowS + 10 + n / 500) {
      notes.push(`${mode}: N=${n} not run, its ${budgetS.toFixed(0)} s share of --budget was used up.`);
      break;
    }
    console.log(`fleet ${mode}: N=${n} ...`);
    const s = await step(mode, n, windowS, broker);
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
    );
  }
  return rows;
}

export async function runFleetBench(args: readonly string[] = []): Promise<BenchResult> {
  const sizes = listFlag(args, "sizes", [250, 500, 1000, 2000, 5000]);
  const windowS = numFlag(args, "seconds", 15);
  const budgetS = numFlag(args, "budget", 280);
  const modeArg = args[args.indexOf("--mode") + 1];
  const modes: FleetMode[] =
    args.includes("--mode") && (modeArg === "bridge" || modeArg === "pollers")
      ? [modeArg]
      : ["bridge", "pollers"];
  const broker = new BenchMosquitto();
  await broker.start();
  const notes: string[] = [];
  const rows: BenchRow[] = [];
  const details: string[] = [];
  try {
    for (const mode of modes) {
      const steps = await ramp(mode, sizes, windowS, budgetS / modes.length, broker, notes);
      rows.push(...modeRows(mode, steps));
      details.push(...table(mode, steps), "");
    }
  } finally {
    await broker.stop();
  }
  notes.push(
    `bridge = the production Bridge (HA/MQTT sink, device discovery mode, metrics, alerts; web and history off), pollers started all at once as Bridge.start() does; pollers = bare Pollers publishing the state document through one MQTT client, starts spread evenly over the 1 s interval.`,
    `${windowS} s window per N after every device has read once; simulators (20S BMS each) in a child process; Mosquitto on loopback; bridge, simulators and Mosquitto share the machine's ${os.availableParallelism()} cores (load average at end ${os.loadavg()[0]?.toFixed(1)}).`,
    "missed = polls short of one per second per device over the window (one of slack for where the window cuts a cycle). The ramp stops at the first N that fails.",
  );
  return {
    name: "fleet",
    title: "one process, N simulated devices at 1 Hz, real Mosquitto",
    reference: "the issue #9 goal (N ≥ 5,000, p99 < 50 ms, RSS < 500 MB), each step measured in this run",
    rows,
    notes,
    details,
  };
}

export const fleetBench: Benchmark = { name: "fleet", run: runFleetBench };
