/**
 * Ride values end to end on a reading the simulator's Floatwheel produced: HA discovery
 * (valid per HA's rules, numeric states), the mph switch, and the derivations (Wh/km,
 * footpads from GET_ALLDATA).
 */
import { afterEach, describe, expect, test } from "vitest";
import { checkNumericStates, entityConfigs, validateDiscovery } from "../../test/helpers/haRules.js";
import type { CanNodeSpec } from "../session/types.js";
import type { Reading } from "../model/reading.js";
import { deriveRide, refloatFromRealtime, toRefloatReading } from "../model/rideReading.js";
import { discoveryMessages } from "../mqtt/homeassistant/discovery.js";
import { EMPTY_PRESENCE, haDevices, updatePresence } from "../mqtt/homeassistant/devices.js";
import { canStateDocs } from "../mqtt/state.js";
import { canStateTopic } from "../mqtt/topics.js";
import { startSimulator } from "../sim/index.js";
import { DeviceReader } from "../session/device.js";
import { Session } from "../session/session.js";
import { tcpTransport } from "../transport/tcp.js";
import type { BalanceAllData } from "../model/ride.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const BASE = "vesc2mqtt";

async function simReading(node: Partial<CanNodeSpec>): Promise<Reading> {
  // Ten minutes into a ride, so the trip is long enough for a Wh/km figure.
  let now = 1_700_000_000_000;
  const sim = await startSimulator({ port: 0, seed: 3, canIds: [84], scenario: "riding", clock: () => now });
  cleanups.push(() => sim.close());
  now += 600_000;
  const session = new Session(
    await tcpTransport({ host: sim.host, port: sim.port })(new AbortController().signal),
  );
  cleanups.push(() => session.close());
  const reader = new DeviceReader(
    session,
    { firmware: "6.05", hardware: "VESC Express T", uuid: "00".repeat(12) },
    { deviceId: "board", readBms: false, can: [{ id: 84, kind: "motor", ...node }] },
  );
  return reader.poll();
}

function discovery(r: Reading) {
  const desc = { id: "board", name: "Board", can: [{ id: 84, kind: "motor" as const }] };
  const devices = haDevices(BASE, desc, updatePresence(EMPTY_PRESENCE, r));
  const msgs = devices.flatMap(
    (d) =>
      discoveryMessages(
        {
          prefix: "homeassistant",
          mode: "entity",
          origin: { name: "vesc2mqtt", sw: "0", url: "https://example.invalid" },
          bridgeTopic: `${BASE}/bridge/state`,
        },
        d,
      ).messages,
  );
  return { msgs, entities: entityConfigs(msgs) };
}

describe("ride values in Home Assistant", () => {
  test("a riding Floatwheel gets speed, trip, odometer, battery, state and footpads, all valid", async () => {
    const r = await simReading({ groups: ["values", "setup", "stats", "refloat", "battery_cut"] });
    const { msgs, entities } = discovery(r);
    const keys = new Set(entities.map((e) => e.key));
    for (const k of [
      "speed",
      "trip",
      "odometer",
      "battery_level",
      "energy_left",
      "energy_per_km",
      "ride_state",
      "footpad_left",
      "footpad_right",
      "pitch",
      "roll",
      "charging",
      "stats_speed_max",
      "balance_package",
      "battery_cut_end",
    ])
      expect(keys, k).toContain(k);
    expect(keys).not.toContain("speed_mph");
    expect(validateDiscovery(msgs)).toEqual([]);
    const docs = new Map<string, unknown>(
      canStateDocs(r).map((d) => [canStateTopic(BASE, "board", d.canId ?? -1), JSON.parse(d.payload)]),
    );
    expect(checkNumericStates(entities, docs)).toEqual([]);
    expect(r.can?.["84"]?.ride?.whPerKm).toBeGreaterThan(5);
    const odometer = entities.find((e) => e.key === "odometer")?.config;
    expect(odometer).toMatchObject({
      device_class: "distance",
      state_class: "total_increasing",
      unit_of_measurement: "km",
    });
    expect(entities.find((e) => e.key === "ride_state")?.config.options).toContain("riding");
  });

  test("speed_unit mph: the speed entity is in mph and the km/h one is absent", async () => {
    const r = await simReading({ speedUnit: "mph" });
    const { entities } = discovery(r);
    const speed = entities.find((e) => e.key === "speed_mph")?.config;
    expect(speed).toMatchObject({ device_class: "speed", unit_of_measurement: "mph" });
    expect(entities.some((e) => e.key === "speed")).toBe(false);
  });
});

describe("derived ride values", () => {
  test("Wh/km is net energy over the absolute trip, null below 100 m", () => {
    expect(
      deriveRide({ setup: { tripDistanceAbsM: 10_000, wattHoursTotal: 210, wattHoursChargedTotal: 10 } })
        ?.whPerKm,
    ).toBe(20);
    expect(deriveRide({ setup: { tripDistanceAbsM: 99, wattHoursTotal: 1 } })?.whPerKm).toBeNull();
    expect(deriveRide({})).toBeUndefined();
  });

  test("REALTIME_DATA's state flags name each pad and the state exactly", () => {
    const flags = {
      mode: "normal",
      state: "ready",
      footpad: "left",
      charging: false,
      fatalError: false,
      darkride: false,
      wheelslip: false,
      sat: 0,
      stopCondition: 4,
      beepReason: 0,
    } as const;
    expect(refloatFromRealtime("Refloat 1.3.0", { stateFlags: flags, batterySoc: 0.5 })).toMatchObject({
      rideState: "idle",
      footpad: "one",
      footpadLeft: true,
      footpadRight: false,
      batteryPercent: 50,
    });
    expect(refloatFromRealtime("r", { stateFlags: { ...flags, charging: true } }).rideState).toBe("charging");
    expect(refloatFromRealtime("r", { stateFlags: { ...flags, state: "running" } }).rideState).toBe("riding");
    expect(refloatFromRealtime("r", { stateFlags: { ...flags, fatalError: true } }).rideState).toBe("fault");
  });

  test("one pressed footpad is the one whose sensor reads higher", () => {
    const base = { state: "running", footpad: "one", adcLeftV: 0.2, adcRightV: 3.1 } as BalanceAllData;
    expect(toRefloatReading("Refloat 1.2.3", base)).toMatchObject({ footpadLeft: false, footpadRight: true });
    const left = { ...base, adcLeftV: 3.0, adcRightV: 0.1 };
    expect(toRefloatReading("Refloat 1.2.3", left)).toMatchObject({ footpadLeft: true, footpadRight: false });
    expect(toRefloatReading("x", { ...base, state: "charging", footpad: "none" })).toMatchObject({
      rideState: "charging",
      charging: true,
      footpadLeft: false,
      footpadRight: false,
    });
  });
});
