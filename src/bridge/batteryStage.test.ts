/**
 * The battery step of the pipeline on the real Express 6.05 capture (SOC 0, i_in 0,
 * i_in_ic ~0.14 A charging, cells ~4.19 V): the estimate rides on `bms.battery`, and the
 * counters survive a restart through a real SQLite file opened twice.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { framePayload, fw605BmsFrames, fw605DeviceInfo } from "../../test/helpers/fw605Sequence.js";
import { toBmsReading } from "../model/bmsReading.js";
import type { BatteryReading, Reading } from "../model/reading.js";
import { decodeBmsValues } from "../protocol/index.js";
import { BatteryStateStore } from "../store/batteryState.js";
import { BatteryStage, batteryReadingOf, DEFAULT_BATTERY_SAVE_EVERY_MS } from "./batteryStage.js";

const dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-battery-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const device = fw605DeviceInfo();
const frames = fw605BmsFrames().map((f) => ({
  atMs: Math.round(f.atS * 1000),
  bms: toBmsReading(decodeBmsValues(framePayload(f.frame))),
}));
const LAP_MS = (frames.at(-1)?.atMs ?? 0) + 150;
const T0 = Date.UTC(2026, 0, 1);

/** The capture played back to back for `laps` laps from `lap0`, as readings of device "pack". */
function* readings(lap0: number, laps: number): Generator<Reading> {
  for (let lap = lap0; lap < lap0 + laps; lap++)
    for (const f of frames)
      yield {
        deviceId: "pack",
        time: new Date(T0 + lap * LAP_MS + f.atMs).toISOString(),
        device,
        bms: f.bms,
      };
}

/** Saved whCharged per key, read through a second connection (as after a crash): no flush on read. */
function savedWh(path: string, key: string): number | undefined {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare("SELECT snapshot FROM battery_state WHERE device_id = ?").get(key) as
      | { snapshot: string }
      | undefined;
    return row
      ? (JSON.parse(row.snapshot) as { counters: { totals: { whCharged: number } } }).counters.totals
          .whCharged
      : undefined;
  } finally {
    db.close();
  }
}

/** Makes every write of `key` (or of any key) fail with a real SQLite error, from a second connection. */
function failWrites(path: string, key?: string): () => void {
  const db = new Database(path);
  const when = key === undefined ? "" : ` WHEN NEW.device_id = '${key}'`;
  db.exec(
    `CREATE TRIGGER fail_insert BEFORE INSERT ON battery_state${when} BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
  );
  db.exec(
    `CREATE TRIGGER fail_update BEFORE UPDATE ON battery_state${when} BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
  );
  return () => {
    db.exec("DROP TRIGGER fail_insert; DROP TRIGGER fail_update");
    db.close();
  };
}

function run(stage: BatteryStage, lap0: number, laps: number): BatteryReading[] {
  const out: BatteryReading[] = [];
  for (const r of readings(lap0, laps)) {
    const b = stage.apply(r).bms?.battery;
    if (!b) throw new Error("no battery estimate on the reading");
    out.push(b);
  }
  return out;
}

