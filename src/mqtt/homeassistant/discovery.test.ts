/** Pure discovery tests: every payload valid per ha_sensor_rules.json, presence rules, removals, stable ids. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  checkNumericStates,
  entityConfigs,
  expand,
  validateDiscovery,
  validateEntity,
} from "../../../test/helpers/haRules.js";
import { syntheticReading } from "../../../test/helpers/readings.js";
import type { Reading } from "../../model/reading.js";
import { CATALOGUE } from "../../values/index.js";
import { canStateDocs, changeKey, deviceStateDoc } from "../state.js";
import { canStateTopic, deviceStateTopic } from "../topics.js";
import {
  type HaDevice,
  type PublishedComponents,
  discoveryMessages,
  type DiscoveryOptions,
  removalMessages,
} from "./discovery.js";
import { type BmsPresence, bmsEntities, bmsPresence, mergedBmsPresence } from "./bmsEntities.js";
import { type DevicePresence, EMPTY_PRESENCE, haDevices, updatePresence } from "./devices.js";

const BASE = "vesc2mqtt";
const opts = (mode: "device" | "entity"): DiscoveryOptions => ({
  prefix: "homeassistant",
  mode,
  origin: { name: "vesc2mqtt", sw: "0.1.0", url: "https://github.com/vesc2mqtt/vesc2mqtt" },
  bridgeTopic: `${BASE}/bridge/state`,
});
const desc = {
  id: "pack",
  name: "Garage pack",
  can: [{ id: 84, kind: "motor" as const, name: "Front motor" }],
};

function devicesFor(readings: Reading[]): { presence: DevicePresence; devices: HaDevice[] } {
  let presence = EMPTY_PRESENCE;
  for (const r of readings) presence = updatePresence(presence, r);
  return { presence, devices: haDevices(BASE, desc, presence) };
}

function discover(mode: "device" | "entity", devices: HaDevice[]) {
  return devices.flatMap((d) => discoveryMessages(opts(mode), d).messages);
}

/** The poller derives stats; synthetic readings get them here (min/max ties take the lowest cell). */
function withStats(r: Reading): Reading {
  const cells = r.bms!.cells as number[];
  const min = Math.min(...cells);
  const max = Math.max(...cells);
  const avg = cells.reduce((a, b) => a + b, 0) / cells.length;
  const stats = {
    cellMin: min,
    cellMinNumber: cells.indexOf(min) + 1,
    cellMax: max,
    cellMaxNumber: cells.indexOf(max) + 1,
    cellAverage: avg,
    cellDelta: max - min,
  };
  return { ...r, bms: { ...r.bms!, stats } };
}
const r20 = withStats(syntheticReading({ deviceId: "pack", time: 0, withMotor: true, balancing: [3] }));

