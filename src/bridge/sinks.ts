/**
 * Which sinks a bridge runs, built from the config: a new sink is one more entry here and
 * bridge.ts never changes (docs/architecture.md, "How to add a sink"). A sink that serves
 * HTTP is named "web" and exposes `url` once started (`vesc2mqtt demo` prints it).
 */
import type { Config, DeviceConfig } from "../config/schema.js";
import type { Bus, Sink } from "../model/bus.js";
import type { DeviceStatus } from "../model/reading.js";
import type { Origin } from "../mqtt/homeassistant/discovery.js";
import { DEFAULT_ALERT_THRESHOLDS, mergeThresholds } from "../alerts/alerts.js";
import { AlertSink } from "../alerts/alertSink.js";
import { HistorySink } from "../store/historySink.js";
import { Metrics, MetricsSink } from "../metrics/metrics.js";
import type { HubServer } from "../hub/hubServer.js";
import { registerHubMetrics } from "../hub/metrics.js";
import { hubSnapshot } from "../hub/snapshot.js";
import { WebServer } from "../web/server.js";
import { restCurrentAOf } from "../battery/config.js";
import { HaSink, type HaSinkOptions } from "../mqtt/haSink.js";
import type { Log } from "./log.js";

export interface SinkContext {
  readonly config: Config;
  readonly bus: Bus;
  readonly log: Log;
  readonly origin: Origin;
  /** The broker URL to use (the embedded broker's, when it runs). */
  readonly mqttUrl: string;
  /** Current status of every configured device (for dashboards). */
  readonly statuses: () => DeviceStatus[];
  /** The VESC Hub this bridge hosts (config `hub.enabled`), for metrics and `/api/hub`. */
  readonly hub?: HubServer | null;
  /** Test knobs for the HA sink (birth delay, reconnect period). */
  readonly ha?: Partial<Pick<HaSinkOptions, "birthDelayMs" | "reconnectPeriodMs" | "retainedScanMs">>;
}

/** How long a device may go without a reading before its poller calls it stale, ms. */
const staleMsOf = (d: DeviceConfig): number => d.intervalS * 1000 * d.staleAfterIntervals;

export function buildSinks(ctx: SinkContext): Sink[] {
  const { config } = ctx;
  const m = config.mqtt;
  const sinks: Sink[] = [
    new HaSink({
      bus: ctx.bus,
      log: ctx.log,
      origin: ctx.origin,
      mqtt: {
        url: ctx.mqttUrl,
        clientId: m.clientId,
        username: m.username,
        password: m.password,
        baseTopic: m.baseTopic,
        discoveryPrefix: m.discoveryPrefix,
        discoveryMode: m.discoveryMode,
        discovery: m.discovery,
        publishOnChange: m.publishOnChange,
        heartbeatS: m.heartbeatS,
      },
      devices: config.devices.map((d) => ({
        id: d.id,
        name: d.name ?? d.id,
        can: d.can.map((c) => ({ id: c.id, kind: c.kind, ...(c.name ? { name: c.name } : {}) })),
        temperatureNames: new Map(
          Object.entries(d.bms.temperatures).flatMap(([n, c]) =>
            c.name ? [[Number(n), c.name] as const] : [],
          ),
        ),
        // One interval of slack beyond the poller's own staleness, so the poller speaks first.
        staleAfterMs: staleMsOf(d) + d.intervalS * 1000,
      })),
      ...ctx.ha,
    }),
  ];
  sinks.push(...storeAndWebSinks(ctx));
  return sinks;
}

/**
 * History, alerts, metrics and the web dashboard. History starts before the
 * alert sink so it records the alerts; the web server comes last so it serves the others.
 */
function storeAndWebSinks(ctx: SinkContext): Sink[] {
  const { config, bus, log } = ctx;
  const out: Sink[] = [];
  const history =
    config.history.enabled && config.history.path !== null
      ? new HistorySink({
          bus,
          path: config.history.path,
          retentionDays: config.history.retentionDays,
          logger: log,
        })
      : undefined;
  if (history) out.push(history);
  out.push(
    new AlertSink({
      bus,
      // The schema fills every default; merging keeps this type-safe if it ever does not.
      thresholds: mergeThresholds(DEFAULT_ALERT_THRESHOLDS, config.alerts),
      overrides: Object.fromEntries(config.devices.map((d) => [d.id, d.alerts])),
      staleAfterMs: Object.fromEntries(config.devices.map((d) => [d.id, staleMsOf(d)])),
      logger: log,
    }),
  );
  const metrics = config.metrics.enabled
    ? new MetricsSink(bus, new Metrics({ statuses: ctx.statuses }))
    : undefined;
  if (metrics) out.push(metrics);
  const hub = ctx.hub ?? null;
  if (metrics && hub) registerHubMetrics(metrics.metrics.registry, hub);
  if (config.web.enabled) {
    out.push(
      new WebServer({
        bus,
        host: config.web.host,
        port: config.web.port,
        token: config.web.token,
        ingress: config.web.ingress,
        allowedHosts: config.web.allowedHosts,
        maxStreams: config.web.maxStreams,
        ...(history ? { history } : {}),
        ...(metrics ? { metrics: metrics.metrics } : {}),
        statuses: ctx.statuses,
        logger: log,
        ...(hub ? { hub: () => hubSnapshot(hub) } : {}),
        // The drift chart counts rest as the device's battery estimates do.
        restCurrentA: (id) => {
          const battery = config.devices.find((d) => d.id === id)?.battery;
          return battery ? restCurrentAOf(battery) : undefined;
        },
      }),
    );
  }
  return out;
}
