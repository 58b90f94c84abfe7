/**
 * `battery: false` on a device, through real parts (the simulator over loopback TCP with a
 * BMS on CAN id 10 as well as the device's own, the bridge, a real Mosquitto): no estimate
 * on any state document, no battery entity in Home Assistant, no row in battery.db. Beside
 * it a device with the default section on the same simulator gets them all.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { startSimulator } from "../../src/sim/index.js";
import { BatteryStateStore } from "../../src/store/batteryState.js";
import { batteryBridge, brokerWithRecorder, fastDevice } from "../helpers/batteryBridge.js";
import { describeWithBinary, MOSQUITTO } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Doc {
  readonly bms?: { readonly battery?: unknown };
}

describeWithBinary(MOSQUITTO, "battery: false", () => {
  const { broker, rec } = brokerWithRecorder();

  test("no estimates, no battery entities, no stored state; the device beside it has them", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "vesc2mqtt-battery-off-"));
    dirs.push(dataDir);
    const sim = await startSimulator({ port: 0, seed: 3, scenario: "charging" });
    const device = (id: string, battery: unknown) =>
      fastDevice(id, sim.port, {
        can: [{ id: 10, kind: "bms" }],
        ...(battery === undefined ? {} : { battery }),
      });
    const bridge = batteryBridge(broker.url, dataDir, "bridge-battery-off", [
      device("off", false),
      device("on", undefined),
    ]);
    const docs = (topic: string): Doc[] => rec.jsonSeries<Doc>(topic);
    const cmps = (objectId: string) =>
      Object.keys(rec.json<{ cmps: object }>(`homeassistant/device/${objectId}/config`)?.cmps ?? {});
    try {
      await bridge.start();
      await waitFor(
        () =>
          docs("vesc2mqtt/off/state").length >= 10 &&
          docs("vesc2mqtt/off/can/10/state").length >= 10 &&
          cmps("vesc2mqtt_on_can10").includes("soc_estimate") &&
          cmps("vesc2mqtt_on").includes("soc_estimate") &&
          cmps("vesc2mqtt_off_can10").includes("cell_1_voltage") &&
          cmps("vesc2mqtt_off").includes("cell_1_voltage"),
        { timeoutMs: 30_000, what: "10 states of each and the discovery of both" },
      );
    } finally {
      await bridge.stop();
      await sim.close();
    }
    for (const topic of ["vesc2mqtt/off/state", "vesc2mqtt/off/can/10/state"])
      for (const d of docs(topic)) expect(d.bms?.battery).toBeUndefined();
    expect(docs("vesc2mqtt/on/can/10/state").at(-1)?.bms?.battery).toBeDefined();
    for (const objectId of ["vesc2mqtt_off", "vesc2mqtt_off_can10"])
      for (const key of ["soc_estimate", "bridge_energy_charged", "charging", "cell_1_resistance"])
        expect(cmps(objectId)).not.toContain(key);
    const path = join(dataDir, "battery.db");
    expect(existsSync(path)).toBe(true);
    const store = new BatteryStateStore(path);
    const rows = ["off", "off:can10", "on", "on:can10"].map((k) => store.load(k) !== undefined);
    store.close();
    expect(rows).toEqual([false, false, true, true]);
  }, 60_000);
});
