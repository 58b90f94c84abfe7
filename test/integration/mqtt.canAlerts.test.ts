/**
 * A BMS on CAN gets the device's alert rules through real parts: the simulator over loopback
 * TCP (its VESC BMS answers on CAN id 10), the bridge reading only that node, a real
 * Mosquitto. With a per-device override that puts every cell "over voltage", the node's own
 * retained alerts document (`<base>/pack/can/10/alerts`) has the alert, the device's does
 * not, the node's HA device has the alert entities reading it, and after a broker restart
 * (nothing retained survives) the document is back. A node that stops answering while the
 * device's link stays up goes "stale" on its own document, and an answer clears it.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { Bridge } from "../../src/bridge/bridge.js";
import { validateConfig } from "../../src/config/load.js";
import { CommandId } from "../../src/protocol/index.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";
import { scratchDataDir } from "../helpers/dataDir.js";
import { Mosquitto, Recorder } from "../helpers/mosquitto.js";
import { describeWithBinary, MOSQUITTO } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

interface AlertsDoc {
  readonly problem: boolean;
  readonly message: string;
  readonly rules: Record<string, { readonly active: boolean; readonly message: string }>;
}

const NODE_ALERTS = "vesc2mqtt/pack/can/10/alerts";
const DEVICE_ALERTS = "vesc2mqtt/pack/alerts";

describeWithBinary(MOSQUITTO, "alerts of a BMS on CAN against a real Mosquitto", () => {
  const broker = new Mosquitto();
  const rec = new Recorder();
  let sim: Simulator | undefined;
  let bridge: Bridge | undefined;

  beforeAll(async () => {
    await broker.start();
    await rec.start(broker.url);
    sim = await startSimulator({ port: 0, seed: 5 });
    const config = validateConfig(
      {
        data_dir: scratchDataDir(),
        mqtt: { url: broker.url, client_id: "bridge-can-alerts" },
        web: { enabled: false },
        history: { enabled: false },
        devices: [
          {
            id: "pack",
            connection: { type: "tcp", host: "127.0.0.1", port: sim.port },
            interval_s: 0.1,
            request_timeout_s: 1,
            stale_after_intervals: 20,
            read_bms: false,
            can: [{ id: 10, kind: "bms" }],
            // Every simulated cell (≈3.7 V) is above 1 V: the node's cells alert at once.
            alerts: { cell_over_voltage: 1 },
          },
        ],
      },
      { env: {} },
    );
    bridge = new Bridge({
      config,
      log: { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined },
      ha: { birthDelayMs: () => 20, reconnectPeriodMs: 100, retainedScanMs: 0 },
    });
    await bridge.start();
  });

  afterAll(async () => {
    await bridge?.stop();
    await sim?.close();
    await rec.stop();
    await broker.dispose();
  });

  const retained = async (topic: string): Promise<AlertsDoc | undefined> => {
    const got = await Recorder.retained(broker.url, topic, 500);
    return got ? (JSON.parse(got.payload.toString()) as AlertsDoc) : undefined;
  };

  test("the node's cell alert is retained on the node's topic, attached to its HA device, and survives a broker restart", async () => {
    await waitFor(async () => (await retained(NODE_ALERTS))?.rules.cell_over_voltage?.active === true, {
      timeoutMs: 20_000,
      what: "cell_over_voltage retained on the node's alerts topic",
    });
    const doc = await retained(NODE_ALERTS);
    expect(doc?.problem).toBe(true);
    expect(doc?.rules.cell_over_voltage?.message).toMatch(/^cell \d+ at \d\.\d{3} V, .*\(limit 1\.000 V\)$/);
    // The device has no BMS of its own here: its document stays all off.
    expect((await retained(DEVICE_ALERTS))?.problem).toBe(false);

    const discovery = "homeassistant/device/vesc2mqtt_pack_can10/config";
    await waitFor(() => "alert_cell_over_voltage" in (rec.json<{ cmps: object }>(discovery)?.cmps ?? {}), {
      timeoutMs: 10_000,
      what: "alert entities in the CAN node's discovery",
    });
    const cmps = rec.json<{ cmps: Record<string, { stat_t?: string }> }>(discovery)?.cmps ?? {};
    expect(cmps.alert_cell_over_voltage?.stat_t).toBe(NODE_ALERTS);
    expect(cmps.alert_message?.stat_t).toBe(NODE_ALERTS);

    await broker.stop();
    await broker.start(); // same port, no persistence: every retained message is gone
    await waitFor(async () => (await retained(NODE_ALERTS))?.rules.cell_over_voltage?.active === true, {
      timeoutMs: 10_000,
      what: "the node's alerts republished after the broker restart",
    });
  });

  test("a node that stops answering goes stale on its own document while the device stays fine", async () => {
    if (!sim) throw new Error("simulator not started");
    // The BMS on CAN id 10 stops answering; the device itself still answers (its link stays up).
    const silence = sim.device.defineBehavior({
      onRequest(_payload, ctx) {
        const silent = ctx.forward?.canId === 10 && ctx.forward.inner[0] === CommandId.BmsGetValues;
        return silent ? { handled: true, reply: null } : { handled: false };
      },
    });
    // 20 intervals of 0.1 s: stale after 2 s without an answer, i.e. after a few 1 s timeouts.
    await waitFor(async () => (await retained(NODE_ALERTS))?.rules.stale?.active === true, {
      timeoutMs: 20_000,
      what: "stale retained on the node's alerts topic",
    });
    const doc = await retained(NODE_ALERTS);
    expect(doc?.rules.stale?.message).toMatch(/^no answer since \d{4}-\d\d-\d\dT.*Z \(.+\)$/);
    // The value alert keeps its last state, as the device's own do while its link is stale.
    expect(doc?.rules.cell_over_voltage?.active).toBe(true);
    expect((await retained(DEVICE_ALERTS))?.rules.stale?.active).toBe(false);

    silence();
    await waitFor(async () => (await retained(NODE_ALERTS))?.rules.stale?.active === false, {
      timeoutMs: 20_000,
      what: "the node's stale alert cleared by its next answer",
    });
    expect((await retained(NODE_ALERTS))?.rules.cell_over_voltage?.active).toBe(true);
  });
});
