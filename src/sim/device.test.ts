import { describe, expect, test } from "vitest";
import {
  cellStats,
  decodeBmsValues,
  decodeFwVersion,
  decodeValues,
  encodeBmsValuesResponse,
  encodeFwVersionResponse,
  encodeValuesResponse,
} from "../protocol/index.js";
import { SimDevice, type SimDeviceOptions } from "./device.js";
import { balanceWanted } from "./model/bms.js";

const HOUR = 3_600_000;

function fakeClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function device(options: SimDeviceOptions = {}) {
  const clock = fakeClock();
  const d = new SimDevice({ seed: 42, clock: clock.now, ...options });
  return { d, clock };
}

describe("SimDevice BMS dynamics (fake clock)", () => {
  test("charging raises cell voltages, SOC, pack voltage and the charged totals", () => {
    const { d, clock } = device({ scenario: "charging", startSoc: 0.4 });
    const before = d.bmsValues();
    expect(before.current).toBeGreaterThan(0);
    expect(before.chargeVoltage).toBeCloseTo(84, 6);
    clock.advance(HOUR);
    const after = d.bmsValues();
    expect(after.packVoltage).toBeGreaterThan(before.packVoltage);
    for (let i = 0; i < after.cells.length; i++) expect(after.cells[i]).toBeGreaterThan(before.cells[i] ?? 0);
    expect(after.soc).toBeGreaterThan(before.soc ?? 100);
    expect(after.ampHours).toBeGreaterThan(before.ampHours);
    expect(after.ampHoursChargedTotal).toBeGreaterThan(before.ampHoursChargedTotal ?? 0);
    expect(after.wattHoursChargedTotal).toBeGreaterThan(before.wattHoursChargedTotal ?? 0);
    expect(after.ampHoursDischargedTotal).toBe(before.ampHoursDischargedTotal);
  });

  test("charging tapers near 4.2 V per cell and ends charged, cells within the Li-ion range", () => {
    const { d, clock } = device({ scenario: "charging", startSoc: 0.3 });
    let sawTaper = false;
    const cc = d.bmsValues().current;
    for (let i = 0; i < 8 * 6; i++) {
      clock.advance(HOUR / 6);
      const v = d.bmsValues();
      if (v.current > 0.01 && v.current < cc - 0.01) sawTaper = true;
      for (const c of v.cells) {
        expect(c).toBeGreaterThanOrEqual(3.0);
        expect(c).toBeLessThanOrEqual(4.25);
      }
    }
    const end = d.bmsState();
    expect(sawTaper).toBe(true);
    expect(end.status).toBe("charged");
    expect(end.iIn).toBe(0);
    expect(end.soc).toBeGreaterThan(0.95);
  });

  test("balancing flags only cells above the threshold and appears while charging near full", () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const { d, clock } = device({ seed, scenario: "charging", startSoc: 0.5 });
      expect(d.bmsValues().balancing.some(Boolean)).toBe(false);
      let sawBalancing = false;
      for (let i = 0; i < 6 * 12; i++) {
        clock.advance(HOUR / 12);
        // The BMS decides on its own (unquantised) cell voltages, so the rule is checked there.
        const v = d.bmsOwnState();
        const min = Math.min(...v.vCell);
        expect(v.balState).toEqual(v.vCell.map((c) => balanceWanted(c, min)));
        expect(d.bmsValues().balancing).toEqual(v.balState);
        if (v.balState.some(Boolean)) sawBalancing = true;
      }
      expect(sawBalancing, `seed ${seed}`).toBe(true);
    }
  });

  test("riding discharges: negative current, SOC falls, discharge totals grow, no charger", () => {
    const { d, clock } = device({ scenario: "riding" });
    const before = d.bmsValues();
    clock.advance(HOUR / 2);
    const after = d.bmsValues();
    expect(after.current).toBeLessThan(0);
    expect(after.chargeVoltage).toBe(0);
    expect(after.soc).toBeLessThan(before.soc ?? 0);
    expect(after.ampHoursDischargedTotal).toBeGreaterThan(before.ampHoursDischargedTotal ?? 0);
    // Regenerative braking charges a little, far less than the ride discharges.
    const charged = (after.ampHoursChargedTotal ?? 0) - (before.ampHoursChargedTotal ?? 0);
    const discharged = (after.ampHoursDischargedTotal ?? 0) - (before.ampHoursDischargedTotal ?? 0);
    expect(charged).toBeLessThan(discharged / 5);
    expect(after.balancing.some(Boolean)).toBe(false);
  });

  test("totals never decrease across scenario changes", () => {
    const { d, clock } = device({ scenario: "charging" });
    let last = d.bmsValues();
    for (const s of ["riding", "idle", "charging", "riding"] as const) {
      d.setScenario(s);
      for (let i = 0; i < 4; i++) {
        clock.advance(HOUR / 8);
        const v = d.bmsValues();
        for (const k of [
          "ampHoursChargedTotal",
          "wattHoursChargedTotal",
          "ampHoursDischargedTotal",
          "wattHoursDischargedTotal",
        ] as const) {
          expect(v[k]).toBeGreaterThanOrEqual(last[k] ?? 0);
        }
        last = v;
      }
    }
  });

  test("is deterministic for a seed and clock, and differs between seeds", () => {
    const a = device({ seed: 7 });
    const b = device({ seed: 7 });
    const c = device({ seed: 8 });
    a.clock.advance(1234_567);
    b.clock.advance(1234_567);
    c.clock.advance(1234_567);
    expect(a.d.bmsValues()).toEqual(b.d.bmsValues());
    expect(a.d.fwVersion()).toEqual(b.d.fwVersion());
    expect(c.d.fwVersion().uuid).not.toBe(a.d.fwVersion().uuid);
    expect(c.d.bmsValues().cells).not.toEqual(a.d.bmsValues().cells);
  });

  test("a read at the same instant returns the same values (reads do not disturb the state)", () => {
    const { d, clock } = device();
    clock.advance(90_000);
    expect(d.bmsValues()).toEqual(d.bmsValues());
  });

  test("the firmware's bytes and the project's codec agree: re-encoding a decoded reply gives the same bytes", () => {
    const { d, clock } = device({ canIds: [84], scenario: "riding" });
    clock.advance(600_000);
    const bms = d.bmsReply();
    expect(encodeBmsValuesResponse(decodeBmsValues(bms))).toEqual(bms);
    const motor = d.motorReply(84);
    expect(encodeValuesResponse(decodeValues(motor))).toEqual(motor);
    const fw = d.fwVersionReply();
    expect(encodeFwVersionResponse(decodeFwVersion(fw))).toEqual(fw);
  });

  test("cell count 1..32, temperature sensors and slots are configurable", () => {
    const { d } = device({ cells: 1, tempSensors: 2, tempSlots: 6 });
    expect(d.bmsValues().cells).toHaveLength(1);
    const temps = d.bmsValues().temperatures;
    expect(temps).toHaveLength(6);
    expect(temps.slice(2)).toEqual([0, 0, 0, 0]);
    expect(temps[0]).toBeGreaterThan(10);
    d.setCellCount(32);
    expect(d.bmsValues().cells).toHaveLength(32);
    expect(d.bmsValues().packVoltage).toBeGreaterThan(32 * 3);
    expect(() => d.setCellCount(33)).toThrow(RangeError);
    expect(() => new SimDevice({ cells: 0 })).toThrow(RangeError);
  });

  test("the default device reports a 20S pack with a few mV spread, SOH, humidity, pressure and CAN id 10", () => {
    const { d } = device();
    const v = d.bmsValues();
    const stats = cellStats([...v.cells]);
    expect(v.cells).toHaveLength(20);
    expect(stats?.cellDelta).toBeGreaterThan(0);
    expect(stats?.cellDelta).toBeLessThan(0.02);
    expect(v.temperatures).toHaveLength(4);
    expect(v.soh).toBeGreaterThan(90);
    expect(v.humidity).toBeGreaterThan(0);
    expect(v.pressure).toBeGreaterThan(90_000);
    expect(v.canId).toBe(10);
  });
});

