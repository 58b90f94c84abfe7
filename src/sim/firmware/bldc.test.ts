import { describe, expect, test } from "vitest";
import { hex, toHex } from "../../../test/helpers/hex.js";
import type { MotorValues } from "../../model/reading.js";
import { decodeValues, decodeValuesSelective, type FwVersion } from "../../protocol/index.js";
import { bldcFwVersionReply, bldcValuesReply, bldcValuesSelectiveReply } from "./bldc.js";

const fw = (major: number, minor: number) => ({ major, minor });
const zeros = (n: number): string => "00 ".repeat(n);

/** The fault-code test vector's controller: ENCODER_SLIP (30) on CAN id 84. */
const SLIPPING: MotorValues = {
  tempFet: 31.2,
  tempMotor: 28.4,
  currentMotor: 0,
  currentInput: 0,
  currentD: 0,
  currentQ: 0,
  dutyCycle: 0,
  erpm: 0,
  inputVoltage: 83.6,
  ampHours: 0,
  ampHoursCharged: 0,
  wattHours: 0,
  wattHoursCharged: 0,
  tachometer: 0,
  tachometerAbs: 0,
  fault: 30,
  pidPosition: 0,
  controllerId: 84,
  tempMos1: 31.2,
  tempMos2: 31.0,
  tempMos3: 30.9,
  voltageD: 0,
  voltageQ: 0,
  status: 0,
};

/** Bits 0–15, the part every 3.x+ controller sends, for SLIPPING. */
const BITS_0_15 = `01 38 01 1c ${zeros(22)} 03 44 ${zeros(24)} 1e`;

describe("bldc GET_VALUES (comm/commands.c), per firmware", () => {
  test.each([
    ["3.33 ends after the fault code", fw(3, 33), ""],
    ["3.34 adds pid_pos", fw(3, 34), " 00 00 00 00"],
    ["3.48 adds controller id and MOSFET temperatures", fw(3, 48), " 00 00 00 00 54 01 38 01 36 01 35"],
    ["3.60 adds vd/vq", fw(3, 60), ` 00 00 00 00 54 01 38 01 36 01 35 ${zeros(8)}`],
    ["5.02 still has no status", fw(5, 2), ` 00 00 00 00 54 01 38 01 36 01 35 ${zeros(8)}`],
    ["5.03 adds the status byte", fw(5, 3), ` 00 00 00 00 54 01 38 01 36 01 35 ${zeros(9)}`],
    ["6.05", fw(6, 5), ` 00 00 00 00 54 01 38 01 36 01 35 ${zeros(9)}`],
  ])("%s", (_name, version, tail) => {
    expect(toHex(bldcValuesReply(SLIPPING, version))).toBe(toHex(hex(`04 ${BITS_0_15}${tail}`)));
  });

  test("the fault-code vector decodes as FAULT_CODE_ENCODER_SLIP", () => {
    expect(decodeValues(bldcValuesReply(SLIPPING, fw(6, 5))).fault).toBe(30);
  });

  test("scaled values truncate: 12.349 A → 1234 (rounding: 1235), −0.0199 duty → −19", () => {
    const reply = bldcValuesReply({ ...SLIPPING, currentMotor: 12.349, dutyCycle: -0.0199 }, fw(6, 5));
    const v = decodeValues(reply);
    expect(v.currentMotor).toBe(12.34);
    expect(v.dutyCycle).toBe(-0.019);
  });
});

describe("bldc GET_VALUES_SELECTIVE: the mask echoed whole, only known fields appended", () => {
  const IDLE: MotorValues = {
    ...SLIPPING,
    tempFet: 25,
    tempMotor: 30,
    inputVoltage: 84,
    fault: 0,
    tempMos1: 25,
    tempMos2: 25,
    tempMos3: 25,
  };

  test("5.02 asked for 0x003fffff: the 77-byte test vector, no status byte", () => {
    const want = hex(
      `32 00 3f ff ff 00 fa 01 2c ${zeros(16)} 00 00 00 00 00 00 03 48 ${zeros(16)} 00 00 00 00 00 00 00 00 00 00 00 00 00 54 00 fa 00 fa 00 fa ${zeros(8)}`,
    );
    const reply = bldcValuesSelectiveReply(IDLE, 0x003fffff, fw(5, 2));
    expect(reply).toBeDefined();
    expect(toHex(reply ?? new Uint8Array())).toBe(toHex(want));
    expect(reply?.length).toBe(77);
  });

  test("5.03 appends the status byte", () => {
    const reply = bldcValuesSelectiveReply(IDLE, 0x003fffff, fw(5, 3));
    expect(reply?.length).toBe(78);
    expect(decodeValuesSelective(reply ?? new Uint8Array()).values.status).toBe(0);
  });

  test("3.48 asked for bits 16–21: mask echoed, pid_pos, id and MOSFET temps only", () => {
    const reply = bldcValuesSelectiveReply(IDLE, 0x003f0000, fw(3, 48));
    expect(toHex(reply ?? new Uint8Array())).toBe(
      toHex(hex("32 00 3f 00 00 00 00 00 00 54 00 fa 00 fa 00 fa")),
    );
  });

  test("a sparse mask picks fields in bit order", () => {
    const reply = bldcValuesSelectiveReply(IDLE, (1 << 8) | (1 << 17) | 1, fw(6, 5));
    expect(toHex(reply ?? new Uint8Array())).toBe(toHex(hex("32 00 02 01 01 00 fa 03 48 54")));
  });

  test("before 3.48 the command does not exist: no reply", () => {
    expect(bldcValuesSelectiveReply(IDLE, 0xffffffff, fw(3, 40))).toBeUndefined();
  });
});

describe("bldc FW_VERSION", () => {
  const ADV500: FwVersion = {
    major: 6,
    minor: 5,
    firmware: "6.05",
    hardware: "ADV500",
    uuid: "350021001347323333363233",
    paired: false,
    testVersion: 0,
    hwType: 0,
    customConfigCount: 1,
    hasPhaseFilters: false,
    qmlHw: 0,
    qmlApp: 1,
    nrfFlags: 0,
    fwName: "",
    hwConfigCrc: 0xe08acd97,
  };
  const NAME_AND_UUID = "41 44 56 35 30 30 00 35 00 21 00 13 47 32 33 33 36 32 33";

  test.each([
    [
      "6.05: the ADV500's forwarded reply from the stale-frame vector",
      fw(6, 5),
      " 00 00 00 01 00 00 01 00 00 e0 8a cd 97",
    ],
    ["6.00: no hw config CRC", fw(6, 0), " 00 00 00 01 00 00 01 00 00"],
    ["5.03: phase filters and QML, no NRF flags or name", fw(5, 3), " 00 00 00 01 00 00 01"],
    ["5.02: hw type and config count", fw(5, 2), " 00 00 00 01"],
    ["5.00: test version", fw(5, 0), " 00 00"],
    ["3.48: pairing flag", fw(3, 48), " 00"],
    ["3.40: nothing after the UUID", fw(3, 40), ""],
  ])("%s", (_name, version, tail) => {
    const head = `00 ${toHex(Uint8Array.of(version.major, version.minor))}`;
    expect(toHex(bldcFwVersionReply(ADV500, version))).toBe(toHex(hex(`${head} ${NAME_AND_UUID}${tail}`)));
  });
});