describe("BatteryStage", () => {
  test("NMC defaults on the real capture: the estimate is the SOC (BMS sends 0), ≥ 95 % from the first reading", () => {
    const seen = run(new BatteryStage({ deviceId: "pack", intervalMs: 150 }), 0, 1);
    expect(seen).toHaveLength(139);
    for (const b of seen) {
      expect(b.socSource).toBe("estimate");
      expect(b.bmsSocPercent).toBeNull();
      expect(b.socEstimatePercent).toBeGreaterThanOrEqual(95);
    }
    // i_in_ic ~0.14 A into ~83.8 V for ~21 s: ~0.07 Wh charged, nothing discharged.
    const last = seen.at(-1) as BatteryReading;
    expect(last.whCharged).toBeGreaterThan(0.05);
    expect(last.whCharged).toBeLessThan(0.1);
    expect(last.whDischarged).toBe(0);
    expect(last.bmsTotals).toBeNull();
  });

  test("counters survive a restart: a second store on the same file continues from the saved state", () => {
    const path = join(dir, "restart.db");
    const store1 = new BatteryStateStore(path);
    const first = run(
      new BatteryStage({ deviceId: "pack", intervalMs: 150, store: store1, saveEveryMs: 10_000 }),
      0,
      3,
    );
    const stage1Last = first.at(-1) as BatteryReading;
    // The bridge saves on stop; here the stage is dropped after its periodic saves plus one final save.
    const stage1 = new BatteryStage({ deviceId: "pack", intervalMs: 150, store: store1 });
    expect(stage1.estimator.snapshot().counters.totals.whCharged).toBeCloseTo(
      // Saved at most 10 s of reading time before the end of the run.
      stage1Last.whCharged,
      1,
    );
    store1.close();

    const storeA = new BatteryStateStore(path);
    const a = new BatteryStage({ deviceId: "pack", intervalMs: 150, store: storeA });
    const runA = run(a, 3, 2);
    a.save(T0 + 5 * LAP_MS);
    storeA.close();
    const endA = runA.at(-1) as BatteryReading;

    const storeB = new BatteryStateStore(path);
    const b = new BatteryStage({ deviceId: "pack", intervalMs: 150, store: storeB });
    const runB = run(b, 5, 1);
    storeB.close();
    const startB = runB[0] as BatteryReading;
    // Never backwards across the restart, and still counting after it.
    expect(startB.whCharged).toBeGreaterThanOrEqual(endA.whCharged);
    expect(startB.ahCharged).toBeGreaterThanOrEqual(endA.ahCharged);
    expect((runB.at(-1) as BatteryReading).whCharged).toBeGreaterThan(endA.whCharged);
    // And the restored counters are the ones counted so far, not a fresh start.
    expect(startB.whCharged).toBeGreaterThan(4 * first[0]!.whCharged + 0.2);
  });

  test("periodic saves: once per interval per BMS, at its own phase, in batches; at most an interval lost", () => {
    const path = join(dir, "fleet.db");
    const store = new BatteryStateStore(path);
    const ids = Array.from({ length: 40 }, (_, i) => `pack-${i}`);
    const stages = ids.map((id) => new BatteryStage({ deviceId: id, intervalMs: 1000, store }));
    const everyMs = DEFAULT_BATTERY_SAVE_EVERY_MS;
    const saved = new Map<string, number[]>(ids.map((id) => [id, []]));
    const whAt = new Map<string, Map<number, number>>(ids.map((id) => [id, new Map()]));
    const bms = frames[0]!.bms;
    // Observed through a second connection, as a restart after a crash would: a load() on the
    // store itself writes a queued key first, which would hide a batch that never went out.
    const reader = new Database(path, { readonly: true });
    const savedAt = reader.prepare(
      "SELECT saved_ms AS savedMs, snapshot FROM battery_state WHERE device_id = ?",
    );
    const rowOf = (id: string) => savedAt.get(id) as { savedMs: number; snapshot: string } | undefined;
    // Charging at ~0.14 A for four intervals (from the first reading), one reading per second,
    // plus one second for the batch of a save due in the last second to go out.
    const seconds = (4 * everyMs) / 1000 + 2;
    for (let s = 1; s <= seconds; s++) {
      const tMs = T0 + s * 1000;
      for (const [i, stage] of stages.entries()) {
        const id = ids[i] as string;
        const b = stage.apply({ deviceId: id, time: new Date(tMs).toISOString(), device, bms }).bms?.battery;
        whAt.get(id)?.set(tMs, b?.whCharged ?? Number.NaN);
      }
      for (const id of ids) {
        const at = rowOf(id)?.savedMs;
        const list = saved.get(id) as number[];
        if (at !== undefined && at !== list.at(-1)) list.push(at);
      }
    }
    const end = T0 + seconds * 1000;
    for (const id of ids) {
      const list = saved.get(id) as number[];
      // One save per interval (the first within the first interval), never two in one.
      expect(list.length).toBeGreaterThanOrEqual(4);
      expect(list.length).toBeLessThanOrEqual(5);
      for (let k = 1; k < list.length; k++)
        expect((list[k] as number) - (list[k - 1] as number)).toBeGreaterThanOrEqual(everyMs);
      // What a crash now would restore: counted no earlier than one interval (and a batch) ago.
      const last = list.at(-1) as number;
      expect(end - last).toBeLessThanOrEqual(everyMs + 1000);
      const snap = JSON.parse(rowOf(id)?.snapshot ?? "null") as {
        counters: { totals: { whCharged: number } };
      };
      expect(snap.counters.totals.whCharged).toBeGreaterThanOrEqual(whAt.get(id)?.get(last) ?? Number.NaN);
    }
    // Spread over the interval: the fleet's first saves fall in many different seconds.
    const firstSeconds = new Set(
      ids.map((id) => Math.floor(((saved.get(id) as number[])[0] as number) / 1000)),
    );
    expect(firstSeconds.size).toBeGreaterThan(ids.length / 2);
    reader.close();
    store.close();
  });

  test("flushDue writes a queued save once it waited batchMs, not before", () => {
    const path = join(dir, "flush-due.db");
    const store = new BatteryStateStore(path, 1000);
    const estimator = new BatteryStage({ deviceId: "x" }).estimator;
    estimator.update(T0, frames[0]!.bms);
    store.queue({ key: "pack", state: () => ({ snapshot: estimator.snapshot(), savedMs: T0 }) }, T0);
    store.flushDue(T0 + 999);
    expect(savedWh(path, "pack")).toBeUndefined();
    store.flushDue(T0 + 1000);
    expect(savedWh(path, "pack")).toBe(0);
    store.close();
  });

  test("stop writes every BMS of a device at once; close writes what is still queued", () => {
    const path = join(dir, "stop.db");
    const store = new BatteryStateStore(path, 60_000);
    const stage = new BatteryStage({ deviceId: "pack", intervalMs: 150, store, saveEveryMs: 1 });
    const nodeDevice = { ...device, uuid: "112233445566778899aabbcc", canId: 10 };
    /** Each reading with the same BMS also as CAN node 10: two BMSs of one device. */
    const both = (lap0: number) =>
      [...readings(lap0, 1)].map((r) =>
        stage.apply({ ...r, can: { "10": { canId: 10, kind: "bms", device: nodeDevice, bms: r.bms! } } }),
      );
    const last = both(0).at(-1) as Reading;
    // Saves were due at every reading but wait for their batch: nothing written yet.
    expect(savedWh(path, "pack")).toBeUndefined();
    expect(savedWh(path, "pack:can10")).toBeUndefined();
    stage.save(T0 + LAP_MS);
    expect(savedWh(path, "pack")).toBeCloseTo(last.bms?.battery?.whCharged as number, 12);
    expect(savedWh(path, "pack:can10")).toBeCloseTo(last.can?.["10"]?.bms?.battery?.whCharged as number, 12);
    // Counting on, queued again; close() writes them.
    const later = both(1).at(-1) as Reading;
    expect(savedWh(path, "pack")).toBeLessThan(later.bms?.battery?.whCharged as number);
    store.close();
    expect(savedWh(path, "pack")).toBeCloseTo(later.bms?.battery?.whCharged as number, 12);
    expect(savedWh(path, "pack:can10")).toBeCloseTo(later.can?.["10"]?.bms?.battery?.whCharged as number, 12);
  });

  test("a failed batch loses no BMS: the others are saved on the next flush, and on stop", () => {
    const path = join(dir, "failed-batch.db");
    const told: string[] = [];
    const store = new BatteryStateStore(path, 60_000, (m) => told.push(m));
    const a = new BatteryStage({ deviceId: "a", intervalMs: 150, store, saveEveryMs: 1 });
    const b = new BatteryStage({ deviceId: "b", intervalMs: 150, store, saveEveryMs: 1 });
    const lastA = run(a, 0, 1).at(-1) as BatteryReading;
    const lastB = run(b, 0, 1).at(-1) as BatteryReading;
    const heal = failWrites(path, "b");
    // b's row fails, the transaction rolls back: a was not saved either.
    expect(store.flush()).toBe(false);
    expect(savedWh(path, "a")).toBeUndefined();
    heal();
    // Stop: a is still unsaved (not forgotten as saved), so it is written now.
    a.save(T0 + LAP_MS);
    expect(savedWh(path, "a")).toBeCloseTo(lastA.whCharged, 12);
    b.save(T0 + LAP_MS);
    expect(savedWh(path, "b")).toBeCloseTo(lastB.whCharged, 12);
    store.close();
    expect(told).toEqual([
      expect.stringMatching(/^battery state not saved .*disk full/),
      "battery state saves work again",
    ]);
  });

  test("a BMS whose snapshot cannot be taken does not stop the others' saves, and is reported", () => {
    const path = join(dir, "bad-snapshot.db");
    const told: string[] = [];
    const store = new BatteryStateStore(path, 60_000, (m) => told.push(m));
    const a = new BatteryStage({ deviceId: "a", intervalMs: 150, store, saveEveryMs: 1 });
    const lastA = run(a, 0, 1).at(-1) as BatteryReading;
    const broken = {
      key: "broken",
      state(): never {
        throw new Error("snapshot failed");
      },
    };
    store.queue(broken, T0 + LAP_MS);
    store.queue(broken, T0 + LAP_MS + 60_000); // due: the batch goes out
    expect(savedWh(path, "a")).toBeCloseTo(lastA.whCharged, 12);
    expect(savedWh(path, "broken")).toBeUndefined();
    store.close();
    expect(told).toEqual(["battery state broken not saved: snapshot failed"]);
  });

  test("a store that cannot write never throws into apply(): estimates go on, one report per episode", () => {
    const path = join(dir, "store-down.db");
    const told: string[] = [];
    const store = new BatteryStateStore(path, 1000, (m) => told.push(m));
    const a = new BatteryStage({ deviceId: "a", intervalMs: 150, store, saveEveryMs: 1000 });
    const heal = failWrites(path);
    // ~21 s of readings: a save due every second, each batch fails.
    const down = run(a, 0, 1);
    expect(down).toHaveLength(139);
    expect(savedWh(path, "a")).toBeUndefined();
    expect(told).toEqual([expect.stringMatching(/^battery state not saved .*disk full/)]);
    heal();
    const up = run(a, 1, 1);
    expect(savedWh(path, "a")).toBeGreaterThan(0);
    expect(savedWh(path, "a")).toBeLessThanOrEqual((up.at(-1) as BatteryReading).whCharged);
    store.close();
    expect(told).toHaveLength(2);
    expect(told[1]).toBe("battery state saves work again");
  });

  test("without a store a restart counts from zero (what the store prevents)", () => {
    run(new BatteryStage({ deviceId: "pack", intervalMs: 150 }), 0, 2);
    const again = run(new BatteryStage({ deviceId: "pack", intervalMs: 150 }), 2, 1);
    expect((again[0] as BatteryReading).whCharged).toBe(0);
  });

  test("saved state that does not parse is reported and the counters start anew", () => {
    const path = join(dir, "bad.db");
    const store = new BatteryStateStore(path);
    store.save("pack", { version: 99 }, T0);
    const told: string[] = [];
    const stage = new BatteryStage({ deviceId: "pack", store, onRestoreError: (m) => told.push(m) });
    const whCharged = stage.estimator.snapshot().counters.totals.whCharged;
    store.close();
    expect(told).toEqual([expect.stringMatching(/^battery state not restored: version/)]);
    expect(whCharged).toBe(0);
  });

  test("a row with a corrupt cell health restores its energy totals, reported; the next save keeps them", () => {
    const path = join(dir, "bad-cell-health.db");
    const store = new BatteryStateStore(path);
    const first = new BatteryStage({ deviceId: "pack", intervalMs: 150, store });
    const end = (run(first, 0, 1).at(-1) as BatteryReading).whCharged;
    first.save(T0 + LAP_MS);
    const row = store.load("pack");
    const snap = { ...(row?.snapshot as object), cellHealth: { version: 2, cells: "garbage" } };
    store.save("pack", snap, T0 + LAP_MS, row?.identity);
    const warned: string[] = [];
    const failed: string[] = [];
    const again = new BatteryStage({
      deviceId: "pack",
      intervalMs: 150,
      store,
      onRestoreError: (m) => failed.push(m),
      onRestoreWarning: (m) => warned.push(m),
    });
    const next = run(again, 1, 1);
    again.save(T0 + 2 * LAP_MS);
    store.close();
    expect(failed).toEqual([]);
    expect(warned).toEqual([expect.stringMatching(/^battery state partly restored: cellHealth/)]);
    expect((next[0] as BatteryReading).whCharged).toBeGreaterThanOrEqual(end);
    expect(savedWh(path, "pack")).toBeGreaterThan(end);
  });

  test("state counted on another device or pack is not inherited by a reused device id", () => {
    const path = join(dir, "identity.db");
    const store = new BatteryStateStore(path);
    const first = new BatteryStage({ deviceId: "pack", intervalMs: 150, store });
    run(first, 0, 2);
    first.save(T0 + 2 * LAP_MS);
    const [r] = [...readings(2, 1)];
    const told: string[] = [];
    const other = { ...(r as Reading), device: { ...device, uuid: "0a0b0c0d0e0f000000000000" } };
    // The same device again continues (and saves its state back).
    const same = new BatteryStage({ deviceId: "pack", store }).apply(r as Reading).bms?.battery;
    const swapped = new BatteryStage({ deviceId: "pack", store, onRestoreError: (m) => told.push(m) });
    const b = swapped.apply(other).bms?.battery;
    store.close();
    expect(told).toEqual([
      `battery state not restored: it was counted on device ${device.uuid} with 20 cells, this is 0a0b0c0d0e0f000000000000 with 20 cells`,
    ]);
    expect(b?.whCharged).toBe(0);
    expect(same?.whCharged).toBeGreaterThan(0.1);
  });

  test("a frozen BMS reply is not counted again: the last estimate rides on it", () => {
    const stage = new BatteryStage({ deviceId: "pack", intervalMs: 150 });
    const [r1, r2] = [...readings(0, 1)];
    const b1 = stage.apply(r1 as Reading).bms?.battery;
    const stale = { ...(r2 as Reading), bms: { ...(r2 as Reading).bms!, stale: true } };
    expect(stage.apply(stale).bms?.battery).toBe(b1);
  });

  test("a CAN BMS node gets its own estimator, saved under its own key beside the device's", () => {
    const path = join(dir, "can.db");
    const nodeDevice = { ...device, hardware: "VESC BMS", uuid: "112233445566778899aabbcc", canId: 10 };
    /** The capture as a CAN BMS node (id 10) of a device that reads no BMS of its own. */
    const viaCan = (r: Reading): Reading => {
      const { bms, ...rest } = r;
      return {
        ...rest,
        can: { "10": { canId: 10, kind: "bms", device: nodeDevice, ...(bms ? { bms } : {}) } },
      };
    };
    const nodeRun = (stage: BatteryStage, lap0: number, laps: number) =>
      [...readings(lap0, laps)].map((r) => {
        const b = stage.apply(viaCan(r)).can?.["10"]?.bms?.battery;
        if (!b) throw new Error("no battery estimate on the CAN node");
        return b;
      });
    const store1 = new BatteryStateStore(path);
    const stage1 = new BatteryStage({ deviceId: "pack", intervalMs: 150, store: store1 });
    const first = nodeRun(stage1, 0, 2);
    stage1.save(T0 + 2 * LAP_MS);
    expect(first.every((b) => b.socEstimatePercent !== null && b.socEstimatePercent >= 95)).toBe(true);
    const end1 = (first.at(-1) as BatteryReading).whCharged;
    expect(end1).toBeGreaterThan(0.1);
    // Only the node's row: the device read no BMS of its own.
    expect(store1.load("pack")).toBeUndefined();
    expect(store1.load("pack:can10")?.identity).toEqual({ deviceUuid: nodeDevice.uuid, cells: 20 });
    store1.close();

    const store2 = new BatteryStateStore(path);
    const stage2 = new BatteryStage({ deviceId: "pack", intervalMs: 150, store: store2 });
    const again = nodeRun(stage2, 2, 1);
    // Continued from exactly what was saved on stop, and still counting.
    expect((again[0] as BatteryReading).whCharged).toBeGreaterThanOrEqual(end1);
    expect((again.at(-1) as BatteryReading).whCharged).toBeGreaterThan(end1);
    expect(stage2.nodeEstimator(10)).toBeDefined();
    // The device's own BMS beside it counts from zero under the device id, as before.
    const [both] = [...readings(3, 1)].map((r) => stage2.apply({ ...viaCan(r), bms: r.bms }));
    expect(both?.bms?.battery?.whCharged).toBe(0);
    expect(both?.can?.["10"]?.bms?.battery?.whCharged).toBeGreaterThan(end1);
    stage2.save(T0 + 4 * LAP_MS);
    expect(store2.load("pack")?.identity).toEqual({ deviceUuid: device.uuid, cells: 20 });
    store2.close();
  });

  test("a CAN node's saved state is not restored onto another node's pack", () => {
    const store = new BatteryStateStore(join(dir, "can-identity.db"));
    store.save("pack:can10", new BatteryStage({ deviceId: "x" }).estimator.snapshot(), T0, {
      deviceUuid: "aaaaaaaaaaaaaaaaaaaaaaaa",
      cells: 20,
    });
    const told: string[] = [];
    const stage = new BatteryStage({ deviceId: "pack", store, onRestoreError: (m) => told.push(m) });
    const [r] = [...readings(0, 1)];
    const nodeDevice = { ...device, uuid: "bbbbbbbbbbbbbbbbbbbbbbbb", canId: 10 };
    stage.apply({
      ...(r as Reading),
      can: { "10": { canId: 10, kind: "bms", device: nodeDevice, bms: (r as Reading).bms! } },
    });
    store.close();
    expect(told).toEqual([
      "battery state of CAN node 10 not restored: it was counted on device aaaaaaaaaaaaaaaaaaaaaaaa with 20 cells, this is bbbbbbbbbbbbbbbbbbbbbbbb with 20 cells",
    ]);
  });

  test("motor nodes and failed nodes pass untouched; battery: false passes every reading as it is", () => {
    const [r] = [...readings(0, 1)];
    const reading: Reading = {
      ...(r as Reading),
      can: {
        "84": { canId: 84, kind: "motor", values: { inputVoltage: 83.5 } },
        "10": { canId: 10, kind: "bms", error: "timeout" },
      },
    };
    const out = new BatteryStage({ deviceId: "pack" }).apply(reading);
    expect(out.can).toBe(reading.can);
    expect(out.bms?.battery).toBeDefined();
    const store = new BatteryStateStore(join(dir, "off.db"));
    const off = new BatteryStage({ deviceId: "pack", config: false, store });
    expect(off.enabled).toBe(false);
    expect(off.apply(reading)).toBe(reading);
    off.save(T0);
    expect(store.load("pack")).toBeUndefined();
    store.close();
  });

  test("batteryReadingOf: the largest resistance and the drift farthest from zero", () => {
    const e = new BatteryStage({ deviceId: "x" }).estimator.update(T0, frames[0]!.bms);
    const r = batteryReadingOf({
      ...e,
      cellResistanceOhm: [0.02, null, 0.03],
      cellDriftV: [0.001, -0.004, null],
    });
    expect(r.maxCellResistanceOhm).toBe(0.03);
    expect(r.maxCellDriftV).toBe(-0.004);
    expect("timeMs" in r).toBe(false);
  });
});
