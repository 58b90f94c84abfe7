/**
 * The bridge's composition root: config → (embedded broker) → pollers → bus → sinks.
 * Start order: broker, sinks, pollers (so no reading is emitted before a sink listens);
 * stop order: the reverse. Nothing here maps or publishes; the parts do.
 */
import { join } from "node:path";
import { connectionSpecOf } from "../config/load.js";
import type { Config, DeviceConfig } from "../config/schema.js";
import { type EmbeddedHub, startHubForConfig } from "../hub/forConfig.js";
import { Bus, type Sink } from "../model/bus.js";
import type { DeviceStatus, Reading } from "../model/reading.js";
import { SensorHealth } from "../model/sensorHealth.js";
import { EmbeddedBroker } from "../mqtt/embeddedBroker.js";
import { Poller } from "../session/poller.js";
import { BatteryStateError, BatteryStateStore, DEFAULT_BATCH_MS } from "../store/batteryState.js";
import type { PollerOptions } from "../session/types.js";
import { createTransportFactory, transportUrl } from "../transport/fromSpec.js";
import { BatteryStage, countsBattery } from "./batteryStage.js";
import { type Log, silentLog } from "./log.js";
import { buildSinks, type SinkContext } from "./sinks.js";
import { bridgeOrigin } from "./version.js";

export interface BridgeOptions {
  readonly config: Config;
  readonly log?: Log;
  /** Test knobs passed to the HA sink. */
  readonly ha?: SinkContext["ha"];
}

/** The device's sensor config as SensorHealth takes it (seconds → ms). */
export function sensorHealthOf(d: DeviceConfig): SensorHealth {
  return new SensorHealth({
    temperatures: Object.fromEntries(Object.entries(d.bms.temperatures).map(([n, c]) => [Number(n), c])),
    stuckAfterMs: d.bms.stuckAfterS * 1000,
    stuckAfterReadings: d.bms.stuckAfterReadings,
    bmsStaleAfterMs: d.bms.staleAfterS * 1000,
  });
}

/** A sink that throws on every reading logs once, then at most once a minute with a count. */
const LISTENER_ERROR_LOG_MS = 60_000;

export function pollerOptionsOf(d: DeviceConfig, hub?: EmbeddedHub | null): PollerOptions {
  const spec = connectionSpecOf(d);
  // A device registered with our own hub is read in-process (src/hub/localTransport.ts).
  const local = hub?.transportFor(d.connection);
  return {
    deviceId: d.id,
    transport: local ?? createTransportFactory(spec),
    url: local && spec.type === "hub" ? `hub-local://${spec.hubId.toUpperCase()}` : transportUrl(spec),
    intervalMs: Math.round(d.intervalS * 1000),
    requestTimeoutMs: Math.round(d.requestTimeoutS * 1000),
    can: d.can.map((c) => ({
      id: c.id,
      kind: c.kind,
      ...(c.groups ? { groups: c.groups } : {}),
      ...(c.speedUnit ? { speedUnit: c.speedUnit } : {}),
    })),
    // "auto" = the poller's own default (on for hub, off otherwise).
    ...(d.customConfigHandshake === "auto" ? {} : { customConfigHandshake: d.customConfigHandshake }),
    readBms: d.readBms,
    staleAfterIntervals: d.staleAfterIntervals,
    yieldMs: Math.round(d.yieldS * 1000),
    // The hub never lets the bridge send GET_CUSTOM_CONFIG (its reply holds secrets).
    ...(local ? { customConfigHandshake: false } : {}),
  };
}

