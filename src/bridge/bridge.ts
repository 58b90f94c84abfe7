/**
 * The bridge's composition root: config → (embedded broker) → pollers → bus → sinks.
 * Start order: broker, sinks, pollers (so no reading is emitted before a sink listens);
 * stop order: the reverse. Nothing here maps or publishes; the parts do.
 */
import { connectionSpecOf } from "../config/load.js";
import type { Config, DeviceConfig } from "../config/schema.js";
import { type EmbeddedHub, startHubForConfig } from "../hub/forConfig.js";
import { Bus, type Sink } from "../model/bus.js";
import type { DeviceStatus } from "../model/reading.js";
import { EmbeddedBroker } from "../mqtt/embeddedBroker.js";
import { Poller } from "../session/poller.js";
import type { PollerOptions } from "../session/types.js";
import { createTransportFactory, transportUrl } from "../transport/fromSpec.js";
import { type Log, silentLog } from "./log.js";
import { buildSinks, type SinkContext } from "./sinks.js";
import { bridgeOrigin } from "./version.js";

export interface BridgeOptions {
  readonly config: Config;
  readonly log?: Log;
  /** Test knobs passed to the HA sink. */
  readonly ha?: SinkContext["ha"];
}

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
    can: d.can.map((c) => ({ id: c.id, kind: c.kind })),
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
  #sinks: Sink[] = [];
  #broker: EmbeddedBroker | undefined;
  #hub: EmbeddedHub | null = null;
  #started: Sink[] = [];
  readonly #log: Log;

  constructor(readonly options: BridgeOptions) {
    this.#log = options.log ?? silentLog;
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
    return [...this.pollers.values()].map((p) => p.status());
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
        this.#started.push(s);
      }
      const count = config.devices.length;
      for (const [i, d] of config.devices.entries()) {
        // Spread the starts over one interval: started together, every poller would poll in
        // the same instant each interval and the readings would queue behind each other.
        const startDelayMs = count > 1 ? Math.floor((i / count) * d.intervalS * 1000) : 0;
        const poller = new Poller({ ...pollerOptionsOf(d, this.#hub), startDelayMs });
        poller.on("reading", (r) => this.bus.emit("reading", r));
        poller.on("status", (s) => this.bus.emit("status", s));
        poller.on("error", (e) => this.#log.debug(`device ${d.id}: ${e.message}`));
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
