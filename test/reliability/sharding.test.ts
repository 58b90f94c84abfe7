/**
 * Scale past one process (docs/scaling.md): two bridges on one machine share one Mosquitto
 * and a fleet of simulated devices, each configured with its own shard of the devices, its
 * own MQTT client id and its own base topic. Every device is read by exactly one bridge (one
 * connection, one handshake), every device's state reaches the broker, and neither bridge
 * touches the other's topics: there is no shared state to coordinate.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { Bridge } from "../../src/bridge/bridge.js";
import { validateConfig } from "../../src/config/load.js";
import { type SimulatorFleet, startSimulatorFleet } from "../../src/sim/index.js";
import { Mosquitto, Recorder } from "../helpers/mosquitto.js";
import { describeWithBinary, MOSQUITTO } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";
import { scratchDataDir } from "../helpers/dataDir.js";

const N = 24;
const SHARDS = 2;

describeWithBinary(MOSQUITTO, "two bridges sharding one fleet through one broker", () => {
  const broker = new Mosquitto();
  const rec = new Recorder();
  let fleet: SimulatorFleet;
  const bridges: Bridge[] = [];

  beforeAll(async () => {
    await broker.start();
    await rec.start(broker.url);
    fleet = await startSimulatorFleet(N, { port: 0, seed: 900, cells: 8 });
    for (let shard = 0; shard < SHARDS; shard++) {
      // Sharding is configuration only: device i belongs to bridge i % SHARDS.
      const devices = fleet.sims
        .map((s, i) => ({ s, i }))
        .filter(({ i }) => i % SHARDS === shard)
        .map(({ s, i }) => ({
          id: `dev-${i}`,
          connection: { type: "tcp", host: "127.0.0.1", port: s.port },
          interval_s: 0.25,
        }));
      const config = validateConfig(
        {
          data_dir: scratchDataDir(),
          mqtt: { url: broker.url, client_id: `vesc2mqtt-shard-${shard}`, base_topic: `vesc2mqtt-${shard}` },
          web: { enabled: false },
          history: { enabled: false },
          devices,
        },
        { env: {} },
      );
      const bridge = new Bridge({
        config,
        ha: { birthDelayMs: () => 20, reconnectPeriodMs: 200, retainedScanMs: 200 },
      });
      bridges.push(bridge);
      await bridge.start();
    }
  });

  afterAll(async () => {
    for (const b of bridges) await b.stop();
    await fleet?.close();
    await rec.client?.endAsync();
    await broker.dispose();
  });

  test("every device is read by exactly one bridge and published under that bridge's base topic", async () => {
    const stateTopic = (i: number) => `vesc2mqtt-${i % SHARDS}/dev-${i}/state`;
    await waitFor(() => fleet.sims.every((_, i) => rec.latest.has(stateTopic(i))), {
      timeoutMs: 20_000,
      what: "a state from every device",
    });
    for (const [i, s] of fleet.sims.entries()) {
      expect(s.device.stats.connections, `dev-${i}: connections`).toBe(1);
      expect(s.device.stats.requests.COMM_FW_VERSION, `dev-${i}: handshakes`).toBe(1);
      // Never under the other shard's base topic.
      expect(rec.messages.some((m) => m.topic === `vesc2mqtt-${(i + 1) % SHARDS}/dev-${i}/state`)).toBe(
        false,
      );
    }
    // Each bridge has its own availability topic, so one going down cannot mark the other offline.
    for (let shard = 0; shard < SHARDS; shard++) {
      expect(rec.text(`vesc2mqtt-${shard}/bridge/state`)).toBeDefined();
    }
  });
});
