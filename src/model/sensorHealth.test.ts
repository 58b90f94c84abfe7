/** SensorHealth: fitted, stuck, stale and ignored sensors, on synthetic and real 6.05 readings. */
import { describe, expect, test } from "vitest";
import { fw605BmsFrames, fw605DeviceInfo, framePayload } from "../../test/helpers/fw605Sequence.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import { decodeBmsValues } from "../protocol/index.js";
import { withStats } from "../session/device.js";
import type { BmsReading, Reading } from "./reading.js";
import { SensorHealth, sameValues, ValueRecord } from "./sensorHealth.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");

/** Readings every `stepMs` with temperatures from `temps(step)`. */
function series(n: number, stepMs: number, temps: (step: number) => number[], soc = 0): Reading[] {
  return Array.from({ length: n }, (_, step) => {
    const r = syntheticReading({ time: T0 + step * stepMs, step, soc });
    return { ...r, bms: { ...(r.bms as BmsReading), temperatures: temps(step) } };
  });
}

const last = (h: SensorHealth, rs: Reading[]) => rs.map((r) => h.apply(r)).at(-1)?.bms as BmsReading;

describe("stuck temperatures", () => {
  test("a value bit-identical for ≥ N readings and ≥ the time while a sibling moves is stuck", () => {
    const rs = series(13, 5000, (s) => [20 + s * 0.01, 99]);
    const b = last(new SensorHealth(), rs);
    expect(b.stuck?.temperatures).toEqual([2]);
    expect(b.fitted?.temperatures).toEqual([1, 2]);
  });

  test("not before the time has passed, nor before N readings", () => {
    // 12 readings over 55 s: enough readings, not enough time.
    expect(
      last(
        new SensorHealth(),
        series(12, 5000, (s) => [20 + s * 0.01, 99]),
      ).stuck?.temperatures,
    ).toEqual([]);
    // 70 s but only 3 readings.
    expect(
      last(
        new SensorHealth({ stuckAfterReadings: 10 }),
        series(3, 35_000, (s) => [20 + s, 99]),
      ).stuck?.temperatures,
    ).toEqual([]);
  });

  test("no sibling moved (everything steady, or a single sensor): nothing is stuck", () => {
    expect(
      last(
        new SensorHealth(),
        series(20, 5000, () => [21, 99]),
      ).stuck?.temperatures,
    ).toEqual([]);
    expect(
      last(
        new SensorHealth(),
        series(20, 5000, () => [99]),
      ).stuck?.temperatures,
    ).toEqual([]);
  });

  test("clears as soon as it moves, and counts again from there", () => {
    const h = new SensorHealth({ stuckAfterMs: 10_000, stuckAfterReadings: 3 });
    const rs = series(9, 5000, (s) => [20 + s, s === 5 ? 98 : 99]);
    const out = rs.map((r) => h.apply(r).bms?.stuck?.temperatures);
    expect(out).toEqual([[], [], [2], [2], [2], [], [], [], [2]]);
  });

  test("an unfitted slot (0) is never stuck", () => {
    expect(
      last(
        new SensorHealth(),
        series(20, 5000, (s) => [20 + s, 0]),
      ).stuck?.temperatures,
    ).toEqual([]);
  });
});

describe("fitted", () => {
  test("SOC and SOH count once they were non-zero, then stay", () => {
    const h = new SensorHealth();
    const r = syntheticReading({ time: T0, soc: 0 });
    const zero = { ...r, bms: { ...(r.bms as BmsReading), soc: 0, soh: 0 } };
    expect(h.apply(zero).bms?.fitted).toMatchObject({ soc: false, soh: false });
    const some = { ...r, bms: { ...(r.bms as BmsReading), soc: 40, soh: 0 } };
    expect(h.apply(some).bms?.fitted).toMatchObject({ soc: true, soh: false });
    expect(h.apply(zero).bms?.fitted).toMatchObject({ soc: true, soh: false });
  });

  test("temperatures: plausible and non-zero", () => {
    const b = last(
      new SensorHealth(),
      series(1, 1000, () => [0, 25, -280, 200, 99]),
    );
    expect(b.fitted?.temperatures).toEqual([2, 5]);
  });
});

describe("ignored sensors", () => {
  test("read as null, never fitted or stuck; the input reading is untouched", () => {
    const h = new SensorHealth({ temperatures: { 2: { ignore: true }, 1: { name: "Cells top" } } });
    const rs = series(13, 5000, (s) => [20 + s * 0.01, 99]);
    const b = last(h, rs);
    expect(b.temperatures).toEqual([20.12, null]);
    expect(b.fitted?.temperatures).toEqual([1]);
    expect(b.stuck?.temperatures).toEqual([]);
    expect(rs[0]?.bms?.temperatures).toEqual([20, 99]);
  });
});

