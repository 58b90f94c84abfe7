/** Metrics of the bridge's sensor verdicts: stuck temperature sensors and frozen BMS data. */
import { expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import type { BmsReading, Reading } from "../model/reading.js";
import { SensorHealth } from "../model/sensorHealth.js";
import { Metrics } from "./metrics.js";

test("vesc_temperature_stuck per fitted sensor and vesc_bms_data_stale, from SensorHealth's verdict", async () => {
  const metrics = new Metrics();
  const health = new SensorHealth({ stuckAfterMs: 20_000, stuckAfterReadings: 3 });
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  let last: Reading | undefined;
  for (let s = 0; s < 4; s++) {
    const r = syntheticReading({ time: t0 + s * 10_000, step: s, deviceId: "a" });
    last = health.apply({ ...r, bms: { ...(r.bms as BmsReading), temperatures: [20 + s, 99, 0] } });
    metrics.observeReading(last);
  }
  const text = await metrics.text();
  expect(text).toContain('vesc_temperature_stuck{device="a",sensor="1"} 0');
  expect(text).toContain('vesc_temperature_stuck{device="a",sensor="2"} 1');
  expect(text).not.toContain('vesc_temperature_stuck{device="a",sensor="3"}'); // slot 3 is not fitted
  expect(text).toContain('vesc_bms_data_stale{device="a"} 0');
  expect(last?.bms?.stuck?.temperatures).toEqual([2]);
});
