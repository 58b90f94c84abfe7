import { Registry } from "prom-client";
import { afterEach, expect, test } from "vitest";
import { validateConfig } from "../config/load.js";
import { encodeFrame } from "../protocol/frame.js";
import {
  framesIn,
  openPeer,
  type Peer,
  registerDevice,
  startTestHub,
  type TestHub,
  waitRegistered,
} from "../../test/helpers/hubPeers.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { type EmbeddedHub, isOnEmbeddedHub, startHubForConfig } from "./forConfig.js";
import { registerHubMetrics } from "./metrics.js";
import { hubSnapshot } from "./snapshot.js";

const PW = "obs-secret";
let hub: TestHub | undefined;
let embedded: EmbeddedHub | null = null;
const peers: Peer[] = [];

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await hub?.stop();
  await embedded?.stop();
  hub = undefined;
  embedded = null;
});

function metricValue(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`${name} missing from:\n${text}`);
  return Number(line.split(" ")[1]);
}

test("stats, metrics and the /api/hub snapshot follow devices, clients and relayed bytes", async () => {
  hub = await startTestHub();
  const registry = new Registry();
  registerHubMetrics(registry, hub.hub);
  const dev = await registerDevice(hub.port, "obs1", PW);
  peers.push(dev);
  await waitRegistered(hub.hub, "obs1");
  const bad = await openPeer(hub.port, "VESCTOOL:obs1:wrong\n");
  peers.push(bad);
  await bad.closed;
  const tool = await openPeer(hub.port, `VESCTOOL:obs1:${PW}\n`);
  peers.push(tool);
  const req = encodeFrame(Uint8Array.of(0));
  tool.write(req);
  await waitFor(() => framesIn(tool.bytes()).length === 1);

  await new Promise((r) => setTimeout(r, 600)); // past the metrics' per-scrape cache
  const text = await registry.metrics();
  expect(metricValue(text, "vesc2mqtt_hub_devices")).toBe(1);
  expect(metricValue(text, "vesc2mqtt_hub_clients")).toBe(1);
  expect(metricValue(text, "vesc2mqtt_hub_bytes_to_devices_total")).toBe(req.length);
  expect(metricValue(text, "vesc2mqtt_hub_bytes_to_clients_total")).toBe(tool.bytes().length);
  expect(metricValue(text, "vesc2mqtt_hub_login_failures_total")).toBe(1);
  expect(metricValue(text, "vesc2mqtt_hub_logins_total")).toBe(1);
  expect(metricValue(text, "vesc2mqtt_hub_remembered_ids")).toBe(1); // unpinned: obs1
  expect(metricValue(text, "vesc2mqtt_hub_locked_ids")).toBe(0);
  expect(metricValue(text, "vesc2mqtt_hub_evicted_connections_total")).toBe(0);

  const snap = hubSnapshot(hub.hub);
  if (!snap.enabled) throw new Error("snapshot says disabled");
  expect(snap).toMatchObject({ rememberedIds: 1, lockedIds: 0, evictedConnections: 0, blockedAddresses: 0 });
  expect(snap.deviceList).toHaveLength(1);
  expect(snap.deviceList[0]).toMatchObject({ id: "OBS1", clientAttached: true, bytesToDevice: req.length });
  const json = JSON.stringify(snap);
  expect(json).not.toContain(PW);
  expect(hubSnapshot(null)).toEqual({ enabled: false });
});

test("startHubForConfig starts the configured hub and serves its devices in-process", async () => {
  const config = validateConfig(
    {
      hub: { enabled: true, host: "127.0.0.1", port: 0, devices: [{ id: "cfg1", password_env: "CFG1_PW" }] },
      devices: [
        { id: "board", connection: { type: "hub", host: "local", hub_id: "cfg1", password_env: "CFG1_PW" } },
        {
          id: "remote",
          connection: { type: "hub", host: "veschub.example", hub_id: "x1", password_env: "CFG1_PW" },
        },
      ],
    },
    { env: { CFG1_PW: PW } },
  );
  const logs: string[] = [];
  embedded = await startHubForConfig(config, { registry: new Registry(), logger: (_l, m) => logs.push(m) });
  if (embedded === null) throw new Error("hub not started");
  const [board, remote] = config.devices;
  if (board === undefined || remote === undefined) throw new Error("config lost devices");
  expect(isOnEmbeddedHub(board.connection, config.hub)).toBe(true);
  expect(isOnEmbeddedHub(remote.connection, config.hub)).toBe(false);
  expect(embedded.transportFor(remote.connection)).toBeUndefined();
  const factory = embedded.transportFor(board.connection);
  if (factory === undefined) throw new Error("no local transport");

  const dev = await registerDevice(embedded.address.port, "CFG1", PW);
  peers.push(dev);
  const transport = await factory(new AbortController().signal);
  const got: Uint8Array[] = [];
  transport.on("data", (c) => got.push(c));
  await transport.write(encodeFrame(Uint8Array.of(0)));
  await waitFor(() => got.length > 0);
  expect(framesIn(got[0] as Uint8Array)[0]?.[0]).toBe(0);
  await transport.close();
  expect(logs.some((l) => l.includes("CFG1 registered"))).toBe(true);
  expect(logs.join("\n")).not.toContain(PW);
  expect(await startHubForConfig(validateConfig({}))).toBeNull();
});

test("the local transport factory waits for the device, and gives up when aborted", async () => {
  hub = await startTestHub();
  const { hubLocalTransport } = await import("./localTransport.js");
  const ac = new AbortController();
  const pending = hubLocalTransport(hub.hub, "late1", { waitMs: 20_000 })(ac.signal);
  const dev = await registerDevice(hub.port, "late1", PW);
  peers.push(dev);
  const t = await pending;
  expect(t.url).toBe("hub-local://LATE1");
  await t.close();
  const ac2 = new AbortController();
  const never = hubLocalTransport(hub.hub, "nobody", { waitMs: 20_000 })(ac2.signal);
  ac2.abort();
  await expect(never).rejects.toMatchObject({ code: "ConnectFailed" });
  await expect(hubLocalTransport(hub.hub, "nobody", { waitMs: 50 })(ac.signal)).rejects.toMatchObject({
    code: "ConnectTimeout",
  });
});