describe("SimDevice firmware layouts", () => {
  test("6.05 (default) stops the BMS reply after pressure, like the recorded Express", () => {
    const { d } = device();
    const v = d.bmsValues();
    expect(v.pressure).toBeDefined();
    expect(v.status).toBeUndefined();
    expect(v.dataVersion).toBeUndefined();
    expect(d.bmsState().status).toBe("charging");
  });

  test("6.06 adds data version 1 and the status string, with the 6.06 temperature slots", () => {
    const { d } = device({ firmware: { major: 6, minor: 6 }, scenario: "riding", tempSensors: 4 });
    const v = d.bmsValues();
    const state = d.bmsState();
    expect(v.dataVersion).toBe(1);
    expect(v.status).toBe("riding");
    // IC, cell min, cell max, MOSFET (none: not applicable), ambient, then the four NTCs.
    expect(v.temperatures).toHaveLength(9);
    expect(v.temperatures[0]).toBeCloseTo(state.tempIc, 1);
    const ntc = v.temperatures.slice(5);
    expect(v.temperatures[1]).toBe(Math.min(...ntc));
    expect(v.temperatures[2]).toBe(Math.max(...ntc));
    expect(v.temperatures[3]).toBe(-281);
    expect(v.temperatures[4]).toBeCloseTo(state.tempHum, 1);
    // The hottest cell reaches the Express's cache in whole degrees (one CAN byte).
    expect(v.maxCellTemperature).toBe(Math.trunc(v.temperatures[2] ?? Number.NaN));
  });

  test("under data version 1 a slot without a sensor is not applicable (≤ −280 °C), not 0 °C", () => {
    const { d } = device({ firmware: { major: 7, minor: 0 }, tempSensors: 0, tempSlots: 8 });
    const t = d.bmsValues().temperatures;
    expect(t).toHaveLength(8);
    expect(t[0]).toBeGreaterThan(10); // the IC is always there
    expect([t[1], t[2], t[3], t[5], t[6], t[7]]).toEqual([-281, -281, -281, -281, -281, -281]);
  });

  test("5.02 (older than any Express) lays FW_VERSION and the BMS reply out as bldc 5.02 did", () => {
    const { d } = device({ firmware: { major: 5, minor: 2 } });
    const fw = d.fwVersion();
    expect(fw.firmware).toBe("5.02");
    expect(fw.hwType).toBe(2);
    expect(fw.customConfigCount).toBe(1);
    expect(fw.hasPhaseFilters).toBeUndefined();
    expect(fw.hwConfigCrc).toBeUndefined();
    const bms = d.bmsValues();
    expect(bms.soh).toBeGreaterThan(90);
    expect(bms.canId).toBeUndefined();
    expect(bms.ampHoursChargedTotal).toBeUndefined();
  });

  test("the oldFirmware fault shortens FW_VERSION, BMS and GET_VALUES payloads at run time", () => {
    const { d } = device({ canIds: [84] });
    const full = d.fwVersionReply().length;
    const fullBms = d.bmsReply().length;
    d.faults = { oldFirmware: true };
    const fw = d.fwVersion();
    expect(fw.hardware).toBe("VESC Express T");
    expect(fw.firmware).toBe("6.05");
    expect(fw.hwType).toBeUndefined();
    expect(d.fwVersionReply().length).toBeLessThan(full);
    expect(d.bmsReply().length).toBeLessThan(fullBms);
    expect(d.bmsValues().ampHoursChargedTotal).toBeUndefined();
    expect(d.motorValues(84).controllerId).toBeUndefined();
    expect(d.motorValues(84).pidPosition).toBeUndefined();
    expect(d.motorValues(84).fault).toBe(0);
  });
});