describe("discovery payloads", () => {
  test.each(["device", "entity"] as const)("%s mode: every payload is valid per the HA rules", (mode) => {
    const msgs = discover(mode, devicesFor([r20]).devices);
    expect(msgs.length).toBeGreaterThan(0);
    expect(validateDiscovery(msgs)).toEqual([]);
    for (const m of msgs) expect(m).toMatchObject({ retain: true, qos: 1 });
  });

  test("device mode: one config per HA device, with dev, o and cmps", () => {
    const msgs = discover("device", devicesFor([r20]).devices);
    expect(msgs.map((m) => m.topic)).toEqual([
      "homeassistant/device/vesc2mqtt_pack/config",
      "homeassistant/device/vesc2mqtt_pack_can84/config",
    ]);
    const express = expand(JSON.parse(msgs[0]!.payload));
    expect(express.origin).toMatchObject({ name: "vesc2mqtt", sw_version: "0.1.0" });
    expect(express.device).toMatchObject({
      identifiers: ["vesc2mqtt_pack"],
      name: "Garage pack",
      model: "VESC Express T",
      sw_version: "6.05",
    });
    const motor = expand(JSON.parse(msgs[1]!.payload));
    expect(motor.device).toMatchObject({ name: "Front motor", via_device: "vesc2mqtt_pack" });
  });

  test("entity mode: classic topics <prefix>/<platform>/<node>/<key>/config", () => {
    const topics = discover("entity", devicesFor([r20]).devices).map((m) => m.topic);
    expect(topics).toContain("homeassistant/sensor/vesc2mqtt_pack/pack_voltage/config");
    expect(topics).toContain("homeassistant/binary_sensor/vesc2mqtt_pack/cell_3_balancing/config");
    expect(topics).toContain("homeassistant/sensor/vesc2mqtt_pack_can84/erpm/config");
  });

  test("the 20S pack gets its cells, stats, balancing, fitted temperatures and energy counters", () => {
    const byKey = new Map(
      entityConfigs(discover("device", devicesFor([r20]).devices))
        .filter((e) => e.topic.endsWith("vesc2mqtt_pack/config"))
        .map((e) => [e.key, e]),
    );
    for (let n = 1; n <= 20; n++) {
      expect(byKey.get(`cell_${n}_voltage`)?.config).toMatchObject({
        device_class: "voltage",
        unit_of_measurement: "V",
        state_class: "measurement",
        value_template: `{{ value_json.bms.cells[${n - 1}] }}`,
      });
      expect(byKey.get(`cell_${n}_balancing`)?.platform).toBe("binary_sensor");
    }
    expect(byKey.has("cell_21_voltage")).toBe(false);
    for (const k of [
      "cell_min",
      "cell_max",
      "cell_average",
      "cell_delta",
      "cell_min_number",
      "cell_max_number",
      "balancing",
    ])
      expect(byKey.has(k), k).toBe(true);
    expect(byKey.get("cell_delta")?.config.unit_of_measurement).toBe("mV");
    expect([1, 2, 3].map((i) => byKey.get(`temperature_${i}`)?.config.unit_of_measurement)).toEqual([
      "°C",
      "°C",
      "°C",
    ]);
    expect(byKey.get("energy_charged")?.config).toMatchObject({
      device_class: "energy",
      unit_of_measurement: "Wh",
      state_class: "total_increasing",
    });
    expect(byKey.get("energy_discharged")?.config).toMatchObject({
      device_class: "energy",
      unit_of_measurement: "Wh",
      state_class: "total_increasing",
    });
    expect(byKey.get("charge_charged")?.config.device_class).toBeUndefined();
    expect(byKey.get("charge_charged")?.config.unit_of_measurement).toBe("Ah");
    expect(byKey.get("soc")?.config).toMatchObject({ device_class: "battery", unit_of_measurement: "%" });
    expect(byKey.get("soh")?.config.device_class).toBeUndefined();
    // Fitted-as-zero sensors of the synthetic pack: humidity, max cell temperature, pressure (absent).
    for (const k of ["humidity", "humidity_temperature", "max_cell_temperature", "pressure"])
      expect(byKey.has(k), k).toBe(false);
    for (const k of ["firmware", "hardware", "connected", "link", "reconnects", "last_error"])
      expect(byKey.get(k)?.config.entity_category, k).toBe("diagnostic");
  });

  test("motor node: ERPM, duty, currents, voltage, temperatures, fault as enum", () => {
    const motor = entityConfigs(discover("device", devicesFor([r20]).devices)).filter((e) =>
      e.topic.endsWith("_can84/config"),
    );
    const keys = motor.map((e) => e.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "erpm",
        "duty_cycle",
        "motor_current",
        "input_voltage",
        "fet_temperature",
        "motor_temperature",
        "fault",
      ]),
    );
    const fault = motor.find((e) => e.key === "fault")!.config;
    expect(fault.device_class).toBe("enum");
    expect(fault.options).toEqual(expect.arrayContaining(["none", "over_voltage", "unknown"]));
    expect(fault.unit_of_measurement).toBeUndefined();
  });

  test("availability: bridge + device with mode all; link diagnostics only need the bridge; BMS values also follow frozen data", () => {
    const es = entityConfigs(discover("device", devicesFor([r20]).devices));
    const bmsKeys = new Set(bmsEntities(devicesFor([r20]).presence.bms as BmsPresence).map((e) => e.key));
    // The bridge's verdicts (bms_stale, stuck_sensors) say the data is frozen: they stay available.
    const staying = new Set(CATALOGUE.values.flatMap((v) => (v.ha?.staysAvailable ? [v.ha.key] : [])));
    expect([...staying]).toEqual(["bms_stale", "stuck_sensors"]);
    for (const e of es) {
      const topics = (e.config.availability as { topic: string }[]).map((a) => a.topic);
      const bmsValue = bmsKeys.has(e.key) && !staying.has(e.key);
      if (
        ["connected", "link", "reconnects", "last_error", "crc_errors"].includes(e.key) ||
        e.key.startsWith("alert_")
      )
        expect(topics, e.key).toEqual(["vesc2mqtt/bridge/state"]);
      else if (bmsValue && !String(e.config.unique_id).includes("can"))
        expect(topics, e.key).toEqual([
          "vesc2mqtt/bridge/state",
          "vesc2mqtt/pack/availability",
          "vesc2mqtt/pack/bms/availability",
        ]);
      else if (!bmsValue)
        expect(topics, e.key).toEqual(["vesc2mqtt/bridge/state", "vesc2mqtt/pack/availability"]);
      expect(e.config.availability_mode).toBe("all");
    }
  });

  test("unique_ids are stable across readings and namespaced by base topic and device", () => {
    const ids = (rs: Reading[]) =>
      entityConfigs(discover("device", devicesFor(rs).devices))
        .map((e) => e.config.unique_id)
        .sort();
    const later = withStats(syntheticReading({ deviceId: "pack", time: 99_000, step: 7, withMotor: true }));
    expect(ids([later])).toEqual(ids([r20]));
    expect(ids([r20])).toContain("vesc2mqtt_pack_cell_20_voltage");
    expect(ids([r20])).toContain("vesc2mqtt_pack_can84_erpm");
  });

  test("states are numeric wherever a unit or state class is set", () => {
    const es = entityConfigs(discover("device", devicesFor([r20]).devices));
    const docs = new Map<string, unknown>([
      [deviceStateTopic(BASE, "pack"), JSON.parse(deviceStateDoc(r20).payload)],
    ]);
    for (const d of canStateDocs(r20)) docs.set(canStateTopic(BASE, "pack", d.canId!), JSON.parse(d.payload));
    expect(checkNumericStates(es, docs)).toEqual([]);
    // The check must be able to fail: a string where a number belongs.
    const broken = new Map(docs);
    broken.set(deviceStateTopic(BASE, "pack"), {
      ...JSON.parse(deviceStateDoc(r20).payload),
      bms: { ...r20.bms, packVoltage: "N/A" },
    });
    expect(checkNumericStates(es, broken)).not.toEqual([]);
  });
});

