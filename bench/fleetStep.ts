/**
 * One step of bench/fleet.ts, run in a fresh process per step so that RSS and heap belong to
 * that N alone (V8 does not give memory back between steps): N simulators in their own child
 * (bench/fleetSims.ts), one subject (the production Bridge, or bare Pollers) polling them at
 * 1 Hz and publishing to the Mosquitto given by the parent, then a measured window.
 * argv: mode n windowS brokerUrl brokerPid → sends one FleetStep over IPC and exits.
 * FLEET_HEAP_SNAPSHOT_DIR=dir writes a heap snapshot there after the window's forced GC.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import mqtt from "mqtt";
import { Bridge } from "../src/bridge/bridge.js";
import { configSchema } from "../src/config/schema.js";
import type { Reading } from "../src/model/reading.js";
import { connect, type Socket } from "node:net";
import { HaSink } from "../src/mqtt/haSink.js";
import { tuneV8ForBridge } from "../src/bridge/v8Tuning.js";
import { bmsGetValues, encodeFrame } from "../src/protocol/index.js";
import { Publisher } from "../src/mqtt/publisher.js";
import { deviceStateDoc } from "../src/mqtt/state.js";
import { Poller } from "../src/session/poller.js";
import { createTransportFactory } from "../src/transport/fromSpec.js";
import { procCpuSeconds, sleep } from "./mosquitto.js";
import { percentile } from "./report.js";
import { startSimChild } from "./simChild.js";

export const P99_GOAL_MS = 50;
export const RSS_GOAL_MB = 500;

export interface BrokerRef {
  readonly url: string;
  readonly pid: number | undefined;
}

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
  /** Heap used after a forced full GC at the end of the window (NaN without --expose-gc): what is retained. */
  readonly heapAfterGcMb: number;
  readonly bridgeCpu: number;
  readonly simCpu: number;
  /** p99 event-loop delay of the simulators' process over the window, ms. */
  readonly simLoopDelayP99: number;
  readonly brokerCpu: number;
  readonly publishedPerS: number;
  /** Devices whose state Mosquitto holds retained after the window (undefined: the subject publishes nothing). */
  readonly retained: number | undefined;
  readonly passed: boolean;
}

async function retainedStates(url: string, base: string, n: number): Promise<number> {
  const client = mqtt.connect(url, { clientId: `bench-check-${process.pid}`, reconnectPeriod: 0 });
  const topics = new Set<string>();
  const mine = new RegExp(`^${base}/sim-\\d+/state$`);
  client.on("message", (t) => {
    if (mine.test(t)) topics.add(t);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
    });
    await client.subscribeAsync(`${base}/+/state`);
    const deadline = Date.now() + 10_000;
    while (topics.size < n && Date.now() < deadline) await sleep(100);
    return topics.size;
  } finally {
    await client.endAsync();
  }
}

export type FleetMode = "bridge" | "pollers" | "sockets";

interface Subject {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** MQTT publishes handed to the client so far. */
  published(): number;
  /** Start-up work (the first HA discovery of every device) is done. */
  settled(): boolean;
}

