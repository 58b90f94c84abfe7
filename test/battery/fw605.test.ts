/**
 * The real Express 6.05 capture (20S, cells ~4.19 V, at rest on its charger, SOC 0,
 * i_in 0, i_in_ic ~0.14 A) through the decoder into a BatteryEstimator with the defaults.
 */
import { describe, expect, it } from "vitest";
import { BatteryEstimator, cellSocs, ocvCurve, packSocFromCells } from "../../src/battery/index.js";
import { toBmsReading } from "../../src/model/bmsReading.js";
import type { BmsReading } from "../../src/model/reading.js";
import { decodeBmsValues } from "../../src/protocol/index.js";
import { framePayload, fw605BmsFrames } from "../helpers/fw605Sequence.js";

const frames = fw605BmsFrames().map((f) => ({
  atMs: Math.round(f.atS * 1000),
  bms: toBmsReading(decodeBmsValues(framePayload(f.frame))),
}));
const CAPTURE_MS = (frames[frames.length - 1]?.atMs ?? 0) + 150;

/**
 * The capture is 21 s long, the rest anchor needs 10 minutes of rest: the same 21 s are
 * played back to back with advancing times, as a pack that stays on its charger would look
 * (nothing in the frames changes beyond noise, so repeating them adds no information the
 * estimator could exploit; it only lets the rest timer run).
 */
function* replay(minutes: number): Generator<{ tMs: number; bms: BmsReading }> {
  const t0 = Date.UTC(2026, 0, 1);
  for (let lap = 0; lap * CAPTURE_MS < minutes * 60_000; lap++)
    for (const f of frames) yield { tMs: t0 + lap * CAPTURE_MS + f.atMs, bms: f.bms };
}

describe("battery estimate from the real Express 6.05 capture", () => {
  it("the capture is what the estimate has to cope with: SOC 0, i_in 0, i_in_ic ~0.14 A, 20 cells ~4.19 V", () => {
    expect(frames).toHaveLength(139);
    for (const { bms } of frames) {
      expect(bms.soc).toBe(0);
      expect(bms.current).toBe(0);
      expect(bms.packCurrent).toBeGreaterThan(0.12);
      expect(bms.packCurrent).toBeLessThan(0.16);
      expect(bms.cells).toHaveLength(20);
      for (const c of bms.cells) expect(Math.abs((c as number) - 4.19)).toBeLessThan(0.01);
    }
  });

  it("NMC: the cells' OCV alone says ≥ 95 %", () => {
    const first = frames[0]?.bms as BmsReading;
    expect(packSocFromCells(cellSocs(ocvCurve("nmc"), first.cells))).toBeGreaterThanOrEqual(95);
  });

  it("NMC defaults: SOC ≥ 95 % from the first reading on; cells at the end-of-charge voltage with no current calibrate it at once", () => {
    const e = new BatteryEstimator({ intervalMs: 150 });
    let calibratedAtS: number | null = null;
    let t0: number | null = null;
    let last = null as ReturnType<BatteryEstimator["update"]> | null;
    for (const { tMs, bms } of replay(12)) {
      t0 ??= tMs;
      last = e.update(tMs, bms);
      expect(last.socSource).toBe("estimate");
      expect(last.socPercent).toBeGreaterThanOrEqual(95);
      if (last.calibrated && calibratedAtS === null) calibratedAtS = (tMs - t0) / 1000;
      expect(last.charging).toBe(false);
    }
    expect(calibratedAtS).toBe(0);
    expect(last?.socPercent).toBe(100);
    expect(last?.bmsSocPercent).toBeNull();
  });

  it("with end-of-charge detection out of the way (a 4.3 V custom curve) the rest anchor alone gets there after 10 min", () => {
    const nmc = ocvCurve("nmc");
    const e = new BatteryEstimator({
      intervalMs: 150,
      config: {
        chemistry: "custom",
        ocv: [...nmc.points.slice(0, -1).map(([s, v]): [number, number] => [s, v]), [100, 4.3]],
      },
    });
    let calibratedAtS: number | null = null;
    let t0: number | null = null;
    let last = null as ReturnType<BatteryEstimator["update"]> | null;
    for (const { tMs, bms } of replay(12)) {
      t0 ??= tMs;
      last = e.update(tMs, bms);
      if (last.calibrated && calibratedAtS === null) calibratedAtS = (tMs - t0) / 1000;
    }
    expect(calibratedAtS as number).toBeGreaterThanOrEqual(600);
    expect(calibratedAtS as number).toBeLessThan(660);
    expect(last?.socMethod).toBe("ocv");
    expect(last?.socPercent).toBeGreaterThanOrEqual(90);
  });

  it("the 0.14 A it measures is counted, and the counters survive a restart", () => {
    const opts = { intervalMs: 150 };
    const a = new BatteryEstimator(opts);
    const all = [...replay(2)];
    const half = all.length >> 1;
    let before = null as ReturnType<BatteryEstimator["update"]> | null;
    for (const r of all.slice(0, half)) before = a.update(r.tMs, r.bms);
    const saved = JSON.stringify(a.snapshot()); // what the bridge would store
    const b = BatteryEstimator.restore(opts, JSON.parse(saved));
    let after = null as ReturnType<BatteryEstimator["update"]> | null;
    for (const r of all.slice(half)) after = b.update(r.tMs, r.bms);
    expect(before?.ahCharged).toBeGreaterThan(0);
    // ~0.14 A for 2 minutes ≈ 0.0047 Ah, across the restart.
    expect(after?.ahCharged as number).toBeGreaterThan(before?.ahCharged as number);
    expect(after?.ahCharged as number).toBeCloseTo((0.141 * 120) / 3600, 3);
    expect(after?.whCharged as number).toBeCloseTo((0.141 * 83.8 * 120) / 3600, 1);
  });
});
