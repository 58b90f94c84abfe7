/**
 * The bridge's per-reading pipeline at fleet scale without sockets: N simulated 20S packs
 * (src/sim, each on a virtual clock advancing 1 s per round) give one reading per round;
 * each goes through SensorHealth, the battery stage (saving to a real battery.db) and the
 * bus to the production sinks (HA with a no-op MQTT client, alerts, metrics), as
 * src/bridge/bridge.ts wires them. Prints CPU µs per reading for each stage (process CPU
 * time, so other load on the machine matters less than for wall time; about 1 µs of it is the
 * getrusage calls themselves), the main thread's GC pauses, and the live heap per device
 * after a full GC. A profiling aid for bench/fleet.ts, whose numbers are the goal.
 * Run: `node --expose-gc build-bench/bench/fleetPipeline.js [--n 2000] [--rounds 60] [--warmup 40]
 * [--stages health,battery,sinks]` (PIPELINE_MARKS=1 marks the measured rounds for --trace-gc-nvp).
 */
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { BatteryStage } from "../src/bridge/batteryStage.js";
import { sensorHealthOf } from "../src/bridge/bridge.js";
import { silentLog } from "../src/bridge/log.js";
import { buildSinks, type SinkContext } from "../src/bridge/sinks.js";
import { configSchema } from "../src/config/schema.js";
import { Bus } from "../src/model/bus.js";
import { toBmsReading } from "../src/model/bmsReading.js";
import type { Reading } from "../src/model/reading.js";
import { HaSink } from "../src/mqtt/haSink.js";
import type { MqttClientLike } from "../src/mqtt/publisher.js";
import { SimDevice } from "../src/sim/device.js";
import { BatteryStateStore } from "../src/store/batteryState.js";

/** What Publisher needs of MQTT.js; publishes are counted and dropped. */
class NullMqttClient extends EventEmitter implements MqttClientLike {
  connected = false;
  published = 0;
  bytes = 0;
  /** Publishes under the discovery prefix: none once start-up is over. */
  discovery = 0;
  readonly stream = {
    writableLength: 0,
    writableHighWaterMark: 1 << 20,
    cork: () => undefined,
    uncork: () => undefined,
  };
  publish(topic: string, payload: string, _o: unknown, callback: (error?: Error) => void): void {
    this.published++;
    if (topic.startsWith(`${DISCOVERY_PREFIX}/`)) this.discovery++;
    this.bytes += payload.length;
    callback();
  }
  async subscribeAsync(): Promise<unknown> {
    return [];
  }
  async unsubscribeAsync(): Promise<unknown> {
    return undefined;
  }
  async endAsync(): Promise<void> {
    this.connected = false;
  }
  up(): void {
    this.connected = true;
    this.emit("connect");
  }
}

function numFlag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const DISCOVERY_PREFIX = "ha-pipe";

const cpuUs = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const tick = () => new Promise<void>((r) => setTimeout(r, 10));

export interface PipelineResult {
  readonly n: number;
  readonly rounds: number;
  /** CPU µs per reading. */
  readonly healthUs: number;
  readonly batteryUs: number;
  readonly sinksUs: number;
  readonly totalUs: number;
  /** Live heap after a full GC, per device, KB (NaN without --expose-gc). */
  readonly heapPerDeviceKb: number;
  /** Main-thread GC pause per reading, µs: scavenges and mark-compacts. */
  readonly minorGcUs: number;
  readonly majorGcUs: number;
  readonly published: number;
  readonly publishedBytes: number;
  /** Discovery publishes in the measured rounds (0 in a steady state). */
  readonly discoveryPublished: number;
}

/** Which stages run (all by default): leaving some out shows what each adds to GC. */
export interface PipelineStages {
  readonly health: boolean;
  readonly battery: boolean;
  readonly sinks: boolean;
}

const ALL_STAGES: PipelineStages = { health: true, battery: true, sinks: true };

