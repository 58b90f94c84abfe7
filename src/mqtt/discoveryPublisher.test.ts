import { afterEach, beforeEach, expect, test } from "vitest";
import { connectedOutbox, type FakeOutbox } from "../../test/helpers/fakeOutbox.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import type { Reading } from "../model/reading.js";
import {
  DISCOVERY_SETTLE_READINGS,
  type DiscoveryMemory,
  DiscoveryPublisher,
  discoveryMemory,
} from "./discoveryPublisher.js";
import { updatePresence } from "./homeassistant/devices.js";
import type { Platform } from "./homeassistant/entities.js";

let o: FakeOutbox;
beforeEach(async () => {
  o = await connectedOutbox();
});
afterEach(() => o.stop());

const EXPRESS = "homeassistant/device/vesc2mqtt_pack/config";
const MOTOR = "homeassistant/device/vesc2mqtt_pack_can84/config";
const publisher = () =>
  new DiscoveryPublisher(o.out, "vesc2mqtt", {
    prefix: "homeassistant",
    mode: "device",
    origin: { name: "vesc2mqtt", sw: "test", url: "https://example.invalid" },
    bridgeTopic: "vesc2mqtt/bridge/state",
  });
const memory = (can: { id: number; kind: "bms" | "motor" }[] = []) =>
  discoveryMemory({ id: "pack", name: "Pack", can });
const see = (d: DiscoveryPublisher, mem: DiscoveryMemory, r: Reading, force = false) => {
  mem.presence = updatePresence(mem.presence, r);
  return d.publish(mem, force);
};
const configs = () => o.fake.published.filter((p) => p.topic.startsWith("homeassistant/"));
const cmps = (topic: string) =>
  Object.keys(JSON.parse(configs().findLast((p) => p.topic === topic)?.payload ?? "{}").cmps);

test("the first shape goes out at once (retained, QoS 1, acks returned); the same presence sends nothing", async () => {
  const d = publisher();
  const mem = memory();
  const acks = see(d, mem, syntheticReading({ time: 0 }));
  expect(configs().map((p) => [p.topic, p.qos, p.retain])).toEqual([[EXPRESS, 1, true]]);
  expect(await Promise.all(acks)).toEqual([true]);
  for (let step = 1; step < 5; step++)
    expect(see(d, mem, syntheticReading({ time: 0, step }))).toHaveLength(0);
  expect(configs()).toHaveLength(1);
  expect(see(d, mem, syntheticReading({ time: 0 }), true)).toHaveLength(1); // forced: a republish
});

test("a shape that could not go out (disconnected) is not taken as published", () => {
  const d = publisher();
  const mem = memory();
  o.fake.down();
  see(d, mem, syntheticReading({ time: 0 }));
  expect(configs()).toHaveLength(0);
  o.fake.up();
  see(d, mem, syntheticReading({ time: 0, step: 1 })); // same presence, not forced
  expect(configs().map((p) => p.topic)).toEqual([EXPRESS]);
});

test(`a changed shape goes out once it held for ${DISCOVERY_SETTLE_READINGS} readings`, () => {
  const d = publisher();
  const mem = memory();
  see(d, mem, syntheticReading({ time: 0, cells: 20 }));
  for (let i = 1; i < DISCOVERY_SETTLE_READINGS; i++) see(d, mem, syntheticReading({ time: 0, cells: 21 }));
  expect(configs()).toHaveLength(1);
  see(d, mem, syntheticReading({ time: 0, cells: 21 }));
  expect(configs()).toHaveLength(2);
  expect(cmps(EXPRESS)).toContain("cell_21_voltage");
});

test("a configured CAN node gets its own HA device once it answered (after the shape held)", () => {
  const d = publisher();
  const mem = memory([{ id: 84, kind: "motor" }]);
  see(d, mem, syntheticReading({ time: 0 }));
  expect(configs().map((p) => p.topic)).toEqual([EXPRESS]);
  for (let i = 0; i < DISCOVERY_SETTLE_READINGS; i++)
    see(d, mem, syntheticReading({ time: 0, withMotor: true }));
  expect(configs().map((p) => p.topic)).toEqual([EXPRESS, EXPRESS, MOTOR]);
  expect(cmps(MOTOR).length).toBeGreaterThan(0);
});

test("components a retained scan found and the device no longer has are removed by the next discovery", () => {
  const d = publisher();
  const mem = memory();
  d.seed(
    mem,
    new Map([
      ["vesc2mqtt_pack", new Map<string, Platform>([["cell_99_voltage", "sensor"]])],
      ["vesc2mqtt_other", new Map<string, Platform>([["soc", "sensor"]])],
    ]),
  );
  expect([...mem.published.keys()]).toEqual(["vesc2mqtt_pack"]); // only this device's objects
  see(d, mem, syntheticReading({ time: 0 }));
  const doc = JSON.parse(configs()[0]?.payload ?? "{}");
  expect(doc.cmps.cell_99_voltage).toEqual({ p: "sensor" }); // HA removes a component sent as only its platform
});

test("devices that published the same components share one remembered list, and a change still removes", () => {
  const d = publisher();
  const a = discoveryMemory({ id: "a", name: "A", can: [] });
  const b = discoveryMemory({ id: "b", name: "B", can: [] });
  see(d, a, syntheticReading({ time: 0, cells: 20 }));
  see(d, b, syntheticReading({ time: 0, cells: 20 }));
  const listA = a.published.get("vesc2mqtt_a");
  expect(listA).toContain("cell_20_voltage");
  expect(b.published.get("vesc2mqtt_b")).toBe(listA); // one list for the fleet, not one per device
  // b shrinks: its removal is computed from what b published, and a keeps its own list.
  for (let i = 0; i < DISCOVERY_SETTLE_READINGS; i++) see(d, b, syntheticReading({ time: 0, cells: 19 }));
  const doc = JSON.parse(configs().findLast((p) => p.topic.includes("vesc2mqtt_b"))?.payload ?? "{}");
  expect(doc.cmps.cell_20_voltage).toEqual({ p: "sensor" });
  expect(b.published.get("vesc2mqtt_b")).not.toContain("cell_20_voltage");
  expect(a.published.get("vesc2mqtt_a")).toBe(listA);
  expect(listA).toContain("cell_20_voltage");
});
