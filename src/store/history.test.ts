import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { Bus } from "../model/bus.js";
import { HistoryStore, isHistoryError } from "./history.js";
import { HistorySink } from "./historySink.js";
import { SCHEMA_VERSION } from "./historySchema.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-history-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse("2025-03-01T00:00:00Z");

describe("HistoryStore", () => {
  test("stores readings losslessly at protocol resolution and derives power and cell stats", () => {
    const store = HistoryStore.open({ path: join(dir, "h.db") });
    try {
      const readings = Array.from({ length: 5 }, (_, i) =>
        syntheticReading({ time: T0 + i * 1000, step: i, balancing: i === 2 ? [4, 17] : [] }),
      );
      store.insert(readings);
      const s = store.query({ deviceId: "pack", from: T0, to: T0 + 10_000 });
      expect(s.bucketMs).toBe(0);
      expect(s.time).toEqual(readings.map((r) => Date.parse(r.time)));
      expect(s.cells).toHaveLength(20);
      readings.forEach((r, i) => {
        const bms = r.bms!;
        expect(s.series.packVoltage[i]).toBe(bms.packVoltage);
        expect(s.series.current[i]).toBe(bms.current);
        expect(s.series.soc[i]).toBe(bms.soc);
        expect(s.series.wattHoursChargedTotal[i]).toBe(bms.wattHoursChargedTotal);
        expect(s.series.power[i]).toBeCloseTo(bms.packPower ?? Number.NaN, 3);
        expect(s.cells.map((series) => series[i])).toEqual(bms.cells);
        const cells = bms.cells.filter((c) => c !== null);
        expect(s.series.cellDelta[i]).toBeCloseTo(Math.max(...cells) - Math.min(...cells), 6);
        expect(s.temperatures[0]?.[i]).toBe(bms.temperatures[0]);
        expect(s.series.latencyMs[i]).toBe(r.latencyMs);
      });
      expect(s.balancing[3]?.[2]).toBe(1);
      expect(s.balancing[16]?.[2]).toBe(1);
      expect(s.balancing[3]?.[1]).toBe(0);
      expect(store.query({ deviceId: "other", from: T0, to: T0 + 10_000 }).time).toEqual([]);
    } finally {
      store.close();
    }
  });

  test("long ranges come back as bucket averages, at most maxPoints", () => {
    const store = HistoryStore.open({ path: join(dir, "h.db") });
    try {
      const n = 3000;
      store.insert(Array.from({ length: n }, (_, i) => syntheticReading({ time: T0 + i * 5000, step: i })));
      const to = T0 + (n - 1) * 5000;
      const raw = store.query({ deviceId: "pack", from: T0, to, maxPoints: n });
      const s = store.query({ deviceId: "pack", from: T0, to, maxPoints: 100 });
      expect(s.rows).toBe(n);
      expect(s.bucketMs).toBeGreaterThan(0);
      expect(s.time.length).toBeLessThanOrEqual(100);
      expect(s.time.length).toBeGreaterThanOrEqual(99);
      // First bucket = mean of the raw rows that fall in it.
      const inFirst = raw.time.filter((t) => t < T0 + s.bucketMs).length;
      const mean = (xs: Array<number | null>) => xs.reduce<number>((a, b) => a + (b ?? 0), 0) / xs.length;
      expect(s.series.packVoltage[0]).toBeCloseTo(mean(raw.series.packVoltage.slice(0, inFirst)), 3);
      expect(s.cells[6]?.[0]).toBeCloseTo(mean(raw.cells[6]!.slice(0, inFirst)), 3);
      const started = performance.now();
      store.query({ deviceId: "pack", from: T0, to, maxPoints: 500 });
      console.log(
        `history: bucketed query over ${n} rows took ${(performance.now() - started).toFixed(1)} ms`,
      );
    } finally {
      store.close();
    }
  });

  test("wide buckets come from minute averages, weighted, equal to the raw averages", () => {
    const store = HistoryStore.open({ path: join(dir, "h.db") });
    try {
      const n = 6 * 720; // 6 h at 5 s
      const readings = Array.from({ length: n }, (_, i) => {
        const r = syntheticReading({ time: T0 + i * 5000, step: i });
        return { ...r, bms: { ...r.bms!, packVoltage: 70 + i * 0.001 } };
      });
      for (let i = 0; i < n; i += 500) store.insert(readings.slice(i, i + 500));
      store.close(); // writes the last open minute
      const again = HistoryStore.open({ path: join(dir, "h.db") });
      const to = T0 + 24 * 900_000 - 1;
      const s = again.query({ deviceId: "pack", from: T0, to, maxPoints: 24 });
      expect(s.bucketMs).toBe(900_000);
      expect(s.time).toHaveLength(24);
      for (let b = 0; b < 24; b++) {
        const inBucket = readings.filter((r) => Math.floor((Date.parse(r.time) - T0) / 900_000) === b);
        const mean = (f: (r: (typeof readings)[number]) => number) =>
          inBucket.reduce((a, r) => a + f(r), 0) / inBucket.length;
        expect(s.series.packVoltage[b]).toBeCloseTo(
          mean((r) => r.bms.packVoltage),
          3,
        );
        expect(s.cells[4]?.[b]).toBeCloseTo(
          mean((r) => r.bms.cells[4] ?? 0),
          4,
        );
        expect(Math.abs((s.time[b] ?? 0) - mean((r) => Date.parse(r.time)))).toBeLessThan(30_000);
      }
      const started = performance.now();
      again.query({ deviceId: "pack", from: T0, to, maxPoints: 24 });
      console.log(
        `history: minute-average query over ${n} readings took ${(performance.now() - started).toFixed(1)} ms`,
      );
      again.close();
    } finally {
      store.close();
    }
  });

  test("a restart inside a minute merges into that minute's average", () => {
    const path = join(dir, "h.db");
    const minute = Math.floor(T0 / 60_000) * 60_000;
    const r = (sec: number, v: number) => {
      const x = syntheticReading({ time: minute + sec * 1000 });
      return { ...x, bms: { ...x.bms!, packVoltage: v } };
    };
    let store = HistoryStore.open({ path });
    store.insert([0, 5, 10, 15, 20, 25].map((sec) => r(sec, 80)));
    store.close();
    store = HistoryStore.open({ path });
    store.insert([30, 35, 40, 45, 50, 55].map((sec) => r(sec, 82)));
    store.insert([r(60, 90)]);
    store.close();
    const db = new Database(path, { readonly: true });
    try {
      const rows = db.prepare("SELECT t, n FROM rollup_1m ORDER BY t").all();
      expect(rows).toEqual([
        { t: minute, n: 12 },
        { t: minute + 60_000, n: 1 },
      ]);
    } finally {
      db.close();
    }
    store = HistoryStore.open({ path });
    try {
      const s = store.query({ deviceId: "pack", from: minute, to: minute + 3_599_999, maxPoints: 2 });
      expect(s.bucketMs).toBeGreaterThanOrEqual(300_000);
      expect(s.series.packVoltage[0]).toBeCloseTo((6 * 80 + 6 * 82 + 90) / 13, 3);
    } finally {
      store.close();
    }
  });

  test("CSV has one column per value, every cell, one line per reading", () => {
    const store = HistoryStore.open({ path: join(dir, "h.db") });
    try {
      const readings = Array.from({ length: 3 }, (_, i) =>
        syntheticReading({ time: T0 + i * 1000, step: i, balancing: [2] }),
      );
      store.insert(readings);
      const text = [...store.csv({ deviceId: "pack", from: T0, to: T0 + 5000 })].join("");
      const lines = text.trimEnd().split("\n");
      expect(lines).toHaveLength(4);
      const header = lines[0]!.split(",");
      expect(header[0]).toBe("time");
      for (let c = 1; c <= 20; c++) expect(header).toContain(`cell_${c}`);
      expect(header).toContain("pack_voltage");
      expect(header).toContain("balancing_2");
      const row = lines[2]!.split(",");
      expect(row).toHaveLength(header.length);
      expect(row[0]).toBe(readings[1]!.time);
      expect(Number(row[header.indexOf("cell_5")])).toBe(readings[1]!.bms!.cells[4]);
      expect(Number(row[header.indexOf("pack_voltage")])).toBe(readings[1]!.bms!.packVoltage);
      expect(row[header.indexOf("balancing_2")]).toBe("1");
      expect(row[header.indexOf("balancing_3")]).toBe("0");
    } finally {
      store.close();
    }
  });

  test("retention deletes readings and alerts older than the window, keeps the rest", () => {
    const store = HistoryStore.open({ path: join(dir, "h.db"), retentionDays: 2 });
    try {
      const day = 86_400_000;
      const now = T0 + 10 * day;
      const times = [now - 5 * day, now - 3 * day, now - 2 * day - 1, now - 2 * day + 1000, now - 1000];
      store.insert(times.map((t, i) => syntheticReading({ time: t, step: i })));
      store.insertAlerts(
        times.map((t) => ({
          deviceId: "pack",
          rule: "soc_low",
          active: true,
          message: "m",
          time: new Date(t).toISOString(),
        })),
      );
      expect(store.prune(now)).toEqual({ readings: 3, alerts: 3 });
      expect(store.query({ deviceId: "pack", from: 0, to: now }).time).toEqual(times.slice(3));
      expect(store.alerts({ deviceId: "pack", from: 0, to: now }).map((a) => Date.parse(a.time))).toEqual(
        times.slice(3),
      );
    } finally {
      store.close();
    }
  });

  test("retention deletes in bounded steps, so the caller can let other work run between them", () => {
    const store = HistoryStore.open({ path: join(dir, "h.db"), retentionDays: 1 });
    try {
      const day = 86_400_000;
      const now = T0 + 10 * day;
      for (const deviceId of ["a", "b", "c"]) {
        store.insert(
          Array.from({ length: 1200 }, (_, i) =>
            syntheticReading({ deviceId, time: now - 3 * day + i * 5000, step: i }),
          ),
        );
        store.insert([syntheticReading({ deviceId, time: now - 1000 })]);
      }
      store.insertAlerts(
        Array.from({ length: 700 }, (_, i) => ({
          deviceId: "a",
          rule: "soc_low",
          active: i % 2 === 0,
          message: "m",
          time: new Date(now - 2 * day + i).toISOString(),
        })),
      );
      const steps: Array<{ readings: number; alerts: number }> = [];
      const it = store.pruneSteps(now, 500);
      let last: { readings: number; alerts: number };
      for (;;) {
        const r = it.next();
        if (r.done) {
          last = r.value;
          break;
        }
        steps.push(r.value);
      }
      expect(last).toEqual({ readings: 3600, alerts: 700 });
      expect(steps.length).toBeGreaterThanOrEqual(8);
      let before = { readings: 0, alerts: 0 };
      for (const step of [...steps, last]) {
        expect(step.readings - before.readings + step.alerts - before.alerts).toBeLessThanOrEqual(500);
        before = step;
      }
      expect(store.stats()).toMatchObject({ readings: 3, alerts: 0 });
    } finally {
      store.close();
    }
  });

  test("a corrupt file gives HistoryError Corrupt naming the file", () => {
    const path = join(dir, "bad.db");
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    let caught: unknown;
    try {
      HistoryStore.open({ path });
    } catch (e) {
      caught = e;
    }
    expect(isHistoryError(caught)).toBe(true);
    expect(isHistoryError(caught) && caught.code).toBe("Corrupt");
    expect((caught as Error).message).toContain(path);
  });

  test("a write while another process holds the lock gives HistoryError Locked", () => {
    const path = join(dir, "h.db");
    const store = HistoryStore.open({ path, busyTimeoutMs: 50 });
    const other = new Database(path);
    try {
      other.exec("BEGIN EXCLUSIVE");
      let caught: unknown;
      try {
        store.insert([syntheticReading({ time: T0 })]);
      } catch (e) {
        caught = e;
      }
      expect(isHistoryError(caught) && caught.code).toBe("Locked");
      other.exec("ROLLBACK");
      store.insert([syntheticReading({ time: T0 })]);
      expect(store.stats().readings).toBe(1);
    } finally {
      other.close();
      store.close();
    }
  });

  test("measures bytes per stored 20-cell reading", () => {
    const path = join(dir, "size.db");
    const store = HistoryStore.open({ path });
    const n = 20_000;
    const started = performance.now();
    for (let i = 0; i < n; i += 1000)
      store.insert(
        Array.from({ length: 1000 }, (_, k) => syntheticReading({ time: T0 + (i + k) * 5000, step: i + k })),
      );
    const insertMs = performance.now() - started;
    store.checkpoint();
    store.close();
    const perReading = statSync(path).size / n;
    console.log(
      `history: ${perReading.toFixed(1)} bytes per 20-cell reading (file ${statSync(path).size} B for ${n}); insert ${((insertMs * 1000) / n).toFixed(1)} µs/reading`,
    );
    // Raw row ~134 B + minute averages ~26 B at a 5 s interval. float64 columns + JSON
    // cells would be ~600 B; the compact layout must stay well below.
    expect(perReading).toBeLessThan(200);
  });
});

