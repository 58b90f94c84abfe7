/**
 * A VESC BMS on CAN gets the bridge's battery estimates like the device's own BMS, through
 * real parts: the simulator over loopback TCP (its BMS answers on CAN id 10, charging), the
 * bridge reading only that node (read_bms false), a real Mosquitto. The node's state topic
 * carries bms.battery with counters that never decrease, the counters continue across a
 * bridge restart from `<data_dir>/battery.db` (row `pack:can10`), and the node's own Home
 * Assistant device has the battery entities.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect, test } from "vitest";
import type { Bridge } from "../../src/bridge/bridge.js";
import type { BatteryReading } from "../../src/model/reading.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";
import { BatteryStateStore } from "../../src/store/batteryState.js";
import { batteryBridge, brokerWithRecorder, fastDevice } from "../helpers/batteryBridge.js";
import { describeWithBinary, MOSQUITTO } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

interface NodeDoc {
  readonly canId: number;
  readonly kind: string;
  readonly device?: { readonly uuid: string };
  readonly bms?: { readonly cells: readonly number[]; readonly battery?: BatteryReading };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function bridgeFor(brokerUrl: string, port: number, dataDir: string, clientId: string): Bridge {
  const node = fastDevice("pack", port, { read_bms: false, can: [{ id: 10, kind: "bms" }] });
  return batteryBridge(brokerUrl, dataDir, clientId, [node]);
}

describeWithBinary(MOSQUITTO, "battery estimates of a BMS on CAN", () => {
  const { broker, rec } = brokerWithRecorder();
  let sim: Simulator | undefined;
  let bridge: Bridge | undefined;

  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
    await sim?.close();
    sim = undefined;
  });

  const nodeStates = (from: number): NodeDoc[] =>
    rec.jsonSeries<NodeDoc>("vesc2mqtt/pack/can/10/state", from);

  test("the CAN node's counters and SOC estimate, kept across a restart, with HA entities", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "vesc2mqtt-battery-can-"));
    dirs.push(dataDir);
    // The model pack charging: current flows, so the counters move every reading.
    sim = await startSimulator({ port: 0, seed: 5, scenario: "charging" });

    const from1 = rec.messages.length;
    bridge = bridgeFor(broker.url, sim.port, dataDir, "bridge-battery-can-1");
    await bridge.start();
    await waitFor(() => nodeStates(from1).filter((s) => s.bms?.battery).length >= 30, {
      timeoutMs: 30_000,
      what: "30 CAN BMS state documents with estimates",
    });
    // The node is its own HA device, with the estimate's SOC and the Energy-dashboard counters.
    const discovery = "homeassistant/device/vesc2mqtt_pack_can10/config";
    await waitFor(() => "soc_estimate" in (rec.json<{ cmps: object }>(discovery)?.cmps ?? {}), {
      timeoutMs: 10_000,
      what: "battery entities in the CAN node's discovery",
    });
    const cmps = rec.json<{ cmps: Record<string, { stat_t?: string }> }>(discovery)?.cmps ?? {};
    for (const key of [
      "soc_estimate",
      "bridge_energy_charged",
      "bridge_energy_discharged",
      "charging",
      "cell_1_resistance",
    ])
      expect(Object.keys(cmps)).toContain(key);
    expect(cmps.soc_estimate?.stat_t).toBe("vesc2mqtt/pack/can/10/state");
    await bridge.stop();
    bridge = undefined;

    const run1 = nodeStates(from1).filter((s) => s.bms?.battery);
    for (const s of run1) {
      expect(s.bms?.battery?.socEstimatePercent).toBeGreaterThan(0);
      expect(s.bms?.battery?.socEstimatePercent).toBeLessThanOrEqual(100);
    }
    const ah1 = run1.map((s) => s.bms?.battery?.ahCharged ?? Number.NaN);
    for (let i = 1; i < ah1.length; i++) expect(ah1[i]).toBeGreaterThanOrEqual(ah1[i - 1] as number);
    const end1 = ah1.at(-1) as number;
    expect(end1).toBeGreaterThan(0);
    // What stop() saved is what was last published, under the node's own key.
    const store = new BatteryStateStore(join(dataDir, "battery.db"));
    const saved = store.load("pack:can10");
    const noOwn = store.load("pack");
    store.close();
    expect(noOwn).toBeUndefined();
    expect(saved?.identity).toEqual({ deviceUuid: run1[0]?.device?.uuid, cells: run1[0]?.bms?.cells.length });
    const snapshot = saved?.snapshot as { counters: { totals: { ahCharged: number } } };
    expect(snapshot.counters.totals.ahCharged).toBeCloseTo(end1, 9);

    const from2 = rec.messages.length;
    bridge = bridgeFor(broker.url, sim.port, dataDir, "bridge-battery-can-2");
    await bridge.start();
    await waitFor(() => nodeStates(from2).filter((s) => s.bms?.battery).length >= 10, {
      timeoutMs: 30_000,
      what: "10 more CAN BMS state documents",
    });
    const run2 = nodeStates(from2).map((s) => s.bms?.battery?.ahCharged ?? Number.NaN);
    // Continued, not restarted from zero, and still counting.
    expect(run2[0]).toBeGreaterThanOrEqual(end1);
    expect(run2.at(-1)).toBeGreaterThan(end1);
  }, 90_000);
});
