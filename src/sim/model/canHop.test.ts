import { describe, expect, test } from "vitest";
import { decodeBmsValues } from "../../protocol/index.js";
import type { BmsRecord } from "../firmware/bmsRecord.js";
import { expressBmsReply } from "../firmware/express.js";
import { SimDevice } from "../device.js";
import { asReceivedOverCan } from "./canHop.js";

const RECORD: BmsRecord = {
  vTot: 80.0123456,
  vCharge: 84,
  iIn: 1.23456789,
  iInIc: 1.3,
  ahCnt: 0.5,
  whCnt: 40,
  vCell: [4.0024, 4.1769],
  balState: [false, true],
  tempsAdc: [25.678, -281],
  tempIc: 30.5,
  tempHum: 22.25,
  hum: 45.5,
  tempMaxCell: 25.678,
  soc: 0.5,
  soh: 0.985,
  canId: 10,
  ahCntChgTotal: 100.1,
  whCntChgTotal: 2,
  ahCntDisTotal: 3,
  whCntDisTotal: 4,
  pressure: 101325,
  dataVersion: 1,
  status: "x".repeat(50),
};
const onWire = (r: BmsRecord) => decodeBmsValues(expressBmsReply(r, { major: 6, minor: 6 }));

describe("the BMS's values after the CAN hop into the Express's cache", () => {
  const direct = onWire(RECORD);
  const cached = onWire(asReceivedOverCan(RECORD));

  test("a cell at 4.0024 V is sent as 4002 mV and written by the Express as 4001 mV (truncated twice)", () => {
    expect(direct.cells).toEqual([4.002, 4.176]);
    expect(cached.cells).toEqual([4.001, 4.176]);
  });

  test("SOC and SOH travel as one byte ×255: 50 % → 127/255 → 49.8 %, 98.5 % → 98.4 %", () => {
    expect(direct.soc).toBe(50);
    expect(cached.soc).toBe(49.8);
    expect(cached.soh).toBe(98.4);
  });

  test("the hottest cell travels as whole degrees (int8)", () => {
    expect(direct.maxCellTemperature).toBe(25.67);
    expect(cached.maxCellTemperature).toBe(25);
  });

  test("float32_auto fields arrive as the same single; 'not applicable' slots stay ≤ −280 °C", () => {
    expect(cached.packVoltage).toBe(direct.packVoltage);
    expect(cached.current).toBe(direct.current);
    expect(cached.ampHoursChargedTotal).toBe(direct.ampHoursChargedTotal);
    expect(cached.temperatures[1]).toBe(-281);
    expect(cached.pressure).toBe(101320);
  });

  test("the status string is cut to the 40 bytes of five CAN frames", () => {
    expect(cached.status).toBe("x".repeat(40));
  });
});

describe("which BMS goes through CAN", () => {
  const clock = () => 1_700_000_000_000;

  test("a BMS on CAN: the Express's reply has byte-step SOC; the BMS's own reply does not", () => {
    const d = new SimDevice({ seed: 4, clock, startSoc: 0.5 });
    const own = d.bmsOwnState();
    expect(own.soc).toBe(0.5);
    expect(d.bmsValues().soc).toBe(49.8); // 127/255 on CAN
    expect(decodeBmsValues(d.canBmsReply()).soc).toBe(50);
  });

  test("a script-fed BMS (can id 255) sets the Express's floats directly", () => {
    const d = new SimDevice({ seed: 4, clock, startSoc: 0.5, bmsCanId: 255 });
    expect(d.bmsState()).toEqual(d.bmsOwnState());
  });
});