describe("presence rules", () => {
  const withTemps = (temps: number[], extra: object = {}): Reading => ({
    ...r20,
    bms: { ...r20.bms!, temperatures: temps, ...extra },
  });
  const tempKeys = (rs: Reading[]) =>
    devicesFor(rs)
      .devices[0]!.entities.map((e) => e.key)
      .filter((k) => /^temperature_\d+$/.test(k));

  test("24 NTC slots with 4 fitted and zeros beyond give 4 temperature entities", () => {
    const temps = [24.5, 25.1, 26.0, 23.9, ...Array(20).fill(0)];
    expect(tempKeys([withTemps(temps)])).toEqual([
      "temperature_1",
      "temperature_2",
      "temperature_3",
      "temperature_4",
    ]);
  });

  test("an out-of-range slot (-273 / 300) is not a sensor", () => {
    expect(tempKeys([withTemps([25, -273.15, 300])])).toEqual(["temperature_1"]);
  });

  test("a fitted sensor that later reads exactly 0 keeps its entity (sticky)", () => {
    expect(tempKeys([withTemps([25, 26]), withTemps([0, 26])])).toEqual(["temperature_1", "temperature_2"]);
  });

  test("SOC 0 from a BMS without SOC estimation gives no entity; non-zero once makes it stay", () => {
    const keys = (rs: Reading[]) => devicesFor(rs).devices[0]!.entities.map((e) => e.key);
    expect(keys([withTemps([25], { soc: 0 })])).not.toContain("soc");
    expect(keys([withTemps([25], { soc: 50 }), withTemps([25], { soc: 0 })])).toContain("soc");
  });

  test("humidity and pressure appear when the BMS reports them", () => {
    const keys = devicesFor([
      withTemps([25], { humidity: 41.5, humidityTemperature: 22.1, pressure: 101325 }),
    ]).devices[0]!.entities.map((e) => e.key);
    expect(keys).toEqual(expect.arrayContaining(["humidity", "humidity_temperature", "pressure"]));
    expect(
      validateDiscovery(
        discover("device", devicesFor([withTemps([25], { humidity: 41.5, pressure: 101325 })]).devices),
      ),
    ).toEqual([]);
  });

  test("stats entities only when the reading carries stats", () => {
    const keys = devicesFor([syntheticReading({ deviceId: "pack", time: 0 })]).devices[0]!.entities.map(
      (e) => e.key,
    );
    expect(keys).not.toContain("cell_min");
    expect(keys).toContain("cell_1_voltage");
  });

  test("a reading with zero cells keeps the previous cell count", () => {
    const zero = { ...r20, bms: { ...r20.bms!, cells: [], balancing: [] } };
    const count = devicesFor([r20, zero]).devices[0]!.entities.filter((e) =>
      /^cell_\d+_voltage$/.test(e.key),
    ).length;
    expect(count).toBe(20);
  });

  test("bmsPresence: the same object when a reading adds nothing, else exactly the full merge", () => {
    const temp = fc.constantFrom(0, 25.5, -273.15, 300, Number.NaN, 41);
    const bms = fc.record({
      cells: fc.integer({ min: 0, max: 24 }),
      temperatures: fc.array(temp, { maxLength: 6 }),
      soc: fc.option(fc.constantFrom(0, 55), { nil: undefined }),
      humidity: fc.constantFrom(0, 40),
      pressure: fc.option(fc.constantFrom(0, 101325), { nil: undefined }),
      stats: fc.boolean(),
    });
    const toBms = (b: {
      cells: number;
      temperatures: number[];
      soc: number | undefined;
      humidity: number;
      pressure: number | undefined;
      stats: boolean;
    }) => {
      const { soc, pressure, stats, ...rest } = r20.bms!;
      const cells = Array.from({ length: b.cells }, () => 3.7);
      return {
        ...rest,
        cells,
        balancing: cells.map(() => false),
        temperatures: b.temperatures,
        humidity: b.humidity,
        ...(b.soc === undefined ? {} : { soc: b.soc }),
        ...(b.pressure === undefined ? {} : { pressure: b.pressure }),
        ...(b.stats && stats ? { stats } : {}),
      };
    };
    fc.assert(
      fc.property(fc.array(bms, { minLength: 1, maxLength: 6 }), bms, (history, next) => {
        let prev: BmsPresence | undefined;
        for (const h of history) prev = bmsPresence(toBms(h), prev);
        const got = bmsPresence(toBms(next), prev);
        const full = mergedBmsPresence(toBms(next), prev);
        expect(got).toEqual(full);
        if (prev) expect(got === prev).toBe(JSON.stringify(full) === JSON.stringify(prev));
      }),
    );
  });

  test("updatePresence returns the same presence for a reading that changes nothing", () => {
    const p1 = updatePresence(EMPTY_PRESENCE, { ...r20, can: undefined });
    const next = syntheticReading({ deviceId: "pack", time: 1000, step: 4 });
    const p2 = updatePresence(p1, { ...next, bms: { ...next.bms!, stats: r20.bms!.stats! } });
    expect(p2).toBe(p1);
    // A reconnect brings an equal DeviceInfo in a new object: still the same presence.
    expect(updatePresence(p1, { ...r20, can: undefined, device: { ...r20.device } })).toBe(p1);
    expect(updatePresence(p1, withTemps([25, 26, 27, 28]))).not.toBe(p1);
  });

  test("before any reading the device has only its link diagnostics and alerts", () => {
    const keys = haDevices(BASE, desc, EMPTY_PRESENCE).flatMap((d) => d.entities.map((e) => e.key));
    expect(keys.filter((k) => !k.startsWith("alert_")).sort()).toEqual([
      "connected",
      "crc_errors",
      "last_error",
      "latency",
      "link",
      "reconnects",
    ]);
    expect(keys).toContain("alert_message");
    const withoutAlerts = haDevices(BASE, { ...desc, alerts: false }, EMPTY_PRESENCE).flatMap((d) =>
      d.entities.map((e) => e.key),
    );
    expect(withoutAlerts.some((k) => k.startsWith("alert_"))).toBe(false);
  });
});

