import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hex } from "../../test/helpers/hex.js";
import { decodeBmsValues, encodeBmsValuesResponse } from "../protocol/commands/bmsGetValues.js";
import { packCurrent, packPower, toBmsReading } from "./bmsReading.js";
import { BMS_LIMITS } from "./plausibility.js";
import type { BmsValues } from "./reading.js";

const V1_REPLY = hex(`60 02 fa f0 80 ${"00 ".repeat(20)}
  01 0e 74 00 05 0b b8 09 c4 0a 28 92 3c 08 98 0b b8 00 00 00 00 0a 28 01 f4 03 e8 0a
  ${"00 ".repeat(16)} 00 00 01 4f 4b 00`);

/** A plausible 4S reply with the whole tail. */
function base(): BmsValues {
  return decodeBmsValues(
    encodeBmsValuesResponse({
      packVoltage: 16.4,
      chargeVoltage: 0,
      current: -2.5,
      currentIc: -2.45,
      ampHours: 1.2,
      wattHours: 20,
      cells: [4.1, 4.1, 4.1, 4.1],
      balancing: [false, false, false, false],
      temperatures: [25, 26],
      icTemperature: 30,
      humidityTemperature: 0,
      humidity: 0,
      maxCellTemperature: 26,
      soc: 80,
      soh: 99,
      canId: 10,
      ampHoursChargedTotal: 10,
      wattHoursChargedTotal: 160,
      ampHoursDischargedTotal: 9,
      wattHoursDischargedTotal: 150,
      pressure: 101320,
      dataVersion: 0,
      status: "",
    }),
  );
}

describe("toBmsReading: temperatures", () => {
  it("turns the data_version 1 'not applicable' slot into null: [30, 25, 26, null, 22]", () => {
    const bms = toBmsReading(decodeBmsValues(V1_REPLY));
    expect(bms.temperatures).toEqual([30, 25, 26, null, 22]);
    expect(JSON.stringify(bms.temperatures)).toBe("[30,25,26,null,22]");
    // Not applicable is a fact the BMS states, not an implausible value.
    expect(bms.implausible).toBeUndefined();
  });

  it("keeps a data_version 0 reply's temperatures as they are (the same array)", () => {
    const v = base();
    expect(toBmsReading(v).temperatures).toBe(v.temperatures);
  });

  it("treats −281 °C in data_version 0 as implausible (null and counted)", () => {
    const bms = toBmsReading({ ...base(), temperatures: [25, -281] });
    expect(bms.temperatures).toEqual([25, null]);
    expect(bms.implausible).toEqual(["temperatures[1]"]);
  });
});

describe("toBmsReading: pack current and power as VESC Tool shows them", () => {
  it("uses i_in_ic when i_in is 0 (the real Express): 0.153749 A, ≈ 12.85 W at 83.608 V", () => {
    const bms = toBmsReading({ ...base(), packVoltage: 83.607992, current: 0, currentIc: 0.153749 });
    expect(bms.current).toBe(0);
    expect(bms.currentIc).toBe(0.153749);
    expect(bms.packCurrent).toBe(0.153749);
    expect(bms.packPower).toBeCloseTo(83.607992 * 0.153749, 6);
    expect(bms.packPower).toBeCloseTo(12.854645, 6);
  });

  it("uses i_in_ic when both measure, i_in only when i_in_ic reads 0", () => {
    expect(packCurrent(-2.5, -2.45)).toBe(-2.45);
    expect(packCurrent(3, 0)).toBe(3);
    expect(packCurrent(0, 0)).toBe(0);
    expect(packCurrent(3, null)).toBe(3);
    expect(packCurrent(null, 0)).toBe(0);
    expect(packCurrent(null, null)).toBeNull();
    expect(packPower(null, 1)).toBeNull();
    expect(packPower(50, null)).toBeNull();
  });

  it("packPower equals i_in_ic × v_tot whenever i_in_ic is not 0", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000_000 }).map((n) => n / 1e6),
        fc.integer({ min: -500_000_000, max: 500_000_000 }).map((n) => n / 1e6),
        fc.integer({ min: -500_000_000, max: 500_000_000 }).map((n) => n / 1e6),
        (packVoltage, current, currentIc) => {
          fc.pre(currentIc !== 0);
          const bms = toBmsReading({ ...base(), packVoltage, current, currentIc });
          expect(bms.packCurrent).toBe(currentIc);
          expect(bms.packPower).toBeCloseTo(currentIc * packVoltage, 5);
        },
      ),
    );
  });
});

