/** The cell-health alerts: they follow the battery estimator's verdicts on bms.battery. */
import { describe, expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import { driftingCells, highResistanceCells } from "../battery/index.js";
import { BatteryStage } from "../bridge/batteryStage.js";
import type { BatteryReading, BmsReading, Reading } from "../model/reading.js";
import { type AlertState, DEFAULT_ALERT_THRESHOLDS, evaluateReading } from "./alerts.js";

const base = syntheticReading({ time: Date.UTC(2026, 0, 1) });
const estimate = new BatteryStage({ deviceId: "pack" }).apply(base).bms?.battery as BatteryReading;

function withCells(
  drift: (number | null)[],
  rate: (number | null)[],
  r: (number | null)[],
  baseline: (number | null)[],
): Reading {
  const battery: BatteryReading = {
    ...estimate,
    cellDriftV: drift,
    cellDriftRateVPerDay: rate,
    cellResistanceOhm: r,
    alerts: {
      driftingCells: driftingCells(drift, rate),
      highResistanceCells: highResistanceCells(r, baseline),
    },
  };
  return { ...base, bms: { ...(base.bms as BmsReading), battery } };
}

const none = [null, null, null, null];
const even = [0.02, 0.021, 0.02, 0.0205];

describe("cell_drift and cell_resistance_high", () => {
  test("a cell 35 mV below the pack mean at rest turns cell_drift on, naming it; back in line turns it off", () => {
    let state: AlertState = {};
    const on = evaluateReading(
      withCells([0.001, -0.035, 0.002, 0], none, even, even),
      DEFAULT_ALERT_THRESHOLDS,
      state,
    );
    expect(on.changed).toEqual([
      expect.objectContaining({
        rule: "cell_drift",
        active: true,
        message: "cell 2 35 mV below the pack mean at rest",
      }),
    ]);
    state = on.state;
    // Still drifting: no new alert.
    expect(
      evaluateReading(withCells([0, -0.034, 0, 0], none, even, even), DEFAULT_ALERT_THRESHOLDS, state)
        .changed,
    ).toEqual([]);
    const off = evaluateReading(
      withCells([0, -0.004, 0, 0], none, even, even),
      DEFAULT_ALERT_THRESHOLDS,
      state,
    );
    expect(off.changed).toEqual([expect.objectContaining({ rule: "cell_drift", active: false })]);
  });

  test("a smaller deviation moving away fast is drift too (the predicate's trend rule)", () => {
    const e = evaluateReading(
      withCells([0, 0.015, 0, 0], [null, 0.008, null, null], even, even),
      DEFAULT_ALERT_THRESHOLDS,
      {},
    );
    expect(e.changed.map((a) => [a.rule, a.message])).toEqual([
      ["cell_drift", "cell 2 15 mV above the pack mean at rest, 8 mV/day"],
    ]);
  });

  test("a cell at twice the others' resistance turns cell_resistance_high on", () => {
    const e = evaluateReading(
      withCells(none, none, [0.02, 0.02, 0.045, 0.021], none),
      DEFAULT_ALERT_THRESHOLDS,
      {},
    );
    expect(e.changed).toEqual([
      expect.objectContaining({ rule: "cell_resistance_high", active: true, message: "cell 3 at 45.0 mΩ" }),
    ]);
  });

  test("a reading without battery estimates changes nothing", () => {
    const prev: AlertState = { cell_drift: { message: "x", since: base.time } };
    expect(evaluateReading(base, DEFAULT_ALERT_THRESHOLDS, prev).changed).toEqual([]);
  });
});
