/**
 * Acceptance of the battery wiring, end to end through real parts: the simulator over
 * loopback TCP, the bridge, a real Mosquitto. (1) The real Express 6.05's bytes replayed:
 * the state documents carry bms.battery with the SOC estimate ≥ 95 % for NMC (the BMS sends
 * SOC 0), the bridge-counted energy never decreases, and it continues across a bridge
 * restart on the same data directory. (2) A ground-truth PackModel with the BMS SOC off (the
 * express-6.05 profile) at accelerated time: the published estimate is close to the truth.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect, test } from "vitest";
import type { Bridge } from "../../src/bridge/bridge.js";
import type { BatteryReading } from "../../src/model/reading.js";
import { PackModel, type Simulator, startSimulator } from "../../src/sim/index.js";
import { BatteryStateStore } from "../../src/store/batteryState.js";
import { fw605BmsFrames, framePayload } from "../helpers/fw605Sequence.js";
import { batteryBridge, brokerWithRecorder, fastDevice } from "../helpers/batteryBridge.js";
import { describeWithBinary, MOSQUITTO } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

interface StateDoc {
  readonly time: string;
  readonly bms?: { readonly soc?: number; readonly battery?: BatteryReading };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function bridgeFor(brokerUrl: string, port: number, dataDir: string, clientId: string): Bridge {
  return batteryBridge(brokerUrl, dataDir, clientId, [fastDevice("pack", port)]);
}

describeWithBinary(MOSQUITTO, "battery estimates through the bridge", () => {
  const { broker, rec } = brokerWithRecorder();
  let sim: Simulator | undefined;
  let bridge: Bridge | undefined;

  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
    await sim?.close();
    sim = undefined;
  });

  /** The state documents published on the device's state topic since message `from`. */
  const states = (from: number): StateDoc[] => rec.jsonSeries<StateDoc>("vesc2mqtt/pack/state", from);

  test("the real 6.05's bytes: SOC estimate ≥ 95 %, energy never decreasing, kept across a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "vesc2mqtt-battery-e2e-"));
    dirs.push(dataDir);
    const replay = fw605BmsFrames().map((f) => framePayload(f.frame));
    sim = await startSimulator({ port: 0, replay, seed: 1 });

    const from1 = rec.messages.length;
    bridge = bridgeFor(broker.url, sim.port, dataDir, "bridge-battery-1");
    await bridge.start();
    await waitFor(() => states(from1).length >= 40, { timeoutMs: 30_000, what: "40 state documents" });
    await bridge.stop();
    bridge = undefined;
    const run1 = states(from1);
    for (const s of run1) {
      expect(s.bms?.soc).toBe(0);
      expect(s.bms?.battery?.socSource).toBe("estimate");
      expect(s.bms?.battery?.socEstimatePercent).toBeGreaterThanOrEqual(95);
    }
    const wh1 = run1.map((s) => s.bms?.battery?.whCharged ?? Number.NaN);
    for (let i = 1; i < wh1.length; i++) expect(wh1[i]).toBeGreaterThanOrEqual(wh1[i - 1] as number);
    // ~0.14 A into ~83.8 V for the seconds the run lasted: something was counted.
    const end1 = wh1.at(-1) as number;
    expect(end1).toBeGreaterThan(0);
    // What stop() saved is what was last published.
    const store = new BatteryStateStore(join(dataDir, "battery.db"));
    const saved = store.load("pack")?.snapshot as { counters: { totals: { whCharged: number } } };
    store.close();
    expect(saved.counters.totals.whCharged).toBeCloseTo(end1, 9);

    const from2 = rec.messages.length;
    bridge = bridgeFor(broker.url, sim.port, dataDir, "bridge-battery-2");
    await bridge.start();
    await waitFor(() => states(from2).length >= 20, { timeoutMs: 30_000, what: "20 more state documents" });
    const run2 = states(from2).map((s) => s.bms?.battery?.whCharged ?? Number.NaN);
    // Continued, not restarted from zero, and still counting.
    expect(run2[0]).toBeGreaterThanOrEqual(end1);
    expect(run2.at(-1)).toBeGreaterThan(end1);
  }, 90_000);

  test("a ground-truth pack with the BMS SOC off: the published estimate is within 5 points of the truth", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "vesc2mqtt-battery-pack-"));
    dirs.push(dataDir);
    // 60× time: a simulated hour of rest passes in a minute of wall time.
    const wallT0 = Date.now();
    const clock = () => wallT0 + (Date.now() - wallT0) * 60;
    const pack = new PackModel({ seed: 7, startSoc: 0.62, now: clock() });
    pack.run([{ kind: "rest", seconds: 3600 }]);
    sim = await startSimulator({ port: 0, seed: 7, pack, profile: "express-6.05", clock });
    const from = rec.messages.length;
    bridge = bridgeFor(broker.url, sim.port, dataDir, "bridge-battery-pack");
    await bridge.start();
    await waitFor(() => states(from).length >= 20, { timeoutMs: 30_000, what: "20 state documents" });
    const last = states(from).at(-1);
    const truth = pack.truth().socPercent;
    expect(last?.bms?.soc ?? 0).toBe(0);
    expect(last?.bms?.battery?.socSource).toBe("estimate");
    expect(Math.abs((last?.bms?.battery?.socEstimatePercent ?? Number.NaN) - truth)).toBeLessThanOrEqual(5);
    // The HA discovery has the estimate's SOC entity and the Energy-dashboard counters.
    const cmps = Object.keys(
      rec.json<{ cmps: Record<string, unknown> }>("homeassistant/device/vesc2mqtt_pack/config")?.cmps ?? {},
    );
    for (const key of ["soc_estimate", "bridge_energy_charged", "bridge_energy_discharged", "charging"])
      expect(cmps).toContain(key);
  }, 90_000);
});
