import { describe, expect, test } from "vitest";
import { fixtureFrame, hex, toHex } from "../../../test/helpers/hex.js";
import { ByteWriter, decodeBmsValues } from "../../protocol/index.js";
import type { BmsRecord } from "./bmsRecord.js";
import {
  expressBmsReply,
  expressCustomConfigReply,
  expressFwVersionReply,
  mainConfigSignature,
} from "./express.js";

/** Expected bytes below were computed field by field in the firmware's order, with float32 products truncated. */
const RECORD: BmsRecord = {
  vTot: 8.3,
  vCharge: 0,
  iIn: -1.5,
  iInIc: 0.145,
  ahCnt: 1.2345,
  whCnt: 10.5,
  vCell: [4.1769, 4.123],
  balState: [true, false],
  tempsAdc: [25.678],
  tempIc: 30.5,
  tempHum: 22.25,
  hum: 45.5,
  tempMaxCell: 25.678,
  soc: 0.5,
  soh: 0.985,
  canId: 10,
  ahCntChgTotal: 1,
  whCntChgTotal: 2,
  ahCntDisTotal: 3,
  whCntDisTotal: 4,
  pressure: 101325,
  dataVersion: 1,
  status: "ok",
};
const HEAD =
  "60 007ea5e0 00000000 ffe91ca0 00023668 000004d2 00002904" + // v_tot … wh_cnt
  " 02 1050 101b 01 00" + // cells 4.176, 4.123 (4.1769 truncated), balancing
  " 01 0a07 0bea 08b1 11c6 0a07" + // temps: 25.67 (not 25.68), IC, hum temp, hum, max cell
  " 01f4 03d9"; // soc 0.500, soh 0.985
const CAN_ID_AND_TOTALS = " 0a 3f800000 40000000 40400000 40800000";
const PRESSURE = " 2794"; // 10132 ×10 Pa (101325 truncated)
const DATA_VERSION_AND_STATUS = " 01 6f6b00";

const fw = (major: number, minor: number) => ({ major, minor });

describe("Express BMS reply (vesc_express main/bms.c)", () => {
  test.each([
    ["5.02 (bldc bms.c before the Express)", fw(5, 2), HEAD],
    ["6.02, the Express's first BMS code: can id and totals", fw(6, 2), HEAD + CAN_ID_AND_TOTALS],
    ["6.04", fw(6, 4), HEAD + CAN_ID_AND_TOTALS],
    ["6.05 adds pressure", fw(6, 5), HEAD + CAN_ID_AND_TOTALS + PRESSURE],
    [
      "6.06 adds data version and status",
      fw(6, 6),
      HEAD + CAN_ID_AND_TOTALS + PRESSURE + DATA_VERSION_AND_STATUS,
    ],
    ["7.00", fw(7, 0), HEAD + CAN_ID_AND_TOTALS + PRESSURE + DATA_VERSION_AND_STATUS],
  ])("%s", (_name, version, expected) => {
    expect(toHex(expressBmsReply(RECORD, version))).toBe(toHex(hex(expected)));
  });

  test("the data version 1 test vector: temperatures [30, 25, 26, not applicable, 22]", () => {
    const record: BmsRecord = {
      ...RECORD,
      vTot: 50,
      iIn: 0,
      iInIc: 0,
      ahCnt: 0,
      whCnt: 0,
      vCell: [3.7],
      balState: [false],
      tempsAdc: [30, 25, 26, -281, 22],
      tempIc: 30,
      tempHum: 0,
      hum: 0,
      tempMaxCell: 26,
      soc: 0.5,
      soh: 1,
      ahCntChgTotal: 0,
      whCntChgTotal: 0,
      ahCntDisTotal: 0,
      whCntDisTotal: 0,
      pressure: 0,
      status: "OK",
    };
    const want = hex(
      `60 02 fa f0 80 ${"00 ".repeat(20)} 01 0e 74 00 05 0b b8 09 c4 0a 28 92 3c 08 98 0b b8 00 00 00 00 0a 28 01 f4 03 e8 0a ${"00 ".repeat(16)} 00 00 01 4f 4b 00`,
    );
    expect(toHex(expressBmsReply(record, fw(6, 6)))).toBe(toHex(want));
  });
});

