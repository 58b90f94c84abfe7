/**
 * History keeps what the reading model published: null cells and temperatures (not
 * applicable, implausible) come back as null, never as a number, and the power series is
 * pack voltage × the current the BMS measures (packCurrent).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import type { Reading } from "../model/reading.js";
import { HistoryStore } from "./history.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-history-nulls-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.parse("2025-03-01T00:00:00Z");

test("null cells and temperatures are stored and returned as null; power uses packCurrent", () => {
  const store = HistoryStore.open({ path: join(dir, "h.db") });
  try {
    const base = syntheticReading({ time: T0, cells: 4 });
    const bms = base.bms!;
    const odd: Reading = {
      ...base,
      bms: {
        ...bms,
        packVoltage: 16,
        current: 0,
        currentIc: 0.15,
        packCurrent: 0.15,
        packPower: 2.4,
        cells: [4, null, 4.01, 3.99],
        temperatures: [30, 25, 26, null, 22],
      },
    };
    store.insert([odd]);
    const s = store.query({ deviceId: "pack", from: T0, to: T0 + 1000 });
    expect(s.cells.map((series) => series[0])).toEqual([4, null, 4.01, 3.99]);
    expect(s.temperatures.map((series) => series[0])).toEqual([30, 25, 26, null, 22]);
    // Stats over the plausible cells only.
    expect(s.series.cellMin[0]).toBe(3.99);
    expect(s.series.cellMax[0]).toBe(4.01);
    expect(s.series.cellDelta[0]).toBeCloseTo(0.02, 6);
    // i_in is 0 on the real Express: power comes from i_in_ic, as VESC Tool shows it.
    expect(s.series.power[0]).toBeCloseTo(2.4, 6);
  } finally {
    store.close();
  }
});