describe("removal of vanished entities", () => {
  const r16 = withStats(syntheticReading({ deviceId: "pack", time: 1000, cells: 16 }));
  const express = (rs: Reading[]) => devicesFor(rs).devices[0]!;

  test("device mode: 20S → 16S tombstones cells 17–20 as {p}, then drops them", () => {
    const first = discoveryMessages(opts("device"), express([r20]));
    const second = discoveryMessages(opts("device"), express([r20, r16]), first.published);
    const cmps = JSON.parse(second.messages[0]!.payload).cmps as Record<string, object>;
    for (let n = 17; n <= 20; n++) {
      expect(cmps[`cell_${n}_voltage`]).toEqual({ p: "sensor" });
      expect(cmps[`cell_${n}_balancing`]).toEqual({ p: "binary_sensor" });
    }
    expect(Object.keys(cmps.cell_16_voltage ?? {}).length).toBeGreaterThan(1);
    expect(validateDiscovery(second.messages)).toEqual([]);
    const third = discoveryMessages(opts("device"), express([r20, r16]), second.published);
    const cmps3 = JSON.parse(third.messages[0]!.payload).cmps as Record<string, object>;
    expect(cmps3.cell_17_voltage).toBeUndefined();
    expect(Object.keys(cmps3).length).toBe(Object.keys(cmps).length - 8);
  });

  test("entity mode: empty retained configs for the vanished cells", () => {
    const first = discoveryMessages(opts("entity"), express([r20]));
    const second = discoveryMessages(opts("entity"), express([r20, r16]), first.published);
    const removed = second.messages.filter((m) => m.payload === "").map((m) => m.topic);
    expect(removed).toHaveLength(8);
    expect(removed).toContain("homeassistant/sensor/vesc2mqtt_pack/cell_20_voltage/config");
    expect(removed).toContain("homeassistant/binary_sensor/vesc2mqtt_pack/cell_17_balancing/config");
  });

  test("a vanished device: one empty config (device mode) or one per entity (entity mode)", () => {
    const published: PublishedComponents = discoveryMessages(opts("entity"), express([r20])).published;
    expect(removalMessages(opts("device"), "vesc2mqtt_pack", published)).toEqual([
      { topic: "homeassistant/device/vesc2mqtt_pack/config", payload: "", retain: true, qos: 1 },
    ]);
    const perEntity = removalMessages(opts("entity"), "vesc2mqtt_pack", published);
    expect(perEntity.length).toBe(published.size);
    expect(perEntity.every((m) => m.payload === "")).toBe(true);
  });
});