describe("BMS data stale (the Express's cache never expires)", () => {
  test("a reply value-identical for the configured time is stale, a change recovers at once", () => {
    const h = new SensorHealth({ bmsStaleAfterMs: 60_000 });
    const base = syntheticReading({ time: T0 });
    const at = (ms: number, packVoltage = base.bms?.packVoltage ?? 0): Reading => ({
      ...base,
      time: new Date(T0 + ms).toISOString(),
      bms: { ...(base.bms as BmsReading), packVoltage },
    });
    expect(h.apply(at(0)).bms?.stale).toBe(false);
    expect(h.apply(at(59_000)).bms?.stale).toBe(false);
    expect(h.apply(at(60_000)).bms?.stale).toBe(true);
    expect(h.apply(at(61_000, 80)).bms?.stale).toBe(false);
    expect(h.apply(at(62_000, 80)).bms?.stale).toBe(false);
  });

  test("sameValues compares what the BMS sent, not what the bridge added", () => {
    const a = syntheticReading({ time: T0 }).bms as BmsReading;
    expect(sameValues(a, { ...a, cells: [...a.cells] })).toBe(true);
    expect(sameValues(a, { ...a, stale: true, stuck: { temperatures: [1] } })).toBe(true);
    expect(
      sameValues(a, { ...a, cells: a.cells.map((c, i) => (i === 3 && c !== null ? c + 0.001 : c)) }),
    ).toBe(false);
    expect(sameValues(a, { ...a, pressure: 1 })).toBe(false);
  });

  test("a ValueRecord of a reply answers exactly as sameValues with the reply itself", () => {
    const a = syntheticReading({ time: T0 }).bms as BmsReading;
    const cell3 = (v: number | null) => a.cells.map((c, i) => (i === 3 ? v : c));
    const variants: BmsReading[] = [
      a,
      { ...a, cells: [...a.cells] },
      { ...a, stale: true, stuck: { temperatures: [1] } },
      { ...a, cells: cell3(null) },
      { ...a, cells: cell3(Number.NaN) },
      { ...a, cells: cell3(0) },
      { ...a, cells: cell3(-0) },
      { ...a, cells: a.cells.slice(1) },
      { ...a, balancing: a.balancing.map((b, i) => (i === 0 ? !b : b)) },
      { ...a, packVoltage: null },
      { ...a, pressure: 1 },
      { ...a, pressure: undefined },
      { ...a, status: "CHARGING" },
      { ...a, status: "CHARGING " },
      { ...a, implausible: ["cells"] },
      { ...a, implausible: ["cells", "current"] },
      { ...a, soc: 0 },
      { ...a, soc: -0 },
      Object.fromEntries(Object.entries(a).reverse()) as unknown as BmsReading,
    ];
    const record = new ValueRecord();
    expect(record.sameAs(a)).toBe(false); // nothing recorded yet
    let compared = 0;
    for (const prev of variants) {
      for (const next of variants) {
        record.record(prev);
        // A fresh copy: the record must not answer by identity with the recorded reply.
        const copy = structuredClone(next);
        expect(record.sameAs(copy), `${JSON.stringify(prev)} vs ${JSON.stringify(next)}`).toBe(
          sameValues(prev, copy),
        );
        compared++;
      }
    }
    expect(compared).toBe(variants.length ** 2);
    record.record(variants[1] as BmsReading);
    expect(record.sameAs(a)).toBe(true);
    expect(record.sameAs(variants[4] as BmsReading)).toBe(false);
  });
});

describe("the real Express 6.05 frames", () => {
  test("looped for 3 minutes at 1 Hz: temperature 4 is stuck, 1–3 never; SOC not fitted; never stale", () => {
    const frames = fw605BmsFrames();
    const device = fw605DeviceInfo();
    const h = new SensorHealth();
    const stuckSeen = new Set<number>();
    let b: BmsReading | undefined;
    for (let s = 0; s < 180; s++) {
      // One poll a second reads whatever reply the device had then (the capture is ~7 Hz over 21 s).
      const f = frames[Math.floor((s * frames.length) / 21) % frames.length];
      if (!f) throw new Error("no frame");
      const r: Reading = {
        deviceId: "pack",
        time: new Date(T0 + s * 1000).toISOString(),
        device,
        bms: withStats(decodeBmsValues(framePayload(f.frame))),
      };
      b = h.apply(r).bms;
      for (const n of b?.stuck?.temperatures ?? []) stuckSeen.add(n);
      expect(b?.stale).toBe(false);
    }
    expect(b?.stuck?.temperatures).toEqual([4]);
    expect([...stuckSeen]).toEqual([4]);
    expect(b?.fitted).toEqual({ temperatures: [1, 2, 3, 4], soc: false, soh: false });
  });
});
