import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { decodeBmsValues } from "../protocol/index.js";
import { SimDevice } from "./device.js";
import { loadReplayFile } from "./replay.js";

const CAPTURE = fileURLToPath(
  new URL("../../test/fixtures/frames/bms-express-fw605-sequence.txt", import.meta.url),
);

function device(seed = 1) {
  let t = 1_700_000_000_000;
  const d = new SimDevice({ seed, clock: () => t, profile: "express-6.05" });
  return { d, advance: (ms: number) => (t += ms) };
}

describe('the "express-6.05" profile looks like the captured real device', () => {
  const captured = loadReplayFile(CAPTURE).map(decodeBmsValues);

  test("same reply size and shape as the 139 captured replies (20 cells, 24 temperature slots, ends after pressure)", () => {
    const { d } = device();
    const first = captured[0];
    expect(first).toBeDefined();
    expect(d.bmsReply().length).toBe(166);
    const v = d.bmsValues();
    expect(v.cells).toHaveLength(first?.cells.length ?? -1);
    expect(v.temperatures).toHaveLength(first?.temperatures.length ?? -1);
    expect(v.pressure).toBe(0);
    expect(v.dataVersion).toBeUndefined();
    expect(d.fwVersion().firmware).toBe("6.05");
  });

  test("every field that is 0 in all captured replies is 0 here, and every one that measures measures", () => {
    const { d, advance } = device();
    const sim = Array.from({ length: 60 }, () => {
      advance(1000);
      return d.bmsValues();
    });
    const scalars = [
      "current",
      "currentIc",
      "ampHours",
      "wattHours",
      "icTemperature",
      "humidityTemperature",
      "humidity",
      "maxCellTemperature",
      "soc",
      "soh",
      "ampHoursChargedTotal",
      "wattHoursChargedTotal",
      "ampHoursDischargedTotal",
      "wattHoursDischargedTotal",
      "pressure",
      "canId",
    ] as const;
    for (const key of scalars) {
      const zeroThere = captured.every((v) => v[key] === 0);
      const zeroHere = sim.every((v) => v[key] === 0);
      expect(zeroHere, key).toBe(zeroThere);
    }
    expect(sim.every((v) => v.canId === 255)).toBe(true);
  });

  test("i_in is 0 while i_in_ic measures 0.13–0.15 A in 0.3125 mA steps, like the capture", () => {
    const { d, advance } = device(7);
    for (let i = 0; i < 100; i++) {
      advance(1000);
      const v = d.bmsValues();
      expect(v.current).toBe(0);
      expect(v.currentIc).toBeGreaterThan(0.13);
      expect(v.currentIc).toBeLessThan(0.15);
      // 0.3125 mA steps, truncated to µA on the wire like 136874 and 137187 in the capture
      expect(Math.abs(v.currentIc / 0.0003125 - Math.round(v.currentIc / 0.0003125))).toBeLessThan(0.01);
    }
  });

  test("slot 4 is exactly 99.00 °C in every reply while slots 1–3 vary by hundredths; the rest are 0", () => {
    const { d, advance } = device(3);
    const seen: number[][] = [];
    for (let i = 0; i < 120; i++) {
      advance(1000);
      seen.push([...d.bmsValues().temperatures]);
    }
    for (const t of seen) {
      expect(t[3]).toBe(99);
      expect(t.slice(4)).toEqual(new Array(20).fill(0));
    }
    for (let slot = 0; slot < 3; slot++) {
      const values = seen.map((t) => t[slot] ?? Number.NaN);
      const spread = Math.max(...values) - Math.min(...values);
      expect(spread, `slot ${slot + 1}`).toBeGreaterThan(0);
      expect(spread, `slot ${slot + 1}`).toBeLessThan(0.1);
    }
    // As in the capture.
    for (const v of captured) expect(v.temperatures[3]).toBe(99);
  });

  test("a full pack on its charger: 84 V charge voltage, cells near 4.2 V, no CAN BMS to ping", () => {
    const { d } = device();
    const v = d.bmsValues();
    expect(v.chargeVoltage).toBe(84);
    for (const c of v.cells) expect(c).toBeGreaterThan(4.15);
    expect(d.canNodeIds()).toEqual([]);
  });
});