describe("state documents", () => {
  test("device state is the reading model without CAN nodes; CAN nodes get their own", () => {
    const doc = JSON.parse(deviceStateDoc(r20).payload);
    expect(doc.can).toBeUndefined();
    expect(doc.bms.cells).toEqual(r20.bms!.cells);
    const can = canStateDocs(r20);
    expect(can.map((d) => d.canId)).toEqual([84]);
    expect(JSON.parse(can[0]!.payload).values.erpm).toBe(1200);
  });

  test("the payload is exactly the reading without CAN nodes, deviceId and time first", () => {
    for (const r of [
      r20,
      syntheticReading({ time: 0, step: 3 }),
      { deviceId: "x", time: "t" } as Reading,
      { ...r20, latencyMs: 0.125 },
    ]) {
      const { can: _can, ...rest } = r;
      const doc = JSON.parse(deviceStateDoc(r).payload);
      expect(doc).toEqual(rest);
      expect(Object.keys(doc).slice(0, 2)).toEqual(["deviceId", "time"]);
      if (r.latencyMs !== undefined) expect(Object.keys(doc).at(-1)).toBe("latencyMs");
      // The change key is exactly what lies between time and latencyMs.
      const { deviceId: _d, time: _t, latencyMs: _l, ...stable } = rest;
      const key = changeKey(deviceStateDoc(r));
      expect(key === "" ? {} : JSON.parse(`{${key.slice(1)}}`)).toEqual(stable);
    }
  });

  test("the change key ignores time and latency only", () => {
    const a = syntheticReading({ time: 0, step: 1 });
    const b = { ...a, time: new Date(5000).toISOString(), latencyMs: 99 };
    expect(changeKey(deviceStateDoc(b))).toBe(changeKey(deviceStateDoc(a)));
    expect(changeKey(deviceStateDoc(syntheticReading({ time: 0, step: 2 })))).not.toBe(
      changeKey(deviceStateDoc(a)),
    );
    // A CAN node's key is its document without the time.
    const [can] = canStateDocs(r20);
    const [later] = canStateDocs({ ...r20, time: new Date(5000).toISOString() });
    expect(can && later && changeKey(later)).toBe(can && changeKey(can));
    expect(JSON.parse(`${can && changeKey(can)}}`)).toEqual(r20.can?.["84"]);
  });

  test("a failed CAN node publishes nothing (keeps its last state)", () => {
    const failed: Reading = { ...r20, can: { "84": { canId: 84, kind: "motor", error: "timeout" } } };
    expect(canStateDocs(failed)).toEqual([]);
  });
});