describe("toBmsReading: plausibility", () => {
  it("publishes the sentinels of a BMS that never filled its fields as null, and names them", () => {
    // 2147.48 V = int32 max / 1e6; −32.768 V = int16 min / 1000; −3276.8 % = int16 min / 10.
    const bms = toBmsReading({
      ...base(),
      packVoltage: 2147.483647,
      cells: [4.1, -32.768, 4.1, 4.1],
      soc: -3276.8,
    });
    expect(bms.packVoltage).toBeNull();
    expect(bms.packPower).toBeNull();
    expect(bms.cells).toEqual([4.1, null, 4.1, 4.1]);
    expect(bms.soc).toBeNull();
    expect(bms.implausible).toEqual(["packVoltage", "cells[1]", "soc"]);
    // Stats only over plausible cells; JSON carries null, never the absurd numbers.
    expect(bms.stats).toMatchObject({ cellMin: 4.1, cellMax: 4.1, cellMinNumber: 1 });
    const json = JSON.stringify(bms);
    expect(json).not.toMatch(/2147|32\.768|3276/);
    expect(JSON.parse(json)).toMatchObject({ packVoltage: null, soc: null, cells: [4.1, null, 4.1, 4.1] });
  });

  it("checks every numeric field against its limit", () => {
    const absurd: Array<[keyof BmsValues, number]> = [
      ["chargeVoltage", 2147.48],
      ["current", -2147.48],
      ["currentIc", 2147.48],
      ["ampHours", 2_147_483.647],
      ["wattHours", -2_147_483.648],
      ["icTemperature", 327.67],
      ["humidityTemperature", -327.68],
      ["humidity", -327.68],
      ["maxCellTemperature", 327.67],
      ["soh", 3276.7],
      ["ampHoursChargedTotal", -5],
      ["wattHoursChargedTotal", 3e38],
      ["ampHoursDischargedTotal", 3e38],
      ["wattHoursDischargedTotal", -1e6],
      ["pressure", -327_680],
    ];
    for (const [field, value] of absurd) {
      const bms = toBmsReading({ ...base(), [field]: value }) as unknown as Record<string, unknown>;
      expect(bms[field], field).toBeNull();
      expect(bms.implausible, field).toEqual([field]);
    }
  });

  it("passes every value of a real pack through unchanged, and leaves unsent fields absent", () => {
    const v = base();
    const bms = toBmsReading(v);
    expect(bms.implausible).toBeUndefined();
    const { packCurrent: _pc, packPower: _pp, stats: _s, ...rest } = bms;
    expect(rest).toEqual(v);
    const { soc: _soc, soh: _soh, ...old } = v;
    const oldReading = toBmsReading({ ...old, soc: undefined, soh: undefined });
    expect("soc" in JSON.parse(JSON.stringify(oldReading))).toBe(false);
  });

  it("null is only ever produced for values outside the limits", () => {
    fc.assert(
      fc.property(fc.integer({ min: -32768, max: 32767 }), (raw) => {
        const cell = raw / 1000;
        const bms = toBmsReading({ ...base(), cells: [cell, 4, 4, 4] });
        const inRange = cell >= BMS_LIMITS.cell.min && cell <= BMS_LIMITS.cell.max;
        expect(bms.cells[0]).toBe(inRange ? cell : null);
      }),
    );
  });
});
