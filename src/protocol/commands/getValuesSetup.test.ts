import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hex } from "../../../test/helpers/hex.js";
import type { SetupValues } from "../../model/ride.js";
import { isProtocolError } from "../errors.js";
import { encodeFrame } from "../frame.js";
import { wrapForwardCan } from "./forwardCan.js";
import {
  decodeValuesSetup,
  decodeValuesSetupSelective,
  encodeValuesSetupResponse,
  encodeValuesSetupSelectiveResponse,
  getValuesSetup,
  getValuesSetupSelective,
  SETUP_LAYOUT,
  setupMask,
} from "./getValuesSetup.js";

const s = (min: number, max: number, scale: number) =>
  fc.integer({ min: Math.ceil(min * scale), max: Math.floor(max * scale) }).map((n) => n / scale);

const setupArb: fc.Arbitrary<SetupValues> = fc.record({
  tempFet: s(-40, 150, 10),
  tempMotor: s(-40, 150, 10),
  currentMotorTotal: s(-600, 600, 100),
  currentInputTotal: s(-600, 600, 100),
  dutyCycle: s(-1, 1, 1000),
  erpm: fc.integer({ min: -200000, max: 200000 }),
  speedMps: s(-60, 60, 1000),
  inputVoltage: s(0, 100, 10),
  batteryLevel: s(0, 1, 1000),
  ampHoursTotal: s(0, 100, 10000),
  ampHoursChargedTotal: s(0, 100, 10000),
  wattHoursTotal: s(0, 5000, 10000),
  wattHoursChargedTotal: s(0, 5000, 10000),
  tripDistanceM: s(-100000, 100000, 1000),
  tripDistanceAbsM: s(0, 100000, 1000),
  pidPosition: s(0, 360, 1e6),
  fault: fc.integer({ min: 0, max: 33 }),
  controllerId: fc.integer({ min: 0, max: 254 }),
  vescCount: fc.integer({ min: 1, max: 8 }),
  wattHoursLeft: s(0, 3000, 1000),
  odometerM: fc.integer({ min: 0, max: 0xffffffff }),
  uptimeMs: fc.integer({ min: 0, max: 0xffffffff }),
});

const withoutFaultName = (v: SetupValues): SetupValues => {
  const { faultName: _ignored, ...rest } = v;
  return rest;
};

/**
 * A reply in bldc `comm/commands.c` order (COMM_GET_VALUES_SETUP): temp_fet 25.0, temp_motor
 * 30.0, current_tot 12.34, current_in_tot 5.67, duty 0.250, rpm 12000, speed 7.500 m/s,
 * v_in 83.6, battery_level 0.875, ah 1.2345, ah_chg 0.1, wh 59.5, wh_chg 4.8, distance
 * 1234.567 m, distance_abs 2000 m, pid_pos 90, fault 0, id 84, num_vescs 1, wh_left 800.5.
 */
const BODY_348 = `00fa 012c 000004d2 00000237 00fa 00002ee0 00001d4c 0344 036b
  00003039 000003e8 00091438 0000bb80 0012d687 001e8480 055d4a80 00 54 01 000c36f4`;
const ODOMETER_502 = "0001e240"; // 123456 m
const UPTIME_503 = "0036ee80"; // 3600000 ms

const EXPECTED_348: SetupValues = {
  tempFet: 25,
  tempMotor: 30,
  currentMotorTotal: 12.34,
  currentInputTotal: 5.67,
  dutyCycle: 0.25,
  erpm: 12000,
  speedMps: 7.5,
  inputVoltage: 83.6,
  batteryLevel: 0.875,
  ampHoursTotal: 1.2345,
  ampHoursChargedTotal: 0.1,
  wattHoursTotal: 59.5,
  wattHoursChargedTotal: 4.8,
  tripDistanceM: 1234.567,
  tripDistanceAbsM: 2000,
  pidPosition: 90,
  fault: 0,
  faultName: "FAULT_CODE_NONE",
  controllerId: 84,
  vescCount: 1,
  wattHoursLeft: 800.5,
};