describe("the rules checker catches mistakes", () => {
  const base = {
    unique_id: "x",
    state_topic: "t",
    name: "n",
    device: { identifiers: ["d"] },
    origin: { name: "o" },
  };
  test.each<[string, object, string]>([
    ["temperature spelled C", { device_class: "temperature", unit_of_measurement: "C" }, "spelled"],
    [
      "energy as measurement",
      { device_class: "energy", unit_of_measurement: "Wh", state_class: "measurement" },
      "not allowed",
    ],
    ["Ah with a device class", { device_class: "current", unit_of_measurement: "Ah" }, "not valid"],
    ["config category on a sensor", { entity_category: "config" }, "entity_category"],
    ["enum with a unit", { device_class: "enum", options: ["a"], unit_of_measurement: "V" }, "no unit"],
  ])("%s", (_n, extra, expected) => {
    const errs = validateEntity({ topic: "t", key: "k", platform: "sensor", config: { ...base, ...extra } });
    expect(errs.join("\n")).toContain(expected);
  });

  test("duplicate unique_ids", () => {
    const payload = JSON.stringify({
      dev: { ids: ["d"] },
      o: { name: "o" },
      cmps: {
        a: { p: "sensor", uniq_id: "same", stat_t: "t", name: "a" },
        b: { p: "sensor", uniq_id: "same", stat_t: "t", name: "b" },
      },
    });
    expect(validateDiscovery([{ topic: "homeassistant/device/d/config", payload }]).join()).toContain(
      "used twice",
    );
  });
});
