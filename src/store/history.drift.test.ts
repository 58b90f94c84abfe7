import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { scratchDataDir } from "../../test/helpers/dataDir.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import type { Reading } from "../model/reading.js";
import { HistoryStore } from "./history.js";
import { DAY_MS, HOUR_MS, MAX_SLOTS, ROWS_PER_SLOT } from "./historyDrift.js";

const T0 = Date.parse("2025-03-01T00:00:00Z");
let store: HistoryStore | undefined;
afterEach(() => {
  store?.close();
  store = undefined;
});

const open = () => {
  store = HistoryStore.open({ path: join(scratchDataDir(), "h.db"), retentionDays: 365 });
  return store;
};

/** A reading with these cells (V, null = implausible) and currents (A). */
function reading(t: number, cells: Array<number | null>, currentA: number, currentIcA = currentA): Reading {
  const r = syntheticReading({ time: t, cells: cells.length });
  return {
    ...r,
    bms: { ...(r.bms as NonNullable<Reading["bms"]>), cells, current: currentA, currentIc: currentIcA },
  };
}

const week = (days: number) => ({ from: T0, to: T0 + days * DAY_MS - 1, restCurrentA: 0.5 });

describe("cell drift from history", () => {
  test("each cell's mean deviation from the pack mean at rest, per day; load is left out", () => {
    const s = open();
    const rows: Reading[] = [];
    for (let day = 0; day < 3; day++) {
      // Cell 3 sinks 10 mV a day at rest; under load it sags 100 mV (must not count).
      const c3 = 3.89 - day * 0.01;
      for (let m = 0; m < 60; m++) {
        const t = T0 + day * DAY_MS + 6 * HOUR_MS + m * 60_000;
        rows.push(reading(t, [3.9, 3.905, c3, 3.905], 0.2));
        rows.push(reading(t + 30_000, [3.8, 3.805, c3 - 0.1, 3.805], -12));
      }
    }
    s.insert(rows);
    const d = s.cellDrift({ deviceId: "pack", ...week(3), bucketMs: DAY_MS });
    expect(d.cells).toBe(4);
    expect(d.points.map((p) => p.rows)).toEqual([60, 60, 60]);
    expect(d.points.map((p) => p.driftMv)).toEqual([
      [0, 5, -10, 5],
      [2.5, 7.5, -17.5, 7.5],
      [5, 10, -25, 10],
    ]);
    // Mean time of the rest readings in each day.
    expect(d.points[0]?.t).toBe(T0 + 6 * HOUR_MS + 29.5 * 60_000);
    expect(d.mostDrifting).toEqual({ cell: 3, driftMv: -25, changeMv: -15 });
    expect(d.sample.restRows).toBe(180);

    const hourly = s.cellDrift({ deviceId: "pack", ...week(3), bucketMs: HOUR_MS });
    expect(hourly.points).toHaveLength(3);
    expect(hourly.points[2]?.driftMv).toEqual([5, 10, -25, 10]);
  });

  test("rest is the current the BMS measures: i_in when i_in_ic reads 0, and the configured threshold", () => {
    const s = open();
    s.insert([
      // i_in_ic 0 and i_in under load: not rest although i_in_ic says 0.
      reading(T0, [3.9, 3.8], -20, 0),
      reading(T0 + 1000, [3.9, 3.88], 0.3, 0),
      reading(T0 + 2000, [3.9, 3.86], 1.5),
    ]);
    const at = (restCurrentA: number) =>
      s.cellDrift({ deviceId: "pack", ...week(1), restCurrentA, bucketMs: DAY_MS }).points[0]?.driftMv;
    expect(at(0.5)).toEqual([10, -10]);
    expect(at(2)).toEqual([15, -15]);
  });

  test("a device without history, and one without any rest, answer empty", () => {
    const s = open();
    expect(s.cellDrift({ deviceId: "nobody", ...week(30), bucketMs: DAY_MS })).toMatchObject({
      cells: 0,
      points: [],
      mostDrifting: null,
    });
    s.insert([reading(T0, [3.9, 3.8], -20), reading(T0 + 1000, [3.9, 3.8], -25)]);
    const d = s.cellDrift({ deviceId: "pack", ...week(30), bucketMs: DAY_MS });
    expect(d).toMatchObject({ cells: 0, points: [], mostDrifting: null });
    expect(d.sample.slots).toBeGreaterThan(0);
  });

  test("implausible cells are left out of the mean and of their own average", () => {
    const s = open();
    s.insert([
      reading(T0, [3.9, 3.91, null, 3.89], 0),
      reading(T0 + 1000, [3.9, 3.91, 3.7, 3.89], 0),
      // One plausible cell: no mean to deviate from, the row counts for nothing.
      reading(T0 + 2000, [null, 3.95, null, null], 0),
      reading(T0 + 3000, [null, null, null, null], 0),
    ]);
    const d = s.cellDrift({ deviceId: "pack", ...week(1), bucketMs: DAY_MS });
    expect(d.points).toHaveLength(1);
    expect(d.points[0]?.rows).toBe(2);
    // Row 1: mean 3.900 → 0, 10, –, -10. Row 2: mean 3.850 → 50, 60, -150, 40.
    expect(d.points[0]?.driftMv).toEqual([25, 35, -150, 15]);

    const never = open();
    never.insert([reading(T0, [3.9, 3.91, null], 0), reading(T0 + 1000, [3.9, 3.93, null], 0)]);
    expect(never.cellDrift({ deviceId: "pack", ...week(1), bucketMs: DAY_MS }).points[0]?.driftMv).toEqual([
      -10,
      10,
      null,
    ]);
    never.close();
  });

  test("after a cell-count change only readings with the newest count are drawn", () => {
    const s = open();
    s.insert([
      reading(T0, [3.9, 3.8, 3.7], 0),
      reading(T0 + DAY_MS, [3.9, 3.8, 3.7], 0),
      reading(T0 + 2 * DAY_MS, [3.9, 3.91, 3.92, 3.93], 0),
      reading(T0 + 2 * DAY_MS + 1000, [3.9, 3.91, 3.92, 3.93], 0),
    ]);
    const d = s.cellDrift({ deviceId: "pack", ...week(3), bucketMs: DAY_MS });
    expect(d.cells).toBe(4);
    expect(d.points).toHaveLength(1);
    expect(d.points[0]?.driftMv).toEqual([-15, -5, 5, 15]);
    expect(d.sample.otherCellCountRows).toBe(2);
  });

  test("30 days of 1 Hz are read in bounded slots; complete days are kept, a late write is seen", () => {
    const s = open();
    const rows: Reading[] = [];
    // One day at 1 Hz; riding (−10 A) the first 20 minutes of every hour.
    for (let i = 0; i < 86_400; i++) {
      const riding = i % 3600 < 1200;
      rows.push(reading(T0 + 20 * DAY_MS + i * 1000, [3.9, 3.9, riding ? 3.8 : 3.894], riding ? -10 : 0.1));
    }
    s.insert(rows);
    const q = { deviceId: "pack", ...week(30), bucketMs: DAY_MS };
    const started = performance.now();
    const d = s.cellDrift(q);
    const ms = performance.now() - started;
    expect(d.sample.slots).toBeLessThanOrEqual(MAX_SLOTS);
    expect(d.sample.maxRowsRead).toBe(d.sample.slots * ROWS_PER_SLOT);
    // 66 slots cover the day: each reads its first 30 rows, 2/3 of them at rest.
    expect(d.sample.restRows).toBeGreaterThan(500);
    expect(d.sample.restRows).toBeLessThan(rows.length / 20);
    expect(d.points).toHaveLength(1);
    expect(d.points[0]?.driftMv).toEqual([2, 2, -4]);
    console.log(
      `cell drift: 30 days (${rows.length} rows at 1 Hz in one day) in ${ms.toFixed(1)} ms, ${d.sample.slots} slots, ${d.sample.restRows} rest rows`,
    );

    // Every day of the range is complete: the second query reads no slot at all.
    expect(s.cellDrift(q).sample.slots).toBe(0);
    // A reading written into a kept day (a replay) is seen by the next query.
    s.insert([reading(T0 + 20 * DAY_MS + 500, [3.9, 3.9, 2.9], 0)]);
    const after = s.cellDrift(q);
    expect(after.sample.slots).toBeGreaterThan(0);
    expect(after.points[0]?.driftMv[2]).toBeLessThan(-4);
  });

  test("a prune forgets kept days", () => {
    const s = open();
    s.insert([reading(T0, [3.9, 3.8], 0), reading(T0 + DAY_MS, [3.9, 3.86], 0)]);
    const q = { deviceId: "pack", ...week(2), bucketMs: DAY_MS };
    expect(s.cellDrift(q).points).toHaveLength(2);
    // Retention 365 days: a prune "now" a year after the first day deletes it.
    s.prune(T0 + 365 * DAY_MS + 1);
    const d = s.cellDrift(q);
    expect(d.points).toHaveLength(1);
    expect(d.points[0]?.driftMv).toEqual([20, -20]);
  });

  test("the kept buckets are bounded over all devices, not only per device", () => {
    const s = open();
    const devices = Array.from({ length: 70 }, (_, i) => `d${i}`);
    s.insert(devices.map((id) => ({ ...reading(T0, [3.9, 3.91], 0), deviceId: id })));
    // 14 days of hours: 336 complete buckets a device, 23,520 for all of them.
    const q = { from: T0, to: T0 + 14 * DAY_MS - 1, restCurrentA: 0.5, bucketMs: HOUR_MS };
    const reader = () =>
      (s as unknown as { drift: { cachedBuckets: number; cache: Map<number, Map<string, unknown>> } }).drift;
    for (const deviceId of devices) {
      expect(s.cellDrift({ ...q, deviceId }).points.length).toBeLessThanOrEqual(336);
      const held = [...reader().cache.values()].reduce((n, m) => n + m.size, 0);
      expect(held).toBeLessThanOrEqual(20_000);
    }
    const held = [...reader().cache.values()].reduce((n, m) => n + m.size, 0);
    expect(reader().cachedBuckets).toBe(held);
  });
});