export class Bridge {
  readonly bus = new Bus();
  readonly pollers = new Map<string, Poller>();
  /** Per device: what the bridge knows about its sensors (stuck, fitted, frozen BMS data). */
  readonly #health = new Map<string, SensorHealth>();
  readonly #bmsStale = new Map<string, boolean>();
  /** Per device: its battery estimator and where its state is saved (src/bridge/batteryStage.ts). */
  readonly #battery = new Map<string, BatteryStage>();
  #batteryStore: BatteryStateStore | undefined;
  /** Per sink: listener errors since the last log line, and when that was. */
  readonly #sinkErrors = new Map<string, { count: number; loggedAt: number }>();
  #sinks: Sink[] = [];
  #broker: EmbeddedBroker | undefined;
  #hub: EmbeddedHub | null = null;
  #started: Sink[] = [];
  readonly #log: Log;

  constructor(readonly options: BridgeOptions) {
    this.#log = options.log ?? silentLog;
    this.bus.onListenerError = (owner, event, error) => this.#sinkFailed(owner, event, error);
  }

  /** How many times each sink's listeners threw (they never reach the pollers). */
  get sinkErrors(): ReadonlyMap<string, number> {
    return new Map([...this.#sinkErrors].map(([k, v]) => [k, v.count]));
  }

  /** Like a sink, the sensor bookkeeping must never fail a poll: on a bug the reading goes out as read. */
  #withHealth(health: SensorHealth, r: Reading): Reading {
    try {
      return health.apply(r);
    } catch (e) {
      this.#sinkFailed("sensor-health", "reading", e);
      return r;
    }
  }

  /** Same rule as #withHealth: a failing estimate never fails a poll. */
  #withBattery(stage: BatteryStage, r: Reading): Reading {
    try {
      return stage.apply(r);
    } catch (e) {
      this.#sinkFailed("battery", "reading", e);
      return r;
    }
  }

