/**
 * A BMS on CAN gets the device's BMS gauges (cells, pack values, battery estimate) labelled
 * with its can_id, like motor nodes are; the device's own series keep their labels; a node
 * that stops answering loses its series; a node's alert has a series of its own.
 */
import { expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import { BatteryStage } from "../bridge/batteryStage.js";
import type { BmsReading, Reading } from "../model/reading.js";
import { Metrics } from "./metrics.js";

type Series = { readonly labels: Record<string, string | number>; readonly value: number };

async function series(m: Metrics, name: string): Promise<Series[]> {
  await m.text(); // applies the newest reading of each device
  const all = await m.registry.getMetricsAsJSON();
  return (all.find((x) => x.name === name)?.values ?? []) as Series[];
}

const of = (s: Series[], labels: Record<string, string | number>) =>
  s.filter((x) => Object.entries(labels).every(([k, v]) => String(x.labels[k]) === String(v)));

const own = syntheticReading({ deviceId: "pack", time: Date.parse("2026-01-01T00:00:00Z"), cells: 4 });
const nodeBms: BmsReading = {
  ...(own.bms as BmsReading),
  cells: [3.612, 3.655, 3.601, 3.649, 3.64, 3.633],
  balancing: [false, true, false, false, false, false],
  packVoltage: 21.79,
  temperatures: [24.5, 25],
};
const battery = new BatteryStage({ deviceId: "pack" }).apply({ ...own, bms: nodeBms }).bms?.battery;
const withNode = (node: Reading["can"]): Reading => ({ ...own, can: node });
const answering = withNode({
  "10": {
    canId: 10,
    kind: "bms",
    bms: { ...nodeBms, ...(battery ? { battery: { ...battery, socEstimatePercent: 41.5 } } : {}) },
  },
});

test("a CAN BMS node's cells, pack values and estimate carry its can_id", async () => {
  const m = new Metrics();
  m.observeReading(answering);
  const cells = await series(m, "vesc_cell_voltage_volts");
  expect(of(cells, { device: "pack", can_id: 10 }).map((s) => [s.labels.cell, s.value])).toEqual([
    [1, 3.612],
    [2, 3.655],
    [3, 3.601],
    [4, 3.649],
    [5, 3.64],
    [6, 3.633],
  ]);
  // The device's own 4 cells: no can_id label at all.
  const mine = cells.filter((s) => s.labels.can_id === undefined);
  expect(mine.map((s) => Object.keys(s.labels).sort().join())).toEqual(Array(4).fill("cell,device"));
  const balancing = of(await series(m, "vesc_cell_balancing"), { can_id: 10, cell: 2 });
  expect(balancing.map((s) => s.value)).toEqual([1]);
  expect(of(await series(m, "vesc_pack_voltage_volts"), { can_id: 10 }).map((s) => s.value)).toEqual([21.79]);
  expect(of(await series(m, "vesc_soh_percent"), { can_id: 10 }).map((s) => s.value)).toEqual([99]);
  expect(of(await series(m, "vesc_temperature_celsius"), { can_id: 10, sensor: 2 })[0]?.value).toBe(25);
  const soc = of(await series(m, "vesc_battery_soc_estimate_percent"), { device: "pack", can_id: 10 });
  expect(soc.map((s) => s.value)).toEqual([41.5]);
});

test("a node that stops answering loses its series; a shorter pack drops its extra cells", async () => {
  const m = new Metrics();
  m.observeReading(answering);
  expect(of(await series(m, "vesc_cell_voltage_volts"), { can_id: 10 })).toHaveLength(6);
  m.observeReading(withNode({ "10": { canId: 10, kind: "bms", bms: { ...nodeBms, cells: [3.6, 3.61] } } }));
  expect(of(await series(m, "vesc_cell_voltage_volts"), { can_id: 10 })).toHaveLength(2);
  m.observeReading(withNode({ "10": { canId: 10, kind: "bms", error: "timeout" } }));
  expect(of(await series(m, "vesc_cell_voltage_volts"), { can_id: 10 })).toEqual([]);
  expect(of(await series(m, "vesc_pack_voltage_volts"), { can_id: 10 })).toEqual([]);
  // The device's own series are untouched.
  expect(of(await series(m, "vesc_cell_voltage_volts"), { device: "pack" })).toHaveLength(4);
});

test("a node's alert is its own series, next to the device's of the same rule", async () => {
  const m = new Metrics();
  const time = "2026-01-01T00:00:00Z";
  m.observeAlert({ deviceId: "pack", rule: "cell_delta", active: false, message: "", time });
  m.observeAlert({ deviceId: "pack", canId: 10, rule: "cell_delta", active: true, message: "x", time });
  const alerts = await series(m, "vesc_alert_active");
  expect(alerts.map((s) => [s.labels.can_id, s.value])).toEqual([
    [undefined, 0],
    [10, 1],
  ]);
});

test("removing a device drops a node's alert series, also after the node went quiet", async () => {
  const m = new Metrics();
  const time = "2026-01-01T00:00:00Z";
  m.observeReading(answering);
  await m.text();
  m.observeAlert({
    deviceId: "pack",
    canId: 10,
    rule: "cell_under_voltage",
    active: true,
    message: "x",
    time,
  });
  // A node never seen with a BMS can still have alerts (an embedder feeding them directly).
  m.observeAlert({ deviceId: "pack", canId: 11, rule: "cell_delta", active: true, message: "y", time });
  m.observeReading(withNode({ "10": { canId: 10, kind: "bms", error: "timeout" } }));
  await m.text();
  m.removeDevice("pack");
  expect(await series(m, "vesc_alert_active")).toEqual([]);
});
