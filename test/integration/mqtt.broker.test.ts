/**
 * The bridge end to end against a real Mosquitto and the simulated Express (20S BMS with
 * 24 NTC slots of which 4 are fitted, a motor controller on CAN 84): discovery validity,
 * state vs simulator, HA birth, device drop/recovery, broker restart, cell count change,
 * and no simulator secret in any published byte. One bridge, steps in order.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { validateDiscovery, entityConfigs, checkNumericStates } from "../helpers/haRules.js";
import { Mosquitto, Recorder } from "../helpers/mosquitto.js";
import { MOSQUITTO, describeWithBinary } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";
import { validateConfig } from "../../src/config/load.js";
import { Bridge } from "../../src/bridge/bridge.js";
import { SIM_SECRETS, type Simulator, startSimulator } from "../../src/sim/index.js";
import type { Reading } from "../../src/model/reading.js";
import { scratchDataDir } from "../helpers/dataDir.js";

const DEVICE_TOPIC = "homeassistant/device/vesc2mqtt_pack/config";
const MOTOR_TOPIC = "homeassistant/device/vesc2mqtt_pack_can84/config";
const CLOCK = Date.parse("2025-06-01T12:00:00Z");
const simOptions = {
  host: "127.0.0.1",
  cells: 20,
  canIds: [84],
  seed: 1,
  tempSlots: 24,
  tempSensors: 4,
  clock: () => CLOCK,
};

describeWithBinary(MOSQUITTO, "bridge against a real Mosquitto and the simulator", () => {
  const broker = new Mosquitto();
  const rec = new Recorder();
  let sim: Simulator;
  let simPort = 0;
  let bridge: Bridge;

  type Cmps = Record<string, Record<string, unknown>>;
  const cmps = (topic = DEVICE_TOPIC) => rec.json<{ cmps: Cmps }>(topic)?.cmps;

  beforeAll(async () => {
    await broker.start();
    await rec.start(broker.url);
    sim = await startSimulator({ ...simOptions, port: 0 });
    simPort = sim.port;
    const config = validateConfig(
      {
        data_dir: scratchDataDir(),
        mqtt: { url: broker.url, client_id: "bridge-under-test" },
        devices: [
          {
            id: "pack",
            name: "Garage pack",
            connection: { type: "tcp", host: "127.0.0.1", port: simPort },
            interval_s: 0.2,
            request_timeout_s: 1,
            // Ask for the custom config (secrets on the wire) so the leak check means something.
            custom_config_handshake: true,
            stale_after_intervals: 3,
            can: [{ id: 84, kind: "motor", name: "Front motor" }],
          },
        ],
      },
      { env: {} },
    );
    bridge = new Bridge({
      config,
      ha: { birthDelayMs: () => 20, reconnectPeriodMs: 200, retainedScanMs: 300 },
    });
    await bridge.start();
  });

  afterAll(async () => {
    await bridge?.stop();
    await sim?.close();
    await rec.stop();
    await broker.dispose();
  });

  test("publishes valid discovery for the Express and its CAN motor node", async () => {
    await waitFor(() => cmps()?.cell_20_voltage && cmps(MOTOR_TOPIC)?.erpm, {
      what: "discovery with cells and motor",
    });
    const msgs = [...rec.latest]
      .filter(([t]) => t.startsWith("homeassistant/"))
      .map(([topic, p]) => ({ topic, payload: p.toString() }));
    expect(validateDiscovery(msgs)).toEqual([]);
    const keys = Object.keys(cmps() ?? {});
    // 24 NTC slots, 4 fitted: exactly 4 temperature entities.
    expect(keys.filter((k) => /^temperature_\d+$/.test(k)).sort()).toEqual([
      "temperature_1",
      "temperature_2",
      "temperature_3",
      "temperature_4",
    ]);
    expect(keys.filter((k) => /^cell_\d+_voltage$/.test(k))).toHaveLength(20);
    for (const k of [
      "pack_voltage",
      "current",
      "power",
      "soc",
      "cell_min",
      "cell_delta",
      "balancing",
      "cell_20_balancing",
      "energy_charged",
      "energy_discharged",
      "ic_temperature",
      "firmware",
      "connected",
      "link",
      "alert_message",
    ])
      expect(keys, k).toContain(k);
    // A client connecting later (Home Assistant after a restart) gets the config as retained.
    const retained = await Recorder.retained(broker.url, DEVICE_TOPIC);
    expect(retained?.retain).toBe(true);
    expect(retained?.payload.toString()).toBe(rec.text(DEVICE_TOPIC));
    expect(rec.text("vesc2mqtt/bridge/state")).toBe("online");
    await waitFor(() => rec.text("vesc2mqtt/pack/availability") === "online", {
      what: "device availability online",
    });
  });

  test("state documents match the simulator", async () => {
    const state = await waitFor(() => rec.json<Reading>("vesc2mqtt/pack/state"), { what: "state" });
    const truth = sim.device.bmsValues();
    expect(state.device.hardware).toBe("VESC Express T");
    expect(state.bms?.cells).toHaveLength(20);
    for (const [i, v] of (state.bms?.cells ?? []).entries())
      expect(v).toBeCloseTo(truth.cells[i] ?? Number.NaN, 3);
    expect(state.bms?.packVoltage).toBeCloseTo(truth.packVoltage, 2);
    expect(state.bms?.soc).toBeCloseTo(truth.soc ?? Number.NaN, 0);
    const motor = await waitFor(() => rec.json<{ values: { erpm: number } }>("vesc2mqtt/pack/can/84/state"), {
      what: "motor state",
    });
    expect(motor.values.erpm).toBeCloseTo(sim.device.motorValues(84).erpm ?? Number.NaN, 0);
    // Every simple template resolves to a number where HA expects one.
    const docs = new Map<string, unknown>([
      ["vesc2mqtt/pack/state", state],
      ["vesc2mqtt/pack/can/84/state", motor],
    ]);
    const entities = entityConfigs(
      [DEVICE_TOPIC, MOTOR_TOPIC].map((topic) => ({ topic, payload: rec.text(topic) ?? "" })),
    );
    expect(checkNumericStates(entities, docs)).toEqual([]);
  });

  test("Home Assistant's birth message re-publishes discovery", async () => {
    const before = rec.messages.length;
    await rec.publish("homeassistant/status", "online");
    await waitFor(() => rec.messages.slice(before).some((m) => m.topic === DEVICE_TOPIC), {
      what: "discovery after birth",
    });
    await waitFor(() => rec.messages.slice(before).some((m) => m.topic === MOTOR_TOPIC), {
      what: "motor discovery after birth",
    });
  });

  test("a cell count change removes the vanished cell entities", async () => {
    sim.device.setCellCount(16);
    await waitFor(() => JSON.stringify(cmps()?.cell_17_voltage) === JSON.stringify({ p: "sensor" }), {
      what: "cell 17 tombstone",
    });
    const c = cmps() ?? {};
    for (let n = 17; n <= 20; n++) {
      expect(c[`cell_${n}_voltage`]).toEqual({ p: "sensor" });
      expect(c[`cell_${n}_balancing`]).toEqual({ p: "binary_sensor" });
    }
    expect(c.cell_16_voltage?.uniq_id).toBe("vesc2mqtt_pack_cell_16_voltage");
    await waitFor(() => rec.json<Reading>("vesc2mqtt/pack/state")?.bms?.cells.length === 16, {
      what: "16-cell state",
    });
  });

  test("a stalled device (connection open, no replies) goes offline, then online when it answers", async () => {
    await waitFor(() => rec.text("vesc2mqtt/pack/availability") === "online", {
      what: "online before stall",
    });
    const t0 = Date.now();
    sim.device.faults = { ...sim.device.faults, stall: true };
    await waitFor(() => rec.text("vesc2mqtt/pack/availability") === "offline", {
      timeoutMs: 15_000,
      what: "offline on stall",
    });
    const staleAfterMs = Date.now() - t0;
    sim.device.faults = { ...sim.device.faults, stall: false };
    await waitFor(() => rec.text("vesc2mqtt/pack/availability") === "online", {
      timeoutMs: 20_000,
      what: "online after stall",
    });
    console.info(`stalled device: availability offline after ${staleAfterMs} ms (window 3 × 200 ms)`);
  });

  test("device drops → availability offline; back online after recovery", async () => {
    const t0 = Date.now();
    await sim.close();
    await waitFor(() => rec.text("vesc2mqtt/pack/availability") === "offline", {
      timeoutMs: 15_000,
      what: "availability offline",
    });
    const offlineAfterMs = Date.now() - t0;
    // The staleness window is 3 intervals of 0.2 s plus one interval of slack; allow scheduling noise.
    expect(offlineAfterMs).toBeLessThan(10_000);
    expect(rec.json<{ link: string }>("vesc2mqtt/pack/connection")?.link).not.toBe("online");
    sim = await startSimulator({ ...simOptions, cells: 16, port: simPort });
    await waitFor(() => rec.text("vesc2mqtt/pack/availability") === "online", {
      timeoutMs: 20_000,
      what: "availability online again",
    });
    console.info(`device drop: availability offline after ${offlineAfterMs} ms`);
  });

  test("broker restart: the bridge reconnects and re-publishes everything retained", async () => {
    await broker.restart();
    // persistence is off: everything below had to be published again by the bridge.
    await waitFor(() => rec.text("vesc2mqtt/bridge/state") === "online", {
      timeoutMs: 20_000,
      what: "bridge online after restart",
    });
    await waitFor(() => cmps()?.cell_16_voltage && cmps(MOTOR_TOPIC)?.erpm, {
      timeoutMs: 20_000,
      what: "discovery after restart",
    });
    await waitFor(() => rec.text("vesc2mqtt/pack/availability") === "online", {
      what: "availability after restart",
    });
    await waitFor(() => rec.json("vesc2mqtt/pack/state"), { what: "state after restart" });
  });

  test("a restarted bridge clears stale retained configs and removes cells that vanished while it was down", async () => {
    await bridge.stop();
    const oldTopic = "homeassistant/device/vesc2mqtt_old_pack/config";
    const foreignTopic = "homeassistant/device/zigbee_lamp/config";
    const stale = {
      dev: { ids: ["vesc2mqtt_old_pack"], name: "Old" },
      o: { name: "vesc2mqtt", sw: "0" },
      cmps: { x: { p: "sensor", uniq_id: "vesc2mqtt_old_pack_x", stat_t: "a" } },
    };
    const foreign = { ...stale, o: { name: "Zigbee2MQTT" } };
    await rec.client?.publishAsync(oldTopic, JSON.stringify(stale), { qos: 1, retain: true });
    await rec.client?.publishAsync(foreignTopic, JSON.stringify(foreign), { qos: 1, retain: true });
    sim.device.setCellCount(12);
    bridge = new Bridge({
      config: bridge.options.config,
      ha: { birthDelayMs: () => 20, reconnectPeriodMs: 200, retainedScanMs: 300 },
    });
    await bridge.start();
    await waitFor(() => !rec.latest.has(oldTopic), { what: "stale device config cleared" });
    await waitFor(() => JSON.stringify(cmps()?.cell_13_voltage) === JSON.stringify({ p: "sensor" }), {
      what: "cell 13 tombstone after restart",
    });
    expect(cmps()?.cell_16_balancing).toEqual({ p: "binary_sensor" });
    expect(cmps()?.cell_12_voltage?.uniq_id).toBe("vesc2mqtt_pack_cell_12_voltage");
    expect(rec.latest.has(foreignTopic)).toBe(true); // never touch another integration's config
    await rec.client?.publishAsync(foreignTopic, "", { qos: 1, retain: true });
  });

  test("no secret of the simulator's custom config appears in any published byte", () => {
    expect(sim.device.stats.requests.COMM_GET_CUSTOM_CONFIG ?? 0).toBeGreaterThan(0);
    const topics = new Set(rec.messages.map((m) => m.topic));
    for (const t of [
      "vesc2mqtt/pack/state",
      "vesc2mqtt/pack/can/84/state",
      "vesc2mqtt/pack/connection",
      DEVICE_TOPIC,
    ])
      expect(topics).toContain(t);
    const needles = [
      SIM_SECRETS.wifiPassword,
      SIM_SECRETS.hubPassword,
      SIM_SECRETS.apPassword,
      String(SIM_SECRETS.blePin),
    ];
    for (const m of rec.messages) {
      for (const n of needles) {
        expect(m.payload.includes(n), `${n} in ${m.topic}`).toBe(false);
        expect(m.topic.includes(n)).toBe(false);
      }
    }
  });
});