describe("HistorySink on a real Bus", () => {
  // Recent times: the sink prunes past-retention rows when it starts.
  const T0 = Date.now() - 3_600_000;
  test("stores bus readings and alerts; the data survives a restart", async () => {
    const path = join(dir, "sink.db");
    const bus = new Bus();
    const sink = new HistorySink({ bus, path, flushMs: 20 });
    await sink.start();
    for (let i = 0; i < 10; i++) bus.emit("reading", syntheticReading({ time: T0 + i * 1000, step: i }));
    bus.emit("alert", {
      deviceId: "pack",
      rule: "cell_delta",
      active: true,
      message: "cell 3 low",
      time: new Date(T0).toISOString(),
    });
    await waitFor(() => sink.store?.stats().readings === 10);
    await sink.stop();
    expect(bus.listenerCount("reading")).toBe(0);

    const again = new HistorySink({ bus, path });
    await again.start();
    try {
      expect(again.store?.query({ deviceId: "pack", from: T0, to: T0 + 60_000 }).time).toHaveLength(10);
      expect(again.store?.alerts({ from: T0, to: T0 + 1 }).map((a) => a.message)).toEqual(["cell 3 low"]);
    } finally {
      await again.stop();
    }
  });

  test("pruning at start does not hold up start(): it runs in steps while the bridge works", async () => {
    const path = join(dir, "prune.db");
    const old = Date.now() - 3 * 86_400_000;
    const store = HistoryStore.open({ path });
    store.insert(
      Array.from({ length: 12_000 }, (_, i) => syntheticReading({ time: old + i * 1000, step: i })),
    );
    store.close();
    const bus = new Bus();
    const logged: string[] = [];
    const sink = new HistorySink({
      bus,
      path,
      retentionDays: 1,
      logger: { error: (m) => logged.push(m), warn: (m) => logged.push(m), info: (m) => logged.push(m) },
    });
    await sink.start();
    try {
      // start() returned with most of the expired rows still there, and readings flow meanwhile.
      expect(sink.pruneRunning).toBe(true);
      expect(sink.store?.stats().readings).toBeGreaterThan(0);
      bus.emit("reading", syntheticReading({ time: Date.now() }));
      await waitFor(() => !sink.pruneRunning);
      sink.flush();
      expect(sink.store?.stats().readings).toBe(1);
      expect(logged).toContain("history: pruned 12000 readings and 0 alerts past retention");
    } finally {
      await sink.stop();
    }
  });

  test("a corrupt database does not stop the sink; the error is kept and logged", async () => {
    const path = join(dir, "bad.db");
    writeFileSync(
      path,
      "this is not sqlite, just text that is long enough to be read as a header ".repeat(20),
    );
    const logged: string[] = [];
    const bus = new Bus();
    const sink = new HistorySink({
      bus,
      path,
      logger: { error: (m) => logged.push(m), warn: (m) => logged.push(m), info: () => {} },
    });
    await sink.start();
    expect(sink.error?.code).toBe("Corrupt");
    expect(logged).toHaveLength(1);
    bus.emit("reading", syntheticReading({ time: T0 }));
    await sink.stop();
  });

  test("writes blocked by a lock are retried and land once the lock is gone", async () => {
    const path = join(dir, "locked.db");
    const bus = new Bus();
    const sink = new HistorySink({ bus, path, flushMs: 20, busyTimeoutMs: 10 });
    await sink.start();
    const other = new Database(path);
    try {
      other.exec("BEGIN EXCLUSIVE");
      bus.emit("reading", syntheticReading({ time: T0 }));
      await waitFor(() => sink.error?.code === "Locked");
      bus.emit("reading", syntheticReading({ time: T0 + 1000 }));
      other.exec("ROLLBACK");
      await waitFor(() => sink.error === undefined && sink.store?.stats().readings === 2);
    } finally {
      other.close();
      await sink.stop();
    }
  });

  /** A logger that keeps every line, by level. */
  const lines = () => {
    const out: string[] = [];
    return {
      out,
      logger: {
        error: (m: string) => out.push(`error ${m}`),
        warn: (m: string) => out.push(`warn ${m}`),
        info: (m: string) => out.push(`info ${m}`),
      },
    };
  };

  test("a lock held by another connection costs a flush milliseconds, not seconds; rows land after", async () => {
    const path = join(dir, "held.db");
    const bus = new Bus();
    // Flushed by hand: the timer must not race the measurement.
    const sink = new HistorySink({ bus, path, flushMs: 3_600_000 });
    await sink.start();
    // A device already known: the next insert goes straight for the write lock.
    bus.emit("reading", syntheticReading({ time: T0 - 1000 }));
    sink.flush();
    const other = new Database(path);
    try {
      other.exec("BEGIN EXCLUSIVE");
      for (let i = 0; i < 5; i++) bus.emit("reading", syntheticReading({ time: T0 + i * 1000, step: i }));
      const started = performance.now();
      sink.flush();
      const waitedMs = performance.now() - started;
      expect(sink.error?.code).toBe("Locked");
      // SQLite's busy wait is synchronous: this is how long polling and MQTT stood still.
      // The default is a few tens of ms; the bound is generous for a loaded machine.
      expect(waitedMs).toBeLessThan(500);
      sink.flush();
      expect(sink.error?.code).toBe("Locked");
      other.exec("ROLLBACK");
      sink.flush();
      expect(sink.error).toBeUndefined();
      expect(sink.store?.stats().readings).toBe(6);
    } finally {
      other.close();
      await sink.stop();
    }
  });

  test("a long lock overflows a bounded backlog: oldest dropped, counted, logged once", async () => {
    const path = join(dir, "backlog.db");
    const bus = new Bus();
    const log = lines();
    const sink = new HistorySink({ bus, path, flushMs: 3_600_000, maxBacklog: 3, logger: log.logger });
    await sink.start();
    const other = new Database(path);
    try {
      other.exec("BEGIN EXCLUSIVE");
      for (let i = 0; i < 5; i++) bus.emit("reading", syntheticReading({ time: T0 + i * 1000, step: i }));
      sink.flush();
      for (let i = 5; i < 7; i++) bus.emit("reading", syntheticReading({ time: T0 + i * 1000, step: i }));
      sink.flush();
      expect(log.out.filter((l) => l.startsWith("warn")).length).toBe(1);
      expect(log.out.filter((l) => /locked/.test(l)).length).toBe(1);
      other.exec("ROLLBACK");
      sink.flush();
      const s = sink.store?.query({ deviceId: "pack", from: T0, to: T0 + 10_000 });
      expect(s?.time).toEqual([T0 + 4000, T0 + 5000, T0 + 6000]);
      expect(log.out).toContain(
        "error history: dropped 4 readings and 0 alerts while the database was unavailable",
      );
    } finally {
      other.close();
      await sink.stop();
    }
  });

  test("a data folder deleted while running (file, WAL and all) is recreated with a new file", async () => {
    const folder = join(dir, "data");
    const path = join(folder, "history.db");
    const bus = new Bus();
    const log = lines();
    const sink = new HistorySink({ bus, path, flushMs: 3_600_000, logger: log.logger });
    await sink.start();
    try {
      bus.emit("reading", syntheticReading({ time: T0 }));
      sink.flush();
      rmSync(folder, { recursive: true, force: true });
      bus.emit("reading", syntheticReading({ time: T0 + 1000 }));
      sink.flush();
      expect(sink.error).toBeUndefined();
      expect(sink.store?.query({ deviceId: "pack", from: T0, to: T0 + 1000 }).time).toEqual([T0 + 1000]);
      expect(existsSync(path)).toBe(true);
      expect(log.out.filter((l) => /deleted or replaced/.test(l))).toHaveLength(1);
    } finally {
      await sink.stop();
    }
  });

  test("a history file deleted while running is noticed and started anew, with one log line", async () => {
    const path = join(dir, "gone.db");
    const bus = new Bus();
    const log = lines();
    const sink = new HistorySink({ bus, path, flushMs: 3_600_000, logger: log.logger });
    await sink.start();
    try {
      for (let i = 0; i < 3; i++) bus.emit("reading", syntheticReading({ time: T0 + i * 1000, step: i }));
      sink.flush();
      rmSync(path);
      for (let i = 3; i < 5; i++) bus.emit("reading", syntheticReading({ time: T0 + i * 1000, step: i }));
      sink.flush();
      bus.emit("reading", syntheticReading({ time: T0 + 5000, step: 5 }));
      sink.flush();
      expect(existsSync(path)).toBe(true);
      expect(log.out.filter((l) => /deleted/.test(l))).toEqual([
        `warn history: ${path} was deleted or replaced while running; starting a new file`,
      ]);
      const reader = new Database(path, { readonly: true });
      try {
        expect(reader.prepare("SELECT t FROM readings ORDER BY t").pluck().all()).toEqual([
          T0 + 3000,
          T0 + 4000,
          T0 + 5000,
        ]);
      } finally {
        reader.close();
      }
    } finally {
      await sink.stop();
    }
  });
});