  /** `<data_dir>/battery.db`; without it (unwritable directory) the counters start from zero each start. */
  #openBatteryStore(): BatteryStateStore | undefined {
    try {
      return new BatteryStateStore(join(this.options.config.dataDir, "battery.db"), DEFAULT_BATCH_MS, (m) =>
        this.#log.warn(m),
      );
    } catch (e) {
      if (!(e instanceof BatteryStateError)) throw e;
      this.#log.error(`${e.message}; battery counters will not survive a restart`);
      return undefined;
    }
  }

  #sinkFailed(owner: string, event: string, error: unknown): void {
    const now = Date.now();
    let e = this.#sinkErrors.get(owner);
    if (!e) {
      e = { count: 0, loggedAt: 0 };
      this.#sinkErrors.set(owner, e);
    }
    e.count++;
    if (e.loggedAt !== 0 && now - e.loggedAt < LISTENER_ERROR_LOG_MS) return;
    const first = e.loggedAt === 0;
    e.loggedAt = now;
    const msg = error instanceof Error ? error.message : String(error);
    this.#log.error(
      `sink ${owner}: ${event} handler failed: ${msg}${first ? " (other sinks are unaffected; repeats logged once a minute)" : ` (${e.count} failures so far)`}`,
    );
  }

  get sinks(): readonly Sink[] {
    return this.#sinks;
  }

  get broker(): EmbeddedBroker | undefined {
    return this.#broker;
  }

  /** The embedded VESC Hub (config `hub.enabled`), for metrics and `/api/hub` (src/hub/snapshot.ts). */
  get hub(): EmbeddedHub | null {
    return this.#hub;
  }

  get mqttUrl(): string {
    return this.#broker?.url ?? this.options.config.mqtt.url;
  }

  statuses(): DeviceStatus[] {
    return [...this.pollers.values()].map((p) => {
      const s = p.status();
      return this.#bmsStale.get(s.deviceId) ? { ...s, bmsStale: true } : s;
    });
  }

  /** Rejects (after cleaning up) when a listener cannot start, e.g. a busy port. */
  async start(): Promise<void> {
    const { config } = this.options;
    try {
      if (config.mqtt.embedded.enabled) {
        this.#broker = new EmbeddedBroker({
          host: config.mqtt.embedded.host,
          port: config.mqtt.embedded.port,
        });
        await this.#broker.start();
        this.#log.info(`embedded MQTT broker on ${this.#broker.url}`);
      }
      this.#hub = await startHubForConfig(config, {
        logger: (level, msg) => this.#log[level](`hub: ${msg}`),
      });
      const hubAt = this.#hub?.address;
      if (hubAt) this.#log.info(`VESC Hub listening on ${hubAt.host}:${hubAt.port}`);
      this.#sinks = buildSinks({
        config,
        bus: this.bus,
        log: this.#log,
        origin: bridgeOrigin(),
        mqttUrl: this.mqttUrl,
        statuses: () => this.statuses(),
        hub: this.#hub?.hub ?? null,
        ...(this.options.ha ? { ha: this.options.ha } : {}),
      });
      for (const s of this.#sinks) {
        await s.start();
        this.bus.claim(s.name);
        this.#started.push(s);
      }
      const count = config.devices.length;
      if (config.devices.some(countsBattery)) this.#batteryStore = this.#openBatteryStore();
      for (const [i, d] of config.devices.entries()) {
        // Spread the starts over one interval: started together, every poller would poll in
        // the same instant each interval and the readings would queue behind each other.
        const startDelayMs = count > 1 ? Math.floor((i / count) * d.intervalS * 1000) : 0;
        const poller = new Poller({ ...pollerOptionsOf(d, this.#hub), startDelayMs });
        const health = sensorHealthOf(d);
        this.#health.set(d.id, health);
        const battery = new BatteryStage({
          deviceId: d.id,
          config: d.battery,
          intervalMs: Math.round(d.intervalS * 1000),
          store: this.#batteryStore,
          onRestoreError: (m) => this.#log.warn(`device ${d.id}: ${m}; counting from zero`),
          onRestoreWarning: (m) => this.#log.warn(`device ${d.id}: ${m}`),
        });
        this.#battery.set(d.id, battery);
        poller.on("reading", (r) => {
          const reading = this.#withBattery(battery, this.#withHealth(health, r));
          const stale = reading.bms?.stale === true;
          const statusChanged = stale !== (this.#bmsStale.get(d.id) ?? false);
          this.#bmsStale.set(d.id, stale);
          this.bus.emit("reading", reading);
          // A frozen BMS is news for the connection document and the dashboard, not a dropped link.
          if (statusChanged)
            this.bus.emit("status", { ...poller.status(), ...(stale ? { bmsStale: true } : {}) });
        });
        poller.on("status", (s) =>
          this.bus.emit("status", this.#bmsStale.get(d.id) ? { ...s, bmsStale: true } : s),
        );
        poller.on("error", (e) => this.#log.debug(`device ${d.id}: ${e.message}`));
        // Phrased by the poller: a warning once per episode of failed polls, a line per reconnect.
        poller.on("log", (level, message) => this.#log[level](`device ${d.id}: ${message}`));
        this.pollers.set(d.id, poller);
        poller.start();
        this.#log.info(`device ${d.id}: polling ${transportUrl(connectionSpecOf(d))} every ${d.intervalS} s`);
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    // Detach first: the "offline" a stopping poller reports is a shutdown, not an outage,
    // and must not reach alerts/history/HA (HA learns from the bridge LWT/offline instead).
    for (const p of this.pollers.values()) {
      p.removeAllListeners();
      p.on("error", () => undefined); // an unheard "error" event would throw
    }
    await Promise.allSettled([...this.pollers.values()].map((p) => p.stop()));
    this.pollers.clear();
    for (const [id, stage] of this.#battery) {
      try {
        stage.save();
      } catch (e) {
        this.#log.warn(`device ${id}: battery state not saved: ${String(e)}`);
      }
    }
    this.#battery.clear();
    this.#batteryStore?.close();
    this.#batteryStore = undefined;
    await this.#hub?.stop();
    this.#hub = null;
    for (const s of this.#started.reverse()) {
      await s.stop().catch((e: unknown) => this.#log.warn(`sink ${s.name}: stop failed: ${String(e)}`));
    }
    this.#started = [];
    await this.#broker?.stop();
    this.#broker = undefined;
  }
}