describe("buffer.c scaling truncates toward zero in float32", () => {
  test("4.1769 V → 10 50 (rounding would give 10 51)", () => {
    expect(toHex(new ByteWriter().float16Truncated(4.1769, 1e3).finish())).toBe("10 50");
    expect(toHex(new ByteWriter().float16(4.1769, 1e3).finish())).toBe("10 51");
  });

  test("negative values truncate toward zero: −0.0019 A ×1e3 → −1", () => {
    expect(toHex(new ByteWriter().float32Truncated(-0.0019, 1e3).finish())).toBe("ff ff ff ff");
  });

  test("the product is single precision: the real capture's v_tot 83768008 µV", () => {
    // 83.768005… V as a float times 1e6 is 83768005.4 in double but 83768008 in float32.
    expect(toHex(new ByteWriter().float32Truncated(83.76800537109375, 1e6).finish())).toBe("04 fe 32 c8");
  });
});

describe("Express FW_VERSION (vesc_express main/commands.c)", () => {
  const id = {
    hardware: "VESC Express T",
    uuid: "aabbccddeeff000000000000",
    fwName: "",
    hwConfigCrc: 0xdde859ed,
  };

  test("6.05 is byte for byte the real device's reply (MAC anonymised in the fixture)", () => {
    const frame = fixtureFrame("fwVersion-express-fw65.hex");
    const payload = frame.subarray(2, 2 + (frame[1] ?? 0));
    expect(toHex(expressFwVersionReply(id, fw(6, 5)))).toBe(toHex(payload));
  });

  const NAME_AND_UUID = "56 45 53 43 20 45 78 70 72 65 73 73 20 54 00 aa bb cc dd ee ff 00 00 00 00 00 00";
  test.each([
    ["6.00 ends after the custom-config count", fw(6, 0), "00 06 00", " 00 00 02 01"],
    ["6.02 adds phase filters and QML flags", fw(6, 2), "00 06 02", " 00 00 02 01 00 00 00"],
    ["6.06 is 6.05's layout", fw(6, 6), "00 06 06", " 00 00 02 01 00 00 00 00 00 dd e8 59 ed"],
    ["5.02 (older than any Express) follows bldc 5.02", fw(5, 2), "00 05 02", " 00 00 02 01"],
    ["3.40 follows bldc 3.40: nothing after the UUID", fw(3, 40), "00 03 28", ""],
  ])("%s", (_name, version, head, tail) => {
    expect(toHex(expressFwVersionReply(id, version))).toBe(toHex(hex(`${head} ${NAME_AND_UUID}${tail}`)));
  });
});

describe("Express custom config (main/config/confparser.c)", () => {
  const config = {
    controllerId: 2,
    canBaudRate: 2,
    canStatusRateHz: 20,
    wifiMode: 1,
    wifiStaSsid: "s",
    wifiStaKey: "k",
    wifiApSsid: "a",
    wifiApKey: "p",
    useTcpLocal: true,
    useTcpHub: false,
    tcpHubUrl: "u",
    tcpHubPort: 65101,
    tcpHubId: "i",
    tcpHubPass: "x",
    bleMode: 1,
    bleName: "n",
    blePin: 123456,
    bleServiceCapacity: 3,
    bleChrDescrCapacity: 4,
  };

  test("6.05 sends the signature the real 6.05 Express sends: 9c 8e 25 ea", () => {
    const reply = expressCustomConfigReply(config, fw(6, 5));
    expect(toHex(reply.subarray(0, 6))).toBe("5d 00 9c 8e 25 ea");
    expect(mainConfigSignature(fw(6, 5))).toBe(2626561514);
    expect(toHex(reply.subarray(-8))).toBe("00 00 00 03 00 00 00 04");
  });

  test("6.06 and later: 1954583966; before 6.05: 723227950 without the BLE capacities", () => {
    expect(toHex(expressCustomConfigReply(config, fw(7, 0)).subarray(2, 6))).toBe("74 80 95 9e");
    const old = expressCustomConfigReply(config, fw(6, 2));
    expect(toHex(old.subarray(2, 6))).toBe("2b 1b 95 2e");
    expect(old.length).toBe(expressCustomConfigReply(config, fw(6, 5)).length - 8);
    expect(toHex(old.subarray(-4))).toBe("00 01 e2 40"); // ends with the BLE pin
  });
});

describe("the project's decoder reads every Express cut", () => {
  test.each([fw(5, 2), fw(6, 2), fw(6, 5), fw(6, 6)])("%o", (version) => {
    const v = decodeBmsValues(expressBmsReply(RECORD, version));
    expect(v.cells).toEqual([4.176, 4.123]);
    expect(v.soh).toBeCloseTo(98.5, 6);
  });
});