describe("SimDevice CAN nodes", () => {
  test("motor controllers idle at zero and ride with plausible values; ping lists them and the BMS", () => {
    const { d, clock } = device({
      canIds: [85, 84],
      canHardware: ["ADV500", "Little FOCer"],
      scenario: "idle",
    });
    expect(d.canNodeIds()).toEqual([10, 84, 85]);
    expect(d.fwVersion(84).hardware).toBe("Little FOCer");
    expect(d.fwVersion(85).hwType).toBe(0);
    expect(d.fwVersion(10).hwType).toBe(1);
    expect(d.motorValues(84).erpm).toBe(0);
    d.setScenario("riding");
    clock.advance(60_000);
    const v = d.motorValues(84);
    expect(v.erpm).toBeGreaterThan(1000);
    expect(v.currentMotor).toBeGreaterThan(0);
    expect(v.inputVoltage).toBeGreaterThan(60);
    expect(v.controllerId).toBe(84);
    const tach = v.tachometerAbs ?? 0;
    clock.advance(60_000);
    expect(d.motorValues(84).tachometerAbs).toBeGreaterThan(tach);
    expect(() => d.motorValues(99)).toThrow(RangeError);
  });

  test("a BMS not on CAN (id 255) is not pinged", () => {
    const { d } = device({ bmsCanId: 255, canIds: [84] });
    expect(d.canNodeIds()).toEqual([84]);
    expect(d.bmsValues().canId).toBe(255);
  });
});
