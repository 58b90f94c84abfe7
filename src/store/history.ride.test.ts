/**
 * Ride values in the history: stored from the first CAN node with ride values, back through
 * query and CSV, and added in place to a file written before they were stored.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import type { Reading, RideReading } from "../model/reading.js";
import { HistoryStore } from "./history.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-ride-history-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse("2025-06-01T08:00:00Z");
const RIDE_COLUMNS = [
  "ride_speed_kmh",
  "ride_speed_mph",
  "ride_trip_km",
  "ride_odometer_km",
  "ride_battery_percent",
  "ride_wh_left",
  "ride_wh_per_km",
];

function riding(i: number, ride: RideReading): Reading {
  const r = syntheticReading({ time: T0 + i * 1000, step: i });
  return {
    ...r,
    can: {
      "84": { canId: 84, kind: "motor", values: { erpm: 6000 }, ride },
      // A second node's ride values are not the board's: the first node with any is stored.
      "85": { canId: 85, kind: "motor", values: { erpm: 1 }, ride: { speedKmh: 99, tripKm: 99 } },
    },
  };
}

/** The query's series by value id: ride values are keyed by their catalogue id. */
const series = (s: { series: object }) => s.series as Record<string, (number | null)[]>;

describe("ride values in the history", () => {
  test("speed, trip, odometer, battery and Wh/km come back from query and CSV", () => {
    const store = HistoryStore.open({ path: join(dir, "h.db") });
    try {
      store.insert([
        riding(0, {
          speedKmh: 21.37,
          tripKm: 3.514,
          odometerKm: 1698.151,
          batteryPercent: 80.6,
          whPerKm: null,
        }),
        riding(1, {
          speedKmh: 22.5,
          tripKm: 3.52,
          odometerKm: 1698.157,
          batteryPercent: 80.5,
          whPerKm: 18.2,
        }),
      ]);
      const s = store.query({ deviceId: "pack", from: T0, to: T0 + 1000 });
      expect(series(s)["ride.speedKmh"]).toEqual([21.37, 22.5]);
      expect(series(s)["ride.tripKm"]).toEqual([3.514, 3.52]);
      expect(series(s)["ride.odometerKm"]).toEqual([1698.151, 1698.157]);
      expect(series(s)["ride.batteryPercent"]).toEqual([80.6, 80.5]);
      expect(series(s)["ride.whPerKm"]).toEqual([null, 18.2]);
      expect(series(s)["ride.speedMph"]).toEqual([null, null]);
      const csv = [...store.csv({ deviceId: "pack", from: T0, to: T0 + 1000 })];
      const header = (csv[0] ?? "").trim().split(",");
      for (const c of RIDE_COLUMNS) expect(header).toContain(c);
      const row = (csv[2] ?? "").trim().split(",");
      expect(row[header.indexOf("ride_speed_kmh")]).toBe("22.5");
      expect(row[header.indexOf("ride_odometer_km")]).toBe("1698.157");
    } finally {
      store.close();
    }
  });

  test("a file written before ride values were stored gains their columns in place", () => {
    const path = join(dir, "before-ride.db");
    HistoryStore.open({ path }).close();
    const db = new Database(path);
    try {
      for (const c of RIDE_COLUMNS) db.exec(`ALTER TABLE readings DROP COLUMN ${c}`);
      db.prepare("INSERT INTO devices (id, name) VALUES (1, 'pack')").run();
      db.prepare("INSERT INTO readings (device, t, pack_voltage) VALUES (1, ?, 70000)").run(T0);
    } finally {
      db.close();
    }
    const log: string[] = [];
    const store = HistoryStore.open({ path, log: (m) => log.push(m) });
    try {
      expect(log.join("\n")).toContain("ride_speed_kmh");
      store.insert([riding(1, { speedKmh: 20, tripKm: 1 })]);
      const s = store.query({ deviceId: "pack", from: T0, to: T0 + 1000 });
      expect(s.series.packVoltage?.[0]).toBe(70);
      expect(series(s)["ride.speedKmh"]).toEqual([null, 20]);
    } finally {
      store.close();
    }
  });
});