describe("history files of earlier versions", () => {
  /** The tables exactly as schema 1 created them (frozen: never derive this from today's code). */
  const V1_DDL = `
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE devices (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE readings (
      device INTEGER NOT NULL, t INTEGER NOT NULL,
      pack_voltage INTEGER, charge_voltage INTEGER, current INTEGER, current_ic INTEGER,
      amp_hours INTEGER, watt_hours INTEGER, soc INTEGER, soh INTEGER, ic_temperature INTEGER,
      humidity INTEGER, humidity_temperature INTEGER, max_cell_temperature INTEGER,
      amp_hours_charged_total INTEGER, watt_hours_charged_total INTEGER,
      amp_hours_discharged_total INTEGER, watt_hours_discharged_total INTEGER, pressure INTEGER,
      latency_ms INTEGER, cells BLOB, temps BLOB, balancing BLOB, can TEXT,
      PRIMARY KEY (device, t)
    ) WITHOUT ROWID;
    CREATE TABLE alerts (
      device INTEGER NOT NULL, t INTEGER NOT NULL, rule TEXT NOT NULL,
      active INTEGER NOT NULL, message TEXT NOT NULL);
    CREATE INDEX alerts_device_t ON alerts (device, t);
    CREATE INDEX alerts_t ON alerts (t);
    CREATE TABLE rollup_1m (
      device INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL,
      cells INTEGER NOT NULL, temps INTEGER NOT NULL, vec BLOB NOT NULL,
      PRIMARY KEY (device, t)
    ) WITHOUT ROWID;
    INSERT INTO meta VALUES ('schema', '1');
  `;
  /** Two cells (3.901 V, 3.905 V), one temperature (25.5 °C), 72.123 V, -1.5 A, 80 % SOC. */
  const cellsBlob = () => {
    const b = Buffer.alloc(4);
    b.writeInt16LE(3901, 0);
    b.writeInt16LE(3905, 2);
    return b;
  };
  const tempBlob = () => {
    const b = Buffer.alloc(2);
    b.writeInt16LE(2550, 0);
    return b;
  };

  /**
   * Builders of a file as each earlier version wrote it: two readings of an Express (i_in 0,
   * i_in_ic −1.2 A), their minute average, one alert.
   */
  const EARLIER: Record<number, (path: string) => void> = {
    1: (path) => {
      const db = new Database(path);
      try {
        db.exec(V1_DDL);
        db.prepare("INSERT INTO devices (id, name) VALUES (1, 'pack')").run();
        const row = db.prepare(
          "INSERT INTO readings (device, t, pack_voltage, current, current_ic, soc, latency_ms, cells, temps) VALUES (1, ?, 72123, 0, -1200, 8000, 12, ?, ?)",
        );
        row.run(T0, cellsBlob(), tempBlob());
        row.run(T0 + 5000, cellsBlob(), tempBlob());
        // Schema 1's minute vector: 23 fixed fields (power = pack voltage × i_in = 0), 1 temperature, 2 cells, 2 balancing.
        const vec = new Float32Array(28).fill(Number.NaN);
        vec.set([72.123, Number.NaN, 0, -1.2], 0);
        vec[6] = 80;
        vec[17] = 12;
        vec[18] = 0;
        vec.set([25.5, 3.901, 3.905, 0, 0], 23);
        db.prepare("INSERT INTO rollup_1m VALUES (1, ?, 2, 2, 1, ?)").run(T0, Buffer.from(vec.buffer));
        db.prepare("INSERT INTO alerts VALUES (1, ?, 'soc_low', 1, 'SOC 8 %')").run(T0);
      } finally {
        db.close();
      }
    },
    // Schema 2: schema 1's tables, meta 'vector' recorded, minute averages of revision 2.
    2: (path) => {
      const db = new Database(path);
      try {
        db.exec(V1_DDL);
        db.prepare("UPDATE meta SET value = '2' WHERE key = 'schema'").run();
        db.prepare("INSERT INTO meta VALUES ('vector', ?)").run(
          "2:packVoltage,chargeVoltage,current,currentIc,ampHours,wattHours,soc,soh,icTemperature,humidity," +
            "humidityTemperature,maxCellTemperature,ampHoursChargedTotal,wattHoursChargedTotal," +
            "ampHoursDischargedTotal,wattHoursDischargedTotal,pressure,latencyMs,power,cellMin,cellMax,cellAverage,cellDelta",
        );
        db.prepare("INSERT INTO devices (id, name) VALUES (1, 'pack')").run();
        const row = db.prepare(
          "INSERT INTO readings (device, t, pack_voltage, current, current_ic, soc, latency_ms, cells, temps) VALUES (1, ?, 72123, 0, -1200, 8000, 12, ?, ?)",
        );
        row.run(T0, cellsBlob(), tempBlob());
        row.run(T0 + 5000, cellsBlob(), tempBlob());
        // Revision 2's power: pack voltage × the measured i_in_ic.
        const vec = new Float32Array(28).fill(Number.NaN);
        vec.set([72.123, Number.NaN, 0, -1.2], 0);
        vec[6] = 80;
        vec[17] = 12;
        vec[18] = 72.123 * -1.2;
        vec.set([3.901, 3.905, 3.903, 0.004, 25.5, 3.901, 3.905, 0, 0], 19);
        db.prepare("INSERT INTO rollup_1m VALUES (1, ?, 2, 2, 1, ?)").run(T0, Buffer.from(vec.buffer));
        db.prepare("INSERT INTO alerts VALUES (1, ?, 'soc_low', 1, 'SOC 8 %')").run(T0);
      } finally {
        db.close();
      }
    },
  };

  test("every earlier version's file opens, is upgraded in place and keeps its data", () => {
    for (let v = 1; v < SCHEMA_VERSION; v++) {
      const build = EARLIER[v];
      // A schema bump must come with a builder of the previous version's file (and a migration).
      expect(build, `a builder of a schema ${v} file`).toBeDefined();
      const path = join(dir, `v${v}.db`);
      build?.(path);
      const log: string[] = [];
      const store = HistoryStore.open({ path, log: (m) => log.push(m) });
      try {
        expect(log).toEqual([
          expect.stringMatching(new RegExp(`upgraded .* from schema ${v} to ${SCHEMA_VERSION}`)),
        ]);
        const s = store.query({ deviceId: "pack", from: T0, to: T0 + 10_000 });
        expect(s.time).toEqual([T0, T0 + 5000]);
        expect(s.series.packVoltage).toEqual([72.123, 72.123]);
        expect(s.series.soc).toEqual([80, 80]);
        expect(s.cells).toEqual([
          [3.901, 3.901],
          [3.905, 3.905],
        ]);
        expect(s.temperatures).toEqual([[25.5, 25.5]]);
        // Minute averages now hold the power the BMS measured (rebuilt, not schema 1's i_in × V).
        const wide = store.query({ deviceId: "pack", from: T0, to: T0 + 3_599_999, maxPoints: 1 });
        expect(wide.bucketMs).toBeGreaterThanOrEqual(300_000);
        expect(wide.series.packVoltage[0]).toBeCloseTo(72.123, 3);
        expect(wide.series.power[0]).toBeCloseTo(72.123 * -1.2, 2);
        // The old alert is the device's own (no canId); a node's alert can be stored beside it.
        expect(store.alerts({ from: T0, to: T0 })).toStrictEqual([
          {
            deviceId: "pack",
            rule: "soc_low",
            active: true,
            message: "SOC 8 %",
            time: new Date(T0).toISOString(),
          },
        ]);
        store.insertAlerts([
          {
            deviceId: "pack",
            canId: 10,
            rule: "soc_low",
            active: true,
            message: "SOC 7 %",
            time: new Date(T0).toISOString(),
          },
        ]);
        expect(store.alerts({ from: T0, to: T0 }).map((a) => [a.canId, a.message])).toEqual([
          [undefined, "SOC 8 %"],
          [10, "SOC 7 %"],
        ]);
        store.insert([syntheticReading({ time: T0 + 10_000 })]);
        expect(store.stats().readings).toBe(3);
      } finally {
        store.close();
      }
      const reader = new Database(path, { readonly: true });
      try {
        expect(reader.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get()).toBe(
          String(SCHEMA_VERSION),
        );
      } finally {
        reader.close();
      }
      // Upgraded once: the next open changes nothing and says nothing.
      const quiet: string[] = [];
      HistoryStore.open({ path, log: (m) => quiet.push(m) }).close();
      expect(quiet).toEqual([]);
    }
  });

  test("a schema 2 file that already has alerts.can_id upgrades without adding it twice", () => {
    const path = join(dir, "v2-with-can-id.db");
    EARLIER[2]?.(path);
    const db = new Database(path);
    try {
      db.exec("ALTER TABLE alerts ADD COLUMN can_id INTEGER");
    } finally {
      db.close();
    }
    const store = HistoryStore.open({ path });
    try {
      expect(store.alerts({ from: T0, to: T0 }).map((a) => a.message)).toEqual(["SOC 8 %"]);
    } finally {
      store.close();
    }
  });

  test("a file from before a value was stored gains its column; old rows read it as absent", () => {
    const path = join(dir, "older-codec.db");
    HistoryStore.open({ path }).close();
    const db = new Database(path);
    try {
      db.exec("ALTER TABLE readings DROP COLUMN pressure");
      db.prepare("INSERT INTO devices (id, name) VALUES (1, 'pack')").run();
      db.prepare("INSERT INTO readings (device, t, pack_voltage) VALUES (1, ?, 70000)").run(T0);
    } finally {
      db.close();
    }
    const log: string[] = [];
    const store = HistoryStore.open({ path, log: (m) => log.push(m) });
    try {
      expect(log).toEqual([expect.stringContaining("added pressure")]);
      const r = syntheticReading({ time: T0 + 1000 });
      store.insert([{ ...r, bms: { ...r.bms!, pressure: 101_325 } }]);
      const s = store.query({ deviceId: "pack", from: T0, to: T0 + 1000 });
      expect(s.series.packVoltage[0]).toBe(70);
      expect(s.series.pressure).toEqual([null, 101_325]);
    } finally {
      store.close();
    }
  });

  test("minute averages of another definition are rebuilt from the raw rows", () => {
    const path = join(dir, "rebuild.db");
    const minute = Math.floor(T0 / 60_000) * 60_000;
    let store = HistoryStore.open({ path });
    const readings = Array.from({ length: 36 }, (_, i) =>
      syntheticReading({ time: minute + i * 5000, step: i }),
    );
    store.insert(readings);
    store.close();
    const db = new Database(path);
    try {
      // As a build with a different vector would have left them: wrong values, another signature.
      db.prepare("UPDATE rollup_1m SET vec = zeroblob(length(vec))").run();
      db.prepare("UPDATE meta SET value = '0:old' WHERE key = 'vector'").run();
    } finally {
      db.close();
    }
    const log: string[] = [];
    store = HistoryStore.open({ path, log: (m) => log.push(m) });
    try {
      expect(log).toEqual([expect.stringContaining("rebuilt 3 minute averages")]);
      const wide = store.query({ deviceId: "pack", from: minute, to: minute + 3_599_999, maxPoints: 2 });
      expect(wide.bucketMs).toBeGreaterThanOrEqual(300_000);
      const mean = readings.reduce((a, r) => a + (r.bms?.packVoltage ?? 0), 0) / readings.length;
      expect(wide.series.packVoltage[0]).toBeCloseTo(mean, 3);
    } finally {
      store.close();
    }
  });

  test("a file written by a newer vesc2mqtt is refused as Incompatible and left untouched", () => {
    const path = join(dir, "newer.db");
    HistoryStore.open({ path }).close();
    const db = new Database(path);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(String(SCHEMA_VERSION + 1));
    db.close();
    let caught: unknown;
    try {
      HistoryStore.open({ path });
    } catch (e) {
      caught = e;
    }
    expect(isHistoryError(caught) && caught.code).toBe("Incompatible");
    expect((caught as Error).message).toMatch(/newer vesc2mqtt/);
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get()).toBe(
      String(SCHEMA_VERSION + 1),
    );
    reader.close();
  });
});