describe("COMM_GET_VALUES_SETUP", () => {
  it("forwarded to CAN 84 is the frame `02 03 22 54 2f ff 50 03`", () => {
    expect(encodeFrame(wrapForwardCan(84, getValuesSetup.encodeRequest()))).toEqual(
      hex("02 03 22 54 2f ff 50 03"),
    );
  });

  it("decodes every firmware cut: 3.48–5.01 (62 bytes), 5.02 + odometer, 5.03 + uptime", () => {
    const r348 = hex(`2f ${BODY_348}`);
    const r502 = hex(`2f ${BODY_348} ${ODOMETER_502}`);
    const r503 = hex(`2f ${BODY_348} ${ODOMETER_502} ${UPTIME_503}`);
    expect([r348.length, r502.length, r503.length]).toEqual([62, 66, 70]);
    expect(decodeValuesSetup(r348)).toEqual(EXPECTED_348);
    expect(decodeValuesSetup(r502)).toEqual({ ...EXPECTED_348, odometerM: 123456 });
    expect(decodeValuesSetup(r503)).toEqual({ ...EXPECTED_348, odometerM: 123456, uptimeMs: 3_600_000 });
  });

  it("encodes each cut back to the firmware's bytes", () => {
    const v503 = decodeValuesSetup(hex(`2f ${BODY_348} ${ODOMETER_502} ${UPTIME_503}`));
    expect(encodeValuesSetupResponse(v503)).toEqual(hex(`2f ${BODY_348} ${ODOMETER_502} ${UPTIME_503}`));
    const { odometerM: _o, uptimeMs: _u, ...v348 } = v503;
    expect(encodeValuesSetupResponse(v348)).toEqual(hex(`2f ${BODY_348}`));
  });

  it("round-trips any reply at every version cut", () => {
    fc.assert(
      fc.property(setupArb, fc.integer({ min: 0, max: 2 }), (full, keep) => {
        const v: SetupValues = { ...full };
        if (keep < 2) delete v.uptimeMs;
        if (keep < 1) delete v.odometerM;
        expect(withoutFaultName(decodeValuesSetup(encodeValuesSetupResponse(v)))).toEqual(v);
      }),
    );
  });

  it("rejects every truncation of the 3.48 part with ProtocolError", () => {
    const full = hex(`2f ${BODY_348}`);
    for (let n = 0; n < full.length; n++) {
      let err: unknown;
      try {
        decodeValuesSetup(full.subarray(0, n));
      } catch (e) {
        err = e;
      }
      expect(isProtocolError(err), `cut at ${n}`).toBe(true);
    }
  });

  it("a reply of another command is UnexpectedCommand", () => {
    expect(() => decodeValuesSetup(hex(`04 ${BODY_348}`))).toThrow(/COMM_GET_VALUES_SETUP/);
  });
});

describe("COMM_GET_VALUES_SETUP_SELECTIVE", () => {
  const RIDE_MASK = 0x1f61c0;

  it("the ride mask 0x1F61C0 forwarded to 84 is `02 07 22 54 33 00 1f 61 c0 14 19 03`", () => {
    expect(
      setupMask([
        "speedMps",
        "inputVoltage",
        "batteryLevel",
        "tripDistanceM",
        "tripDistanceAbsM",
        "fault",
        "controllerId",
        "vescCount",
        "wattHoursLeft",
        "odometerM",
      ]),
    ).toBe(RIDE_MASK);
    expect(encodeFrame(wrapForwardCan(84, getValuesSetupSelective.encodeRequest(RIDE_MASK)))).toEqual(
      hex("02 07 22 54 33 00 1f 61 c0 14 19 03"),
    );
    expect(getValuesSetupSelective.decodeRequest(hex("33 00 1f 61 c0"))).toBe(RIDE_MASK);
  });

  it("a 5.01 controller echoes the mask but sends no odometer; 5.02 does", () => {
    // speed 7.5, v_in 83.6, level 0.875, distance 1234.567, abs 2000, fault 0, id 84, 1 VESC, 800.5 Wh
    const body = "00001d4c 0344 036b 0012d687 001e8480 00 54 01 000c36f4";
    const r501 = decodeValuesSetupSelective(hex(`33 001f61c0 ${body}`));
    expect(r501.mask).toBe(RIDE_MASK);
    expect(r501.values).toEqual({
      speedMps: 7.5,
      inputVoltage: 83.6,
      batteryLevel: 0.875,
      tripDistanceM: 1234.567,
      tripDistanceAbsM: 2000,
      fault: 0,
      faultName: "FAULT_CODE_NONE",
      controllerId: 84,
      vescCount: 1,
      wattHoursLeft: 800.5,
    });
    expect(decodeValuesSetupSelective(hex(`33 001f61c0 ${body} ${ODOMETER_502}`)).values.odometerM).toBe(
      123456,
    );
  });

  it("round-trips any mask: only the masked fields are on the wire", () => {
    fc.assert(
      fc.property(setupArb, fc.integer({ min: 0, max: 0x3fffff }), (all, mask) => {
        const picked: Record<string, unknown> = {};
        for (const l of SETUP_LAYOUT) if ((mask >>> l.bit) & 1) picked[l.field] = all[l.field];
        const payload = encodeValuesSetupSelectiveResponse({ mask, values: all });
        const size = 5 + SETUP_LAYOUT.reduce((n, l) => n + ((mask >>> l.bit) & 1 ? l.size : 0), 0);
        expect(payload.length).toBe(size);
        const decoded = decodeValuesSetupSelective(payload);
        expect(decoded.mask).toBe(mask);
        expect(withoutFaultName(decoded.values)).toEqual(picked);
      }),
    );
  });
});
