/**
 * Acceptance: the real VESC Express 6.05's bytes (its 139 captured BMS replies, served by the
 * simulator's replay mode) through the bridge and a real Mosquitto for 3 simulated minutes.
 * Time is scaled 10×: the replay is resampled to what a 1 Hz poll of the device would have
 * read (the capture is ~7 Hz over 21 s), the bridge polls every 0.1 s, and the stuck rule
 * runs at 6 s (= 60 s). Expected: no alert at all, temperature 4 and only 4 marked stuck,
 * no SOC entity, the BMS data never stale.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { Bridge } from "../../src/bridge/bridge.js";
import { validateConfig } from "../../src/config/load.js";
import type { Alert } from "../../src/model/bus.js";
import type { Reading } from "../../src/model/reading.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";
import { fw605BmsFrames, framePayload } from "../helpers/fw605Sequence.js";
import { Mosquitto, Recorder } from "../helpers/mosquitto.js";
import { MOSQUITTO, describeWithBinary } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";
import { scratchDataDir } from "../helpers/dataDir.js";

const SIMULATED_S = 180;

describeWithBinary(MOSQUITTO, "the real Express 6.05 replayed through the bridge", () => {
  const broker = new Mosquitto();
  const rec = new Recorder();
  let sim: Simulator;
  let bridge: Bridge;
  const readings: Reading[] = [];
  const alerts: Alert[] = [];

  beforeAll(async () => {
    await broker.start();
    await rec.start(broker.url);
    const frames = fw605BmsFrames();
    const perSecond = Array.from({ length: SIMULATED_S + 20 }, (_, s) => {
      const f = frames[Math.floor((s * frames.length) / 21) % frames.length];
      if (!f) throw new Error("no frame");
      return framePayload(f.frame);
    });
    sim = await startSimulator({ port: 0, replay: perSecond, seed: 1 });
    const config = validateConfig(
      {
        data_dir: scratchDataDir(),
        mqtt: { url: broker.url, client_id: "bridge-replay" },
        web: { enabled: false },
        history: { enabled: false },
        devices: [
          {
            id: "pack",
            connection: { type: "tcp", host: "127.0.0.1", port: sim.port },
            interval_s: 0.1,
            request_timeout_s: 1,
            stale_after_intervals: 20,
            bms: { stuck_after_s: 6, stuck_after_readings: 10, stale_after_s: 6 },
          },
        ],
      },
      { env: {} },
    );
    bridge = new Bridge({
      config,
      ha: { birthDelayMs: () => 20, reconnectPeriodMs: 200, retainedScanMs: 0 },
    });
    bridge.bus.on("reading", (r) => readings.push(r));
    bridge.bus.on("alert", (a) => alerts.push(a));
    await bridge.start();
  });

  afterAll(async () => {
    await bridge?.stop();
    await sim?.close();
    await rec.stop();
    await broker.dispose();
  });

  test("3 simulated minutes: no alert, temperature 4 stuck, no SOC entity, never stale", async () => {
    await waitFor(() => readings.length >= SIMULATED_S, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: `${SIMULATED_S} readings`,
    });
    expect(alerts.map((a) => `${a.rule}: ${a.message}`)).toEqual([]);
    const stuckSeen = new Set(readings.flatMap((r) => r.bms?.stuck?.temperatures ?? []));
    expect([...stuckSeen]).toEqual([4]);
    expect(readings.at(-1)?.bms?.stuck?.temperatures).toEqual([4]);
    expect(readings.some((r) => r.bms?.stale)).toBe(false);
    expect(readings.at(-1)?.bms?.fitted).toEqual({ temperatures: [1, 2, 3, 4], soc: false, soh: false });
    // What Home Assistant sees.
    await waitFor(
      () =>
        rec.json<{ bms?: { stuck?: { temperatures: number[] } } }>("vesc2mqtt/pack/state")?.bms?.stuck
          ?.temperatures?.length === 1,
      {
        what: "stuck temperature 4 in the retained state",
      },
    );
    const discovery = rec.json<{ cmps: Record<string, unknown> }>(
      "homeassistant/device/vesc2mqtt_pack/config",
    );
    expect(Object.keys(discovery?.cmps ?? {})).toContain("temperature_4");
    expect(Object.keys(discovery?.cmps ?? {})).not.toContain("soc");
    expect(Object.keys(discovery?.cmps ?? {})).toContain("stuck_sensors");
    const alertsDoc = rec.json<{ problem: boolean }>("vesc2mqtt/pack/alerts");
    expect(alertsDoc?.problem).toBe(false);
    expect(rec.text("vesc2mqtt/pack/bms/availability")).toBe("online");
    expect(bridge.statuses()[0]?.reconnects).toBe(0);
  }, 90_000);
});
