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
    expect(end.current).toBe(0);
    expect(end.soc).toBeGreaterThan(95);
  });

  test("balancing flags only cells above the threshold and appears while charging near full", () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const { d, clock } = device({ seed, scenario: "charging", startSoc: 0.5 });
      expect(d.bmsValues().balancing.some(Boolean)).toBe(false);
      let sawBalancing = false;
      for (let i = 0; i < 6 * 12; i++) {
        clock.advance(HOUR / 12);
        const v = d.bmsValues();
        const min = Math.min(...v.cells);
        expect(v.balancing).toEqual(v.cells.map((c) => balanceWanted(c, min)));
        if (v.balancing.some(Boolean)) sawBalancing = true;
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

  test("values are at wire resolution: decode(encode(v)) equals v", () => {
    const { d, clock } = device({ canIds: [84], scenario: "riding", firmware: { major: 7, minor: 0 } });
    clock.advance(600_000);
    const bms = d.bmsValues();
    expect(decodeBmsValues(encodeBmsValuesResponse(bms))).toEqual(bms);
    const motor = d.motorValues(84);
    expect(decodeValues(encodeValuesResponse(motor))).toEqual(motor);
    expect(decodeFwVersion(encodeFwVersionResponse(d.fwVersion()))).toEqual(d.fwVersion());
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

  test("7.0 adds data version and the status string", () => {
    const { d } = device({ firmware: { major: 7, minor: 0 }, scenario: "riding" });
    expect(d.bmsValues().status).toBe("riding");
  });

  test("older firmware drops FW_VERSION fields per their history and the BMS totals", () => {
    const { d } = device({ firmware: { major: 5, minor: 2 } });
    const fw = d.fwVersion();
    expect(fw.hwType).toBe(2);
    expect(fw.hasPhaseFilters).toBeUndefined();
    expect(fw.hwConfigCrc).toBeUndefined();
    expect(decodeFwVersion(encodeFwVersionResponse(fw))).toEqual(fw);
    expect(d.bmsValues().ampHoursChargedTotal).toBeUndefined();
    expect(d.bmsValues().canId).toBe(10);
  });

  test("the oldFirmware fault shortens FW_VERSION, BMS and GET_VALUES payloads at run time", () => {
    const { d } = device({ canIds: [84] });
    const full = encodeFwVersionResponse(d.fwVersion()).length;
    const fullBms = encodeBmsValuesResponse(d.bmsValues()).length;
    d.faults = { oldFirmware: true };
    const fw = d.fwVersion();
    expect(fw.hardware).toBe("VESC Express T");
    expect(fw.hwType).toBeUndefined();
    expect(encodeFwVersionResponse(fw).length).toBeLessThan(full);
    expect(encodeBmsValuesResponse(d.bmsValues()).length).toBeLessThan(fullBms);
    expect(d.motorValues(84).controllerId).toBeUndefined();
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
