/**
 * How the bridge composes its sinks from the config, where that needs no broker: the web
 * server's drift chart counts rest with each device's own battery rule.
 */
import { afterEach, expect, test } from "vitest";
import { scratchDataDir } from "../../test/helpers/dataDir.js";
import { validateConfig } from "../config/load.js";
import { Bus, type Sink } from "../model/bus.js";
import { WebServer } from "../web/server.js";
import { HistorySink } from "../store/historySink.js";
import { silentLog } from "./log.js";
import { buildSinks } from "./sinks.js";

const started: Sink[] = [];
afterEach(async () => {
  for (const s of started.reverse()) await s.stop();
  started.length = 0;
});

test("the drift chart's rest current is each device's battery rest current", async () => {
  const tcp = { type: "tcp", host: "127.0.0.1", port: 1 };
  const config = validateConfig(
    {
      data_dir: scratchDataDir(),
      mqtt: { url: "mqtt://127.0.0.1:1" },
      web: { enabled: true, host: "127.0.0.1", port: 0 },
      devices: [
        { id: "set", connection: tcp, battery: { rest_current_a: 2 } },
        { id: "big", connection: tcp, battery: { capacity_ah: 100 } },
        { id: "plain", connection: tcp },
        { id: "off", connection: tcp, battery: false },
      ],
    },
    { env: {} },
  );
  const sinks = buildSinks({
    config,
    bus: new Bus(),
    log: silentLog,
    origin: { name: "vesc2mqtt", sw: "test", url: "https://example.invalid" },
    mqttUrl: config.mqtt.url,
    statuses: () => [],
  });
  // Only the history and the web server: the HA sink would dial the (absent) broker.
  for (const s of sinks.filter((s) => s instanceof HistorySink || s instanceof WebServer)) {
    await s.start();
    started.push(s);
  }
  const web = sinks.find((s): s is WebServer => s instanceof WebServer);
  const restOf = async (id: string) => {
    const res = await fetch(`${web?.url}/api/devices/${id}/cell-drift?days=1`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { restCurrentA: number }).restCurrentA;
  };
  expect(await restOf("set")).toBe(2);
  expect(await restOf("big")).toBe(2); // C/50 of 100 Ah
  expect(await restOf("plain")).toBe(0.5);
  expect(await restOf("off")).toBe(0.5);
});