/** The whole bridge (production path), polls spread over the interval as Bridge.start() does, V8 tuned as `vesc2mqtt run` does. */
function bridgeSubject(
  ports: readonly number[],
  brokerUrl: string,
  base: string,
  dataDir: string,
  onReading: (r: Reading) => void,
): Subject {
  tuneV8ForBridge(); // as `vesc2mqtt run` does
  const config = configSchema.parse({
    logLevel: "warn",
    dataDir,
    // A discovery prefix per step too: each step is a fresh installation, not a restart of the last.
    mqtt: {
      url: brokerUrl,
      clientId: `bench-fleet-${process.pid}-${ports.length}`,
      baseTopic: base,
      discoveryPrefix: `ha-${base}`,
    },
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
  const ha = () => bridge.sinks.find((s): s is HaSink => s instanceof HaSink);
  return {
    start: () => bridge.start(),
    stop: () => bridge.stop(),
    published: () => ha()?.stats?.published ?? Number.NaN,
    settled: () => ha()?.discoveryBacklog === 0,
  };
}

/**
 * Bare pollers publishing each reading's state document with one MQTT client, their starts
 * spread evenly over the interval: the floor under what the bridge could reach.
 */
function pollersSubject(
  ports: readonly number[],
  brokerUrl: string,
  base: string,
  onReading: (r: Reading) => void,
): Subject {
  const publisher = new Publisher({
    url: brokerUrl,
    clientId: `bench-pollers-${process.pid}-${ports.length}`,
    stateTopic: `${base}/bridge/state`,
  });
  const pollers = ports.map(
    (port, i) =>
      new Poller({
        deviceId: `sim-${i}`,
        url: `tcp://127.0.0.1:${port}`,
        transport: createTransportFactory({ type: "tcp", host: "127.0.0.1", port }),
        intervalMs: 1000,
        // Spread over the interval the way the bridge does it.
        startDelayMs: Math.floor((i * 1000) / ports.length),
      }),
  );
  let published = 0;
  for (const p of pollers) {
    p.on("reading", (r) => {
      onReading(r);
      publisher.send(`${base}/${r.deviceId}/state`, deviceStateDoc(r).payload, { qos: 0, retain: true });
      published++;
    });
    p.on("error", () => undefined);
  }
  return {
    start: async () => {
      const connected = new Promise<void>((resolve) => publisher.once("connect", () => resolve()));
      publisher.start();
      await connected;
      for (const p of pollers) p.start();
    },
    stop: async () => {
      await Promise.all(pollers.map((p) => p.stop()));
      await publisher.stop();
    },
    published: () => published,
    settled: () => true,
  };
}

/**
 * The floor under both: one raw socket per device writing the pre-encoded BMS request on the
 * same fixed schedule and timing the first reply bytes, with no decoding and no MQTT. What
 * Node, the kernel and the simulators allow on this machine at this N.
 */
function socketsSubject(ports: readonly number[], onReading: (r: Reading) => void): Subject {
  const request = encodeFrame(bmsGetValues.encodeRequest());
  const sockets: Socket[] = [];
  const timers: ReturnType<typeof setTimeout>[] = [];
  let stopped = false;
  const device = { firmware: "-", hardware: "-", uuid: "-" };
  return {
    start: async () => {
      await Promise.all(
        ports.map(
          (port, i) =>
            new Promise<void>((resolve, reject) => {
              const socket = connect({ host: "127.0.0.1", port, noDelay: true }, () => resolve());
              socket.once("error", reject);
              sockets.push(socket);
              let sentAt: number | undefined;
              socket.on("data", () => {
                if (sentAt === undefined) return;
                onReading({ deviceId: `sim-${i}`, time: "", device, latencyMs: performance.now() - sentAt });
                sentAt = undefined;
              });
              let due = Date.now() + (i * 1000) / ports.length;
              const tick = () => {
                if (stopped) return;
                sentAt = performance.now();
                socket.write(request);
                due += 1000;
                timers[i] = setTimeout(tick, Math.max(0, due - Date.now()));
              };
              timers[i] = setTimeout(tick, Math.max(0, due - Date.now()));
            }),
        ),
      );
    },
    stop: async () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
    },
    published: () => 0,
    settled: () => true,
  };
}

export async function step(
  mode: FleetMode,
  n: number,
  windowS: number,
  broker: BrokerRef,
): Promise<FleetStep> {
  const sims = await startSimChild(n, 1000 + n);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vesc2mqtt-bench-fleet-"));
  // A base topic per step, so retained states of earlier steps are not counted.
  const base = `fleet-${mode}-${n}`;
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
      ? bridgeSubject(sims.ports, broker.url, base, dataDir, onReading)
      : mode === "pollers"
        ? pollersSubject(sims.ports, broker.url, base, onReading)
        : socketsSubject(sims.ports, onReading);
  try {
    const t0 = Date.now();
    await bridge.start();
    const deadline = Date.now() + 60_000;
    while ((seen.size < n || !bridge.settled()) && Date.now() < deadline) await sleep(100);
    const startupS = (Date.now() - t0) / 1000;
    await sleep(2000); // let the start-up burst (handshakes, discovery) die down
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    const sim0 = await sims.usage();
    const broker0 = procCpuSeconds(broker.pid);
    const msgs0 = bridge.published();
    measuring = true;
    const w0 = performance.now();
    await sleep(windowS * 1000);
    measuring = false;
    const elapsed = (performance.now() - w0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const sim1 = await sims.usage();
    const broker1 = procCpuSeconds(broker.pid);
    loop.disable();
    const mem = process.memoryUsage();
    // heapUsed above includes garbage not yet collected; after a full GC it is what is retained.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapAfterGcMb = gc ? process.memoryUsage().heapUsed / 2 ** 20 : Number.NaN;
    const snapshotDir = process.env.FLEET_HEAP_SNAPSHOT_DIR;
    if (snapshotDir) v8.writeHeapSnapshot(path.join(snapshotDir, `fleet-${mode}-${n}.heapsnapshot`));
    const retained = mode === "sockets" ? undefined : await retainedStates(broker.url, base, n);
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
      heapAfterGcMb,
      bridgeCpu: (cpu.user + cpu.system) / 1e6 / elapsed,
      simCpu: (sim1.cpuSeconds - sim0.cpuSeconds) / elapsed,
      simLoopDelayP99: sim1.loopDelayP99Ms,
      brokerCpu: (broker1 - broker0) / elapsed,
      publishedPerS: (bridge.published() - msgs0) / elapsed,
      retained,
      passed:
        seen.size === n &&
        (retained === undefined || retained === n) &&
        p99 < P99_GOAL_MS &&
        missed === 0 &&
        rssMb < RSS_GOAL_MB,
    };
  } finally {
    await bridge.stop();
    await sims.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// Entry point when forked by bench/fleet.ts.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, n, windowS, url, pid] = process.argv.slice(2);
  const known: readonly FleetMode[] = ["bridge", "pollers", "sockets"];
  const result = await step(known.find((m) => m === mode) ?? "bridge", Number(n), Number(windowS), {
    url: url ?? "",
    pid: pid ? Number(pid) : undefined,
  });
  process.send?.(result, () => process.exit(0));
}
