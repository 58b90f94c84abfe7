/**
 * The bridge against a real Mosquitto and the simulator: a sink that throws never reaches
 * the poller (0 reconnects, every other sink gets every reading), and alerts survive a broker
 * restart (after it the retained alerts document equals the active alerts, including one
 * raised and one cleared while the broker was down).
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { Bridge } from "../../src/bridge/bridge.js";
import { validateConfig } from "../../src/config/load.js";
import type { Alert } from "../../src/model/bus.js";
import type { Reading } from "../../src/model/reading.js";
import { CommandId, encodeBmsValuesResponse } from "../../src/protocol/index.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";
import type { AlertSink } from "../../src/alerts/alertSink.js";
import { Mosquitto, Recorder } from "../helpers/mosquitto.js";
import { MOSQUITTO, describeWithBinary } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";
import { scratchDataDir } from "../helpers/dataDir.js";

const ALERTS = "vesc2mqtt/pack/alerts";

interface AlertsDoc {
  problem: boolean;
  rules: Record<string, { active: boolean }>;
}

describeWithBinary(MOSQUITTO, "bridge sinks and alerts against a real Mosquitto", () => {
  const broker = new Mosquitto();
  const rec = new Recorder();
  let sim: Simulator;
  let bridge: Bridge;
  /** Which cell the simulated BMS reports as 3.0 V (under) or 4.4 V (over); none when undefined. */
  let fault: "under" | "over" | undefined;
  const lines: string[] = [];
  const alerts: Alert[] = [];

  beforeAll(async () => {
    await broker.start();
    await rec.start(broker.url);
    sim = await startSimulator({ port: 0, cells: 20, seed: 5, tempSlots: 4, tempSensors: 4 });
    sim.device.defineBehavior({
      onRequest(payload) {
        if (payload[0] !== CommandId.BmsGetValues || fault === undefined) return { handled: false };
        const v = sim.device.bmsValues();
        const cells = v.cells.map((c, i) => (i === 6 ? (fault === "under" ? 3.0 : 4.4) : c));
        return { handled: true, reply: [encodeBmsValuesResponse({ ...v, cells })] };
      },
    });
    const config = validateConfig(
      {
        data_dir: scratchDataDir(),
        mqtt: { url: broker.url, client_id: "bridge-alerts" },
        web: { enabled: false },
        history: { enabled: false },
        devices: [
          {
            id: "pack",
            connection: { type: "tcp", host: "127.0.0.1", port: sim.port },
            interval_s: 0.1,
            request_timeout_s: 1,
          },
        ],
      },
      { env: {} },
    );
    const at = (level: string) => (m: string) => lines.push(`${level} ${m}`);
    bridge = new Bridge({
      config,
      log: { error: at("error"), warn: at("warn"), info: at("info"), debug: () => undefined },
      ha: { birthDelayMs: () => 20, reconnectPeriodMs: 100, retainedScanMs: 0 },
    });
    bridge.bus.on("alert", (a) => alerts.push(a));
    await bridge.start();
  });

  afterAll(async () => {
    await bridge?.stop();
    await sim?.close();
    await rec.stop();
    await broker.dispose();
  });

  test("a sink that throws on every reading: 0 reconnects, later sinks get every reading, logged once", async () => {
    const polled: Reading[] = [];
    const heard: Reading[] = [];
    const poller = bridge.pollers.get("pack");
    poller?.on("reading", (r) => polled.push(r));
    const thrower = () => {
      throw new Error("sink bug");
    };
    const listener = (r: Reading) => heard.push(r);
    bridge.bus.on("reading", thrower);
    bridge.bus.claim("thrower");
    bridge.bus.on("reading", listener);
    const reconnectsBefore = bridge.statuses()[0]?.reconnects ?? -1;
    // 60 polls (30 s at a 0.5 s interval) in ~6 s. Before the fix, 3 failed polls → reconnect.
    await waitFor(() => heard.length >= 60, {
      timeoutMs: 20_000,
      what: "60 readings past the throwing sink",
    });
    expect(bridge.statuses()[0]?.reconnects).toBe(reconnectsBefore);
    expect(reconnectsBefore).toBe(0);
    expect(heard.length).toBeGreaterThanOrEqual(polled.length - 1);
    expect(bridge.sinkErrors.get("thrower")).toBeGreaterThanOrEqual(60);
    const logged = lines.filter((l) => l.includes("sink thrower"));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^error sink thrower: reading handler failed: sink bug/);
    bridge.bus.off("reading", thrower);
    bridge.bus.off("reading", listener);
  });

  const retainedAlerts = async () => {
    const got = await Recorder.retained(broker.url, ALERTS, 500);
    return got ? (JSON.parse(got.payload.toString()) as AlertsDoc) : undefined;
  };
  const activeRules = (doc: AlertsDoc | undefined) =>
    Object.entries(doc?.rules ?? {})
      .filter(([, r]) => r.active)
      .map(([k]) => k)
      .sort();
  const sinkActive = () =>
    ((bridge.sinks.find((s) => s.name === "alerts") as AlertSink | undefined)?.active("pack") ?? [])
      .map((a) => a.rule)
      .sort();

  test("after a broker restart the retained alerts equal the active alerts (raised and cleared during the outage)", async () => {
    // All rules off from the first reading on.
    await waitFor(async () => (await retainedAlerts())?.problem === false, {
      what: "all-off alerts document",
    });
    fault = "under";
    await waitFor(async () => activeRules(await retainedAlerts()).includes("cell_under_voltage"), {
      what: "cell_under_voltage retained",
    });
    await broker.stop();
    const seen = alerts.length;
    fault = "over"; // under clears, over is raised, both while the broker is down
    await waitFor(
      () =>
        alerts.slice(seen).some((a) => a.rule === "cell_under_voltage" && !a.active) &&
        alerts.slice(seen).some((a) => a.rule === "cell_over_voltage" && a.active),
      { what: "alerts changing during the outage" },
    );
    await broker.start(); // same port, no persistence: every retained message is gone
    await waitFor(async () => activeRules(await retainedAlerts()).join() === sinkActive().join(), {
      timeoutMs: 10_000,
      what: "retained alerts = active alerts after the restart",
    });
    expect(sinkActive()).toContain("cell_over_voltage");
    expect(sinkActive()).not.toContain("cell_under_voltage");
    const doc = await retainedAlerts();
    expect(doc?.problem).toBe(true);
    expect(doc?.rules.cell_under_voltage?.active).toBe(false);
    expect(lines.some((l) => /mqtt: reconnected to .* after [\d.]+ s/.test(l))).toBe(true);
    fault = undefined;
    await waitFor(async () => (await retainedAlerts())?.problem === false, { what: "alerts clear again" });
  });
});
