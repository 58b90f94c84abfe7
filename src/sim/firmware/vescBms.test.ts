import { describe, expect, test } from "vitest";
import { hex, toHex } from "../../../test/helpers/hex.js";
import { decodeBmsValues, decodeFwVersion } from "../../protocol/index.js";
import type { BmsRecord } from "./bmsRecord.js";
import { expressBmsReply } from "./express.js";
import { vescBmsFwVersionReply, vescBmsReply } from "./vescBms.js";

const RECORD: BmsRecord = {
  vTot: 3.7,
  vCharge: 0,
  iIn: 0,
  iInIc: 0,
  ahCnt: 0,
  whCnt: 0,
  vCell: [3.7],
  balState: [false],
  tempsAdc: [25],
  tempIc: 30,
  tempHum: 0,
  hum: 0,
  tempMaxCell: 25,
  soc: 0.5,
  soh: 1,
  canId: 10,
  ahCntChgTotal: 0,
  whCntChgTotal: 0,
  ahCntDisTotal: 0,
  whCntDisTotal: 0,
  pressure: 100000,
  dataVersion: 1,
  status: "charging",
};

describe("VESC BMS on CAN (vesc_bms_fw commands.c)", () => {
  test("FW_VERSION: 6.00, name, UUID, then pairing, test version, HW_TYPE_VESC_BMS and one custom config", () => {
    const reply = vescBmsFwVersionReply("VESC BMS", "0102030405060708090a0b0c");
    expect(toHex(reply)).toBe(
      toHex(hex("00 06 00 56 45 53 43 20 42 4d 53 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 00 00 01 01")),
    );
    const fw = decodeFwVersion(reply);
    expect(fw.firmware).toBe("6.00");
    expect(fw.hwType).toBe(1);
    expect(fw.customConfigCount).toBe(1);
    expect(fw.hasPhaseFilters).toBeUndefined();
  });

  test("a hardware name longer than HW_NAME_MAX_CHARS (16) is cut", () => {
    const fw = decodeFwVersion(
      vescBmsFwVersionReply("a-very-long-bms-hardware-name", "000000000000000000000000"),
    );
    expect(fw.hardware).toBe("a-very-long-bms-");
  });

  test("BMS reply: ends after pressure (no data version, no status), whatever the Express runs", () => {
    const want = hex(
      `60 00 38 75 20 ${"00 ".repeat(20)} 01 0e 74 00 01 09 c4 0b b8 00 00 00 00 09 c4 01 f4 03 e8 0a ${"00 ".repeat(16)} 27 10`,
    );
    expect(toHex(vescBmsReply(RECORD))).toBe(toHex(want));
    expect(vescBmsReply(RECORD)).toEqual(expressBmsReply(RECORD, { major: 6, minor: 5 }));
    const v = decodeBmsValues(vescBmsReply(RECORD));
    expect(v.pressure).toBe(100_000);
    expect(v.dataVersion).toBeUndefined();
    expect(v.status).toBeUndefined();
  });
});
