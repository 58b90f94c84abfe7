/** Alerts only from what the BMS really measures: fitted sensors, never a stuck one. */
import { describe, expect, test } from "vitest";
import { fw605BmsFrames, fw605DeviceInfo, framePayload } from "../../test/helpers/fw605Sequence.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import type { Alert } from "../model/bus.js";
import type { BmsReading, Reading } from "../model/reading.js";
import { SensorHealth } from "../model/sensorHealth.js";
import { decodeBmsValues } from "../protocol/index.js";
import { withStats } from "../session/device.js";
import { type AlertState, DEFAULT_ALERT_THRESHOLDS, evaluateReading } from "./alerts.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");

function alertsOf(readings: readonly Reading[], health?: SensorHealth): Alert[] {
  let state: AlertState = {};
  const out: Alert[] = [];
  for (const raw of readings) {
    const e = evaluateReading(health ? health.apply(raw) : raw, DEFAULT_ALERT_THRESHOLDS, state);
    state = e.state;
    out.push(...e.changed);
  }
  return out;
}

function withBms(r: Reading, bms: Partial<BmsReading>): Reading {
  return { ...r, bms: { ...(r.bms as BmsReading), ...bms } };
}

describe("SOC", () => {
  test("a BMS that never reports SOC (always 0) raises no soc_low", () => {
    const rs = Array.from({ length: 5 }, (_, s) =>
      syntheticReading({ time: T0 + s * 1000, step: s, soc: 0 }),
    );
    expect(alertsOf(rs, new SensorHealth())).toEqual([]);
    // Without the bridge's memory the reading alone decides: 0 is not a measured SOC either.
    expect(alertsOf(rs)).toEqual([]);
  });

  test("a SOC that was non-zero once is measured: falling to 0 alerts", () => {
    const rs = [40, 10, 0].map((soc, s) => syntheticReading({ time: T0 + s * 1000, step: s, soc }));
    const alerts = alertsOf(rs, new SensorHealth());
    expect(alerts.map((a) => [a.rule, a.active])).toEqual([["soc_low", true]]);
    expect(alerts[0]?.message).toContain("SOC at 10 %");
  });
});

describe("temperatures", () => {
  test("a sensor stuck at 99 °C never alerts: unverified until the stuck rule decides, then stuck", () => {
    const h = new SensorHealth({ stuckAfterMs: 20_000, stuckAfterReadings: 3 });
    const rs = Array.from({ length: 8 }, (_, s) =>
      withBms(syntheticReading({ time: T0 + s * 10_000, step: s }), { temperatures: [20 + s * 0.01, 99] }),
    );
    const seen = rs.map((r) => h.apply(r).bms);
    expect(seen.map((b) => [b?.unverified?.temperatures, b?.stuck?.temperatures])).toEqual([
      [[1, 2], []],
      [[2], []],
      [[], [2]],
      [[], [2]],
      [[], [2]],
      [[], [2]],
      [[], [2]],
      [[], [2]],
    ]);
    expect(alertsOf(rs, new SensorHealth({ stuckAfterMs: 20_000, stuckAfterReadings: 3 }))).toEqual([]);
  });

  test("a hot sensor alerts as soon as it moves; a steady lone one once the stuck rule found no moving sibling", () => {
    const h = new SensorHealth({ stuckAfterMs: 20_000, stuckAfterReadings: 3 });
    const temps = [
      [20, 59.5],
      [20.1, 60],
    ];
    const moving = temps.map((t, s) =>
      withBms(syntheticReading({ time: T0 + s * 1000, step: s }), { temperatures: t }),
    );
    expect(alertsOf(moving, h).map((a) => [a.rule, a.active, a.time])).toEqual([
      ["temperature_high", true, new Date(T0 + 1000).toISOString()],
    ]);
    const lone = Array.from({ length: 4 }, (_, s) =>
      withBms(syntheticReading({ time: T0 + s * 10_000, step: s }), { temperatures: [60] }),
    );
    expect(
      alertsOf(lone, new SensorHealth({ stuckAfterMs: 20_000, stuckAfterReadings: 3 })).map((a) => a.time),
    ).toEqual([new Date(T0 + 20_000).toISOString()]);
  });

  test("a fitted, moving sensor above the limit alerts; an unfitted (0) or ignored one does not", () => {
    const hot = (s: number, temps: (number | null)[]) =>
      withBms(syntheticReading({ time: T0 + s * 1000, step: s }), { temperatures: temps });
    expect(alertsOf([hot(0, [20, 59]), hot(1, [20, 60])], new SensorHealth()).map((a) => a.message)).toEqual([
      "temperature sensor 2 at 60 °C (limit 55 °C)",
    ]);
    expect(alertsOf([hot(0, [20, 0, -300]), hot(1, [21, 0, -300])], new SensorHealth())).toEqual([]);
    expect(
      alertsOf(
        [hot(0, [20, 59]), hot(1, [20, 60])],
        new SensorHealth({ temperatures: { 2: { ignore: true } } }),
      ),
    ).toEqual([]);
  });
});

test("the real Express 6.05 replies, 3 minutes at 1 Hz through SensorHealth: no alert at all", () => {
  const frames = fw605BmsFrames();
  const device = fw605DeviceInfo();
  const rs: Reading[] = Array.from({ length: 180 }, (_, s) => {
    const f = frames[Math.floor((s * frames.length) / 21) % frames.length];
    if (!f) throw new Error("no frame");
    return {
      deviceId: "pack",
      time: new Date(T0 + s * 1000).toISOString(),
      device,
      bms: withStats(decodeBmsValues(framePayload(f.frame))),
    };
  });
  // The stuck rule needs a minute: until then 99.00 °C is over the limit but unverified, so
  // the verdict is "no alert", not "alert, then cleared".
  const alerts = alertsOf(rs, new SensorHealth());
  expect(alerts.map((a) => `${a.rule}: ${a.message}`)).toEqual([]);
});
