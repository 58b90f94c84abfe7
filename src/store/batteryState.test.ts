/**
 * battery.db across format versions: a row written before the cell health was packed
 * (test/fixtures/battery/state-v1.json: 20 cells with 128 resistance samples each and eight
 * hourly drift points, as the version 1 code saved it) still restores, exactly, and the
 * state saved back is the packed version 2 at about half the size.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect, test } from "vitest";
import { scratchDataDir } from "../../test/helpers/dataDir.js";
import { framePayload, fw605BmsFrames } from "../../test/helpers/fw605Sequence.js";
import { BatteryEstimator, batterySnapshotSchema } from "../battery/battery.js";
import { toBmsReading } from "../model/bmsReading.js";
import { decodeBmsValues } from "../protocol/index.js";
import { BatteryStateStore } from "./batteryState.js";

const fw605Reading = () => toBmsReading(decodeBmsValues(framePayload(fw605BmsFrames()[0]!.frame)));

const v1Text = readFileSync(
  new URL("../../test/fixtures/battery/state-v1.json", import.meta.url),
  "utf8",
).trim();
const opts = { intervalMs: 1000, config: { capacityAh: 20 } };

/** A battery.db whose only row is `text`, written with the statement the version 1 store used. */
function fileWith(text: string): string {
  const path = join(scratchDataDir(), "battery.db");
  new BatteryStateStore(path).close();
  const db = new Database(path);
  db.prepare(
    "INSERT INTO battery_state (device_id, snapshot, saved_ms, device_uuid, cells) VALUES (?, ?, ?, ?, ?)",
  ).run("pack", text, 1_767_254_700_000, "0a0b0c0d0e0f000000000001", 20);
  db.close();
  return path;
}

test("a version 1 row restores exactly; saved back it is version 2 and about half the size", () => {
  const path = fileWith(v1Text);
  const store = new BatteryStateStore(path);
  const stored = store.load("pack");
  expect(stored?.identity).toEqual({ deviceUuid: "0a0b0c0d0e0f000000000001", cells: 20 });
  const v1 = JSON.parse(v1Text) as { cellHealth: { version: number; resistanceSamples: number[][] } };
  expect(v1.cellHealth.version).toBe(1);
  expect(v1.cellHealth.resistanceSamples.map((s) => s.length)).toEqual(Array(20).fill(128));
  const restored = BatteryEstimator.restore(opts, stored?.snapshot);
  const again = restored.snapshot();
  expect(again.cellHealth.version).toBe(2);
  // Lossless: read back, the packed state is the version 1 state number for number.
  expect(batterySnapshotSchema.parse(JSON.parse(JSON.stringify(again)))).toEqual(
    batterySnapshotSchema.parse(v1),
  );
  store.save("pack", again, 1_767_254_760_000);
  store.close();

  const reopened = new BatteryStateStore(path);
  const packed = reopened.load("pack")?.snapshot;
  reopened.close();
  expect(JSON.stringify(packed).length).toBeLessThan(v1Text.length * 0.6);
  // Restored from either version, the next estimate is the same, resistances included.
  const fromV1 = BatteryEstimator.restore(opts, v1);
  const fromV2 = BatteryEstimator.restore(opts, packed);
  const bms = fw605Reading();
  const e1 = fromV1.update(1_767_254_701_000, bms);
  expect(fromV2.update(1_767_254_701_000, bms)).toEqual(e1);
  expect(e1.cellResistanceOhm.every((r) => r !== null)).toBe(true);
});

test("a damaged packed list is refused, never half-loaded: the cell health starts anew, reported", () => {
  const good = new BatteryEstimator(opts).snapshot();
  const bad = (resistanceSamples: unknown) => ({
    ...good,
    cellHealth: { ...good.cellHealth, resistanceSamples },
  });
  const refused = (snapshot: unknown) => {
    const told: string[] = [];
    const b = BatteryEstimator.restore(opts, snapshot, (m) => told.push(m));
    expect(told).toEqual([expect.stringMatching(/^battery state partly restored: cellHealth/)]);
    expect(b.snapshot().cellHealth).toEqual(good.cellHealth);
  };
  refused(bad(["not base64!"]));
  // Seven bytes: not a whole float64.
  refused(bad([Buffer.alloc(7).toString("base64")]));
  // A NaN (null) among resistance samples, which are never null.
  const nan = Buffer.alloc(8);
  nan.writeDoubleLE(Number.NaN, 0);
  refused(bad([nan.toString("base64")]));
});