export async function runPipeline(
  n: number,
  rounds: number,
  warmup: number,
  stages: PipelineStages = ALL_STAGES,
): Promise<PipelineResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vesc2mqtt-bench-pipeline-"));
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let now = Date.parse("2026-12-01T12:00:00.000Z");
  const config = configSchema.parse({
    logLevel: "warn",
    dataDir,
    mqtt: {
      url: "mqtt://127.0.0.1:1",
      clientId: "bench-pipeline",
      baseTopic: "pipe",
      discoveryPrefix: DISCOVERY_PREFIX,
    },
    web: { enabled: false },
    history: { enabled: false },
    metrics: { enabled: true },
    devices: Array.from({ length: n }, (_, i) => ({
      id: `sim-${i}`,
      connection: { type: "tcp", host: "127.0.0.1", port: 1 + i },
      intervalS: 1,
    })),
  });
  const bus = new Bus();
  const client = new NullMqttClient();
  // The HA sink's connect hook is a test knob SinkContext does not name; it is passed through.
  const ha = { connect: () => client, retainedScanMs: 0, birthDelayMs: () => 0 } as SinkContext["ha"];
  const sinks = buildSinks({
    config,
    bus,
    log: silentLog,
    origin: { name: "vesc2mqtt", sw: "bench", url: "https://example.invalid" },
    mqttUrl: config.mqtt.url,
    statuses: () => [],
    ...(ha ? { ha } : {}),
  });
  for (const s of sinks) {
    await s.start();
    bus.claim(s.name);
  }
  client.up();
  // The connect republishes every device's discovery a slice at a time, one slice per
  // publisher batch; with a second compressed into one tick it would still be running in the
  // measured rounds (at 2,000 devices until round 100) and be counted as steady state.
  const haSink = sinks.find((s): s is HaSink => s instanceof HaSink);
  for (let i = 0; i < 100_000 && (haSink?.discoveryBacklog ?? 0) > 0; i++)
    await new Promise<void>((r) => setTimeout(r, 1));
  const store = new BatteryStateStore(path.join(dataDir, "battery.db"));
  const devices = config.devices.map((d, i) => {
    const sim = new SimDevice({ seed: 1000 + n + i, cells: 20, clock: () => now });
    return {
      id: d.id,
      sim,
      info: { firmware: "6.05", hardware: "VESC Express T", uuid: sim.uuid },
      health: sensorHealthOf(d),
      battery: new BatteryStage({ deviceId: d.id, config: d.battery, intervalMs: 1000, store }),
    };
  });
  const t = { health: 0, battery: 0, sinks: 0 };
  let counted = 0;
  const pub0 = { n: 0, bytes: 0, discovery: 0 };
  const gcMs = { minor: 0, major: 0 };
  let gcOn = false;
  const gcObserver = new PerformanceObserver((list) => {
    if (!gcOn) return;
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      // perf_hooks.constants: NODE_PERFORMANCE_GC_MINOR = 1, everything else is a major phase.
      if (kind === 1) gcMs.minor += e.duration;
      else gcMs.major += e.duration;
    }
  });
  gcObserver.observe({ entryTypes: ["gc"] });
  try {
    for (let round = 0; round < warmup + rounds; round++) {
      const measuring = round >= warmup;
      if (round === warmup) {
        if (process.env.PIPELINE_MARKS) process.stdout.write("PIPELINE measuring\n");
        gcOn = true;
        pub0.n = client.published;
        pub0.bytes = client.bytes;
        pub0.discovery = client.discovery;
      }
      now += 1000;
      const time = new Date(now).toISOString();
      // Device by device as the pollers deliver them; the simulator's part is not timed.
      for (const d of devices) {
        const raw: Reading = {
          deviceId: d.id,
          time,
          device: d.info,
          bms: toBmsReading(d.sim.bmsValues()),
          latencyMs: 1.5,
        };
        const c0 = cpuUs();
        const healthy = stages.health ? d.health.apply(raw) : raw;
        const c1 = cpuUs();
        const estimated = stages.battery ? d.battery.apply(healthy) : healthy;
        const c2 = cpuUs();
        if (stages.sinks) bus.emit("reading", estimated);
        const c3 = cpuUs();
        if (measuring) {
          t.health += c1 - c0;
          t.battery += c2 - c1;
          t.sinks += c3 - c2;
          counted++;
        }
      }
      await tick(); // the publisher's batch timer, alert and metric timers
    }
    gcOn = false;
    if (process.env.PIPELINE_MARKS) process.stdout.write("PIPELINE done\n");
    gc?.();
    const heap1 = process.memoryUsage().heapUsed;
    const total = t.health + t.battery + t.sinks;
    return {
      n,
      rounds,
      healthUs: t.health / counted,
      batteryUs: t.battery / counted,
      sinksUs: t.sinks / counted,
      totalUs: total / counted,
      heapPerDeviceKb: gc ? (heap1 - heap0) / n / 1024 : Number.NaN,
      minorGcUs: (gcMs.minor * 1000) / counted,
      majorGcUs: (gcMs.major * 1000) / counted,
      published: client.published - pub0.n,
      publishedBytes: client.bytes - pub0.bytes,
      discoveryPublished: client.discovery - pub0.discovery,
    };
  } finally {
    gcObserver.disconnect();
    for (const s of [...sinks].reverse()) await s.stop().catch(() => undefined);
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const r = await runPipeline(
    numFlag(args, "n", 2000),
    numFlag(args, "rounds", 60),
    numFlag(args, "warmup", 40),
    args.includes("--stages")
      ? {
          health: (args[args.indexOf("--stages") + 1] ?? "").includes("health"),
          battery: (args[args.indexOf("--stages") + 1] ?? "").includes("battery"),
          sinks: (args[args.indexOf("--stages") + 1] ?? "").includes("sinks"),
        }
      : ALL_STAGES,
  );
  const f = (x: number) => x.toFixed(1);
  console.log(
    `N=${r.n} rounds=${r.rounds}: CPU per reading ${f(r.totalUs)} µs (sensor health ${f(r.healthUs)}, battery ${f(r.batteryUs)}, sinks ${f(r.sinksUs)}); ` +
      `GC pauses ${f(r.minorGcUs)} minor + ${f(r.majorGcUs)} major µs per reading; ` +
      `heap ${f(r.heapPerDeviceKb)} KB per device; ${(r.published / r.rounds / r.n).toFixed(2)} publishes and ${(r.publishedBytes / r.rounds / r.n).toFixed(0)} payload chars per reading; ${r.discoveryPublished} discovery publishes measured`,
  );
  process.exit(0);
}
