/**
 * A CAN BMS node gets the same value rules as the device's own BMS, with its own state and
 * identity (`canId` on the alert) and the device's per-device overrides.
 */
import { expect, test } from "vitest";
import { type Alert, Bus } from "../model/bus.js";
import type { BmsReading, CanNodeReading, Reading } from "../model/reading.js";
import { DEFAULT_ALERT_THRESHOLDS, evaluateCanBms, evaluateReading } from "./alerts.js";
import { AlertSink } from "./alertSink.js";

const T = DEFAULT_ALERT_THRESHOLDS;

function bms(cells: number[], temperatures: number[] = [25, 26]): BmsReading {
  return {
    packVoltage: cells.reduce((a, b) => a + b, 0),
    chargeVoltage: 84,
    current: 0,
    currentIc: 0,
    packCurrent: 0,
    packPower: 0,
    ampHours: 0,
    wattHours: 0,
    cells,
    balancing: cells.map(() => false),
    temperatures,
    icTemperature: 30,
    humidityTemperature: 0,
    humidity: 0,
    maxCellTemperature: 0,
  };
}

/** 16 healthy cells with cell `n` at `v`. */
const cells = (n: number, v: number): number[] =>
  Array.from({ length: 16 }, (_, i) => (i + 1 === n ? v : 3.7 + (i % 3) * 0.001));

function reading(
  own: BmsReading | undefined,
  nodes: CanNodeReading[],
  deviceId = "pack",
  time = "2026-01-01T00:00:00.000Z",
): Reading {
  return {
    deviceId,
    time,
    device: { firmware: "6.05", hardware: "VESC Express T", uuid: "aabbccddeeff000000000000" },
    ...(own ? { bms: own } : {}),
    can: Object.fromEntries(nodes.map((n) => [String(n.canId), n])),
  };
}

test("evaluateCanBms runs the cell rules on the node's BMS and names the node", () => {
  const r = reading(bms(cells(1, 3.7)), []);
  const ev = evaluateCanBms(r, 10, bms(cells(4, 4.31)), T, {});
  expect(ev.changed.map((a) => [a.canId, a.rule])).toEqual([
    [10, "cell_over_voltage"],
    [10, "cell_delta"],
  ]);
  expect(ev.changed[0]).toMatchObject({ deviceId: "pack", canId: 10, active: true });
  expect(ev.changed[0]?.message).toContain("cell 4 at 4.310 V");
  // The device's own BMS is healthy: the device's evaluation has nothing.
  expect(evaluateReading(r, T, {}).changed).toEqual([]);
});

test("the sink keeps the node's state apart from the device's and from other nodes", async () => {
  const bus = new Bus();
  const sink = new AlertSink({ bus });
  const seen: Alert[] = [];
  bus.on("alert", (a) => seen.push(a));
  await sink.start();
  const healthy = bms(cells(1, 3.7));
  const low: CanNodeReading = { canId: 10, kind: "bms", bms: bms(cells(7, 3.05)) };
  const fine: CanNodeReading = { canId: 11, kind: "bms", bms: healthy };
  bus.emit("reading", reading(healthy, [low, fine]));
  expect(seen.map((a) => [a.deviceId, a.canId, a.rule, a.active])).toEqual([
    ["pack", 10, "cell_under_voltage", true],
    ["pack", 10, "cell_delta", true],
  ]);
  expect(sink.active("pack").map((a) => [a.canId, a.rule])).toEqual([
    [10, "cell_under_voltage"],
    [10, "cell_delta"],
  ]);
  // The same low cell on the device's own BMS is a separate alert of the device.
  bus.emit("reading", reading(bms(cells(7, 3.05)), [low, fine]));
  expect(seen.slice(2).map((a) => [a.canId, a.rule])).toEqual([
    [undefined, "cell_under_voltage"],
    [undefined, "cell_delta"],
  ]);
  // A node that did not answer keeps its alerts; one that recovers clears only its own.
  bus.emit("reading", reading(bms(cells(7, 3.05)), [{ canId: 10, kind: "bms", error: "timeout" }]));
  expect(seen).toHaveLength(4);
  bus.emit("reading", reading(bms(cells(7, 3.05)), [{ canId: 10, kind: "bms", bms: healthy }]));
  expect(seen.slice(4).map((a) => [a.canId, a.rule, a.active])).toEqual([
    [10, "cell_under_voltage", false],
    [10, "cell_delta", false],
  ]);
  expect(sink.active("pack").map((a) => [a.canId, a.rule])).toEqual([
    [undefined, "cell_under_voltage"],
    [undefined, "cell_delta"],
  ]);
  await sink.stop();
});

