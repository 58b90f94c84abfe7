/**
 * publish_on_change + heartbeat against a real Mosquitto: a frozen simulator gives identical
 * readings, so state is published once and then only on the heartbeat, while discovery and
 * availability are unaffected.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { Bridge } from "../../src/bridge/bridge.js";
import { validateConfig } from "../../src/config/load.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";
import { Mosquitto, Recorder } from "../helpers/mosquitto.js";
import { describeWithBinary, MOSQUITTO } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";
import { scratchDataDir } from "../helpers/dataDir.js";

const CLOCK = Date.parse("2025-06-01T12:00:00Z");

describeWithBinary(MOSQUITTO, "publish_on_change with a heartbeat", () => {
  const broker = new Mosquitto();
  const rec = new Recorder();
  let sim: Simulator;
  let bridge: Bridge;
  let readings = 0;

  beforeAll(async () => {
    await broker.start();
    await rec.start(broker.url);
    sim = await startSimulator({ host: "127.0.0.1", port: 0, cells: 4, seed: 2, clock: () => CLOCK });
    const config = validateConfig(
      {
        data_dir: scratchDataDir(),
        mqtt: { url: broker.url, client_id: "onchange-bridge", publish_on_change: true, heartbeat_s: 1 },
        devices: [
          { id: "frozen", connection: { type: "tcp", host: "127.0.0.1", port: sim.port }, interval_s: 0.1 },
        ],
      },
      { env: {} },
    );
    bridge = new Bridge({ config, ha: { retainedScanMs: 100 } });
    bridge.bus.on("reading", () => readings++);
    await bridge.start();
  });

  afterAll(async () => {
    await bridge?.stop();
    await sim?.close();
    await rec.stop();
    await broker.dispose();
  });

  test("unchanged readings are published only on the heartbeat", async () => {
    const states = () => rec.messages.filter((m) => m.topic === "vesc2mqtt/frozen/state").length;
    await waitFor(() => states() >= 3, { timeoutMs: 15_000, what: "three heartbeat states" });
    // Each state stands for many identical readings polled at 10 Hz in between.
    expect(readings).toBeGreaterThan(states() * 3);
    expect(rec.text("vesc2mqtt/frozen/availability")).toBe("online");
    expect(rec.latest.has("homeassistant/device/vesc2mqtt_frozen/config")).toBe(true);
  });
});
