/** Startup cleanup of retained discovery configs: what is ours, what is stale, what is never touched. */
import { describe, expect, test } from "vitest";
import { planCleanup, type RetainedConfig } from "./cleanup.js";

const o = { name: "vesc2mqtt", sw: "0.1.0" };
const devCfg = (cmps: Record<string, object>, origin: object = o) =>
  JSON.stringify({ dev: { ids: ["x"] }, o: origin, cmps });
const full = (p: string) => ({ p, uniq_id: "u", stat_t: "t" });
const configured = [{ id: "pack", canIds: [84] }];

function plan(mode: "device" | "entity", retained: RetainedConfig[]) {
  return planCleanup("homeassistant", "vesc2mqtt", mode, configured, retained);
}

describe("planCleanup", () => {
  test("our config for a configured device seeds what was published (tombstones skipped)", () => {
    const p = plan("device", [
      {
        topic: "homeassistant/device/vesc2mqtt_pack/config",
        payload: devCfg({
          cell_1_voltage: full("sensor"),
          cell_2_balancing: full("binary_sensor"),
          cell_9_voltage: { p: "sensor" },
        }),
      },
      {
        topic: "homeassistant/device/vesc2mqtt_pack_can84/config",
        payload: devCfg({ erpm: full("sensor") }),
      },
    ]);
    expect(p.removals).toEqual([]);
    expect([...(p.published.get("vesc2mqtt_pack") ?? [])]).toEqual([
      ["cell_1_voltage", "sensor"],
      ["cell_2_balancing", "binary_sensor"],
    ]);
    expect([...(p.published.get("vesc2mqtt_pack_can84") ?? [])]).toEqual([["erpm", "sensor"]]);
  });

  test.each<[string, RetainedConfig]>([
    [
      "a device no longer configured",
      { topic: "homeassistant/device/vesc2mqtt_gone/config", payload: devCfg({ a: full("sensor") }) },
    ],
    [
      "a CAN node no longer listed",
      { topic: "homeassistant/device/vesc2mqtt_pack_can12/config", payload: devCfg({ a: full("sensor") }) },
    ],
    [
      "an entity-mode config while in device mode",
      {
        topic: "homeassistant/sensor/vesc2mqtt_pack/cell_1_voltage/config",
        payload: JSON.stringify({ ...full("sensor"), o }),
      },
    ],
  ])("clears %s", (_n, r) => {
    expect(plan("device", [r]).removals).toEqual([{ topic: r.topic, payload: "", retain: true, qos: 1 }]);
  });

  test.each<[string, RetainedConfig]>([
    [
      "another integration's config",
      {
        topic: "homeassistant/device/vesc2mqtt_pack/config",
        payload: devCfg({ a: full("sensor") }, { name: "Zigbee2MQTT" }),
      },
    ],
    [
      "another base topic's config",
      { topic: "homeassistant/device/other_pack/config", payload: devCfg({ a: full("sensor") }) },
    ],
    ["an already empty config", { topic: "homeassistant/device/vesc2mqtt_gone/config", payload: "" }],
    ["garbage", { topic: "homeassistant/device/vesc2mqtt_gone/config", payload: "{not json" }],
  ])("never touches %s", (_n, r) => {
    const p = plan("device", [r]);
    expect(p.removals).toEqual([]);
    expect(p.published.size).toBe(0);
  });

  test("entity mode: per-entity configs seed published; device configs are cleared", () => {
    const p = plan("entity", [
      {
        topic: "homeassistant/binary_sensor/vesc2mqtt_pack/cell_3_balancing/config",
        payload: JSON.stringify({ ...full("binary_sensor"), o }),
      },
      { topic: "homeassistant/device/vesc2mqtt_pack/config", payload: devCfg({ a: full("sensor") }) },
    ]);
    expect([...(p.published.get("vesc2mqtt_pack") ?? [])]).toEqual([["cell_3_balancing", "binary_sensor"]]);
    expect(p.removals.map((r) => r.topic)).toEqual(["homeassistant/device/vesc2mqtt_pack/config"]);
  });
});