test("a motor node's values and a node's temperatures follow their kind and the device's overrides", async () => {
  const bus = new Bus();
  const sink = new AlertSink({ bus, overrides: { strict: { temperatureHigh: 40 } } });
  const seen: Alert[] = [];
  bus.on("alert", (a) => seen.push(a));
  await sink.start();
  const warm = bms(cells(1, 3.7), [45, 30]);
  const node = (canId: number, kind: "bms" | "motor"): CanNodeReading => ({ canId, kind, bms: warm });
  bus.emit("reading", reading(undefined, [node(10, "bms"), node(20, "motor")], "relaxed"));
  bus.emit("reading", reading(undefined, [node(10, "bms"), node(20, "motor")], "strict"));
  // 45 °C is below the default 55 °C, above strict's 40 °C; motor nodes have no BMS rules.
  expect(seen.map((a) => [a.deviceId, a.canId, a.rule])).toEqual([["strict", 10, "temperature_high"]]);
  expect(seen[0]?.message).toContain("sensor 1 at 45 °C (limit 40 °C)");
  await sink.stop();
});

test("a node silent as long as the device's stale time goes stale, and an answer ends it", async () => {
  const bus = new Bus();
  // 3 intervals of 1 s, as the bridge passes stale_after_intervals × interval.
  const sink = new AlertSink({ bus, staleAfterMs: { pack: 3000 } });
  const seen: Alert[] = [];
  bus.on("alert", (a) => seen.push(a));
  await sink.start();
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const healthy = bms(cells(1, 3.7));
  const silent: CanNodeReading = { canId: 10, kind: "bms", error: "timeout after 1000 ms" };
  const poll = (s: number, node: CanNodeReading) =>
    bus.emit("reading", reading(healthy, [node], "pack", at(s)));
  poll(0, { canId: 10, kind: "bms", bms: bms(cells(7, 3.05)) });
  expect(seen.map((a) => a.rule)).toEqual(["cell_under_voltage", "cell_delta"]);
  poll(1, silent);
  poll(2, silent);
  expect(seen).toHaveLength(2); // 2 s of silence: not yet
  poll(3, silent);
  expect(seen.slice(2)).toEqual([
    {
      deviceId: "pack",
      canId: 10,
      rule: "stale",
      active: true,
      message: `no answer since ${at(0)} (timeout after 1000 ms)`,
      time: at(3),
    },
  ]);
  poll(4, silent);
  expect(seen).toHaveLength(3);
  // Like the device's own stale: the value alerts keep their last state meanwhile.
  expect(sink.active("pack").map((a) => [a.canId, a.rule])).toEqual([
    [10, "cell_under_voltage"],
    [10, "cell_delta"],
    [10, "stale"],
  ]);
  poll(5, { canId: 10, kind: "bms", bms: healthy });
  expect(seen.slice(3).map((a) => [a.canId, a.rule, a.active])).toEqual([
    [10, "cell_under_voltage", false],
    [10, "cell_delta", false],
    [10, "stale", false],
  ]);
  expect(sink.active("pack")).toEqual([]);
  await sink.stop();
});

test("a node that never answers goes stale after the device's stale time from its first poll", async () => {
  const bus = new Bus();
  const sink = new AlertSink({ bus, staleAfterMs: { pack: 2000 } });
  const seen: Alert[] = [];
  bus.on("alert", (a) => seen.push(a));
  await sink.start();
  const silent: CanNodeReading = { canId: 11, kind: "bms", error: "timeout" };
  for (const s of [0, 1, 2])
    bus.emit("reading", reading(undefined, [silent], "pack", `2026-01-01T00:00:0${s}.000Z`));
  expect(seen.map((a) => [a.canId, a.rule, a.active, a.message])).toEqual([
    [11, "stale", true, "no answer yet (timeout)"],
  ]);
  // The device's own stale rule is unaffected: its link is fine.
  expect(sink.active("pack").map((a) => a.canId)).toEqual([11]);
  await sink.stop();
});

test("with the stale rule off, a silent node raises nothing", async () => {
  const bus = new Bus();
  const sink = new AlertSink({ bus, staleAfterMs: { pack: 1000 }, overrides: { pack: { stale: false } } });
  const seen: Alert[] = [];
  bus.on("alert", (a) => seen.push(a));
  await sink.start();
  const silent: CanNodeReading = { canId: 10, kind: "bms", error: "timeout" };
  for (const s of [0, 5])
    bus.emit("reading", reading(undefined, [silent], "pack", `2026-01-01T00:00:0${s}.000Z`));
  expect(seen).toEqual([]);
  await sink.stop();
});
