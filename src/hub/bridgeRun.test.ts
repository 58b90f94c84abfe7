/** `vesc2mqtt run` with `hub.enabled`: the bridge hosts the hub and polls the devices registered there. */
import { afterEach, expect, test } from "vitest";
import { Bridge } from "../bridge/bridge.js";
import { validateConfig } from "../config/load.js";
import type { Reading } from "../model/reading.js";
import { type HubRegistration, registerWithHub, SimDevice } from "../sim/index.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { scratchDataDir } from "../../test/helpers/dataDir.js";

const PW = "run-hub-pw";
let bridge: Bridge | undefined;
let reg: HubRegistration | undefined;

afterEach(async () => {
  await reg?.close();
  await bridge?.stop();
  bridge = undefined;
  reg = undefined;
});

test("a device registered with the bridge's own hub is polled in-process", async () => {
  const config = validateConfig(
    {
      data_dir: scratchDataDir(),
      mqtt: { embedded: { enabled: true, host: "127.0.0.1", port: 0 }, url: "mqtt://127.0.0.1:1" },
      web: { enabled: true, host: "127.0.0.1", port: 0 },
      history: { enabled: false },
      metrics: { enabled: true },
      hub: {
        enabled: true,
        host: "127.0.0.1",
        port: 0,
        devices: [{ id: "garage1", password_env: "HUB_PW" }],
      },
      devices: [
        {
          id: "board",
          interval_s: 0.2,
          connection: { type: "hub", host: "local", hub_id: "garage1", password_env: "HUB_PW" },
        },
      ],
    },
    { env: { HUB_PW: PW } },
  );
  bridge = new Bridge({ config });
  const readings: Reading[] = [];
  bridge.bus.on("reading", (r) => readings.push(r));
  await bridge.start();
  const hub = bridge.hub;
  if (hub === null) throw new Error("the bridge did not start its hub");
  expect(bridge.pollers.get("board")?.options.url).toBe("hub-local://GARAGE1");

  reg = await registerWithHub(new SimDevice({ cells: 16, seed: 3 }), {
    host: "127.0.0.1",
    port: hub.address.port,
    id: "GARAGE1",
    password: PW,
  });
  await waitFor(() => readings.length >= 2, { timeoutMs: 20_000, what: "readings through the embedded hub" });
  expect(readings[0]?.deviceId).toBe("board");
  expect(readings[0]?.bms?.cells).toHaveLength(16);
  expect(hub.hub.stats().deviceList[0]?.bridgeAttached).toBe(true);

  // The dashboard and metrics show the hub's state, and no password.
  const web = bridge.sinks.find((s) => s.name === "web") as { url?: string } | undefined;
  if (!web?.url) throw new Error("web sink did not start");
  const snapshot = await (await fetch(`${web.url}/api/hub`)).json();
  expect(snapshot).toMatchObject({
    enabled: true,
    devices: 1,
    deviceList: [{ id: "GARAGE1", bridgeAttached: true }],
  });
  const metrics = await (await fetch(`${web.url}/metrics`)).text();
  expect(metrics).toMatch(/^vesc2mqtt_hub_\w+/m);
  for (const body of [JSON.stringify(snapshot), metrics]) expect(body).not.toContain(PW);
});
