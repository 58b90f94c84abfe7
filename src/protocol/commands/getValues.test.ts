import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixtureRequests, hex } from "../../../test/helpers/hex.js";
import type { MotorValues } from "../../model/reading.js";
import { isProtocolError } from "../errors.js";
import {
  ALL_VALUES_MASK,
  decodeValues,
  decodeValuesSelective,
  encodeValuesResponse,
  encodeValuesSelectiveResponse,
  getValues,
  getValuesSelective,
  VALUES_LAYOUT,
  valuesMask,
} from "./getValues.js";

const s = (min: number, max: number, scale: number) =>
  fc.integer({ min: Math.ceil(min * scale), max: Math.floor(max * scale) }).map((n) => n / scale);

const valuesArb: fc.Arbitrary<MotorValues> = fc.record({
  tempFet: s(-40, 150, 10),
  tempMotor: s(-40, 150, 10),
  currentMotor: s(-300, 300, 100),
  currentInput: s(-300, 300, 100),
  currentD: s(-300, 300, 100),
  currentQ: s(-300, 300, 100),
  dutyCycle: s(-1, 1, 1000),
  erpm: fc.integer({ min: -200000, max: 200000 }),
  inputVoltage: s(0, 100, 10),
  ampHours: s(0, 100, 10000),
  ampHoursCharged: s(0, 100, 10000),
  wattHours: s(0, 5000, 10000),
  wattHoursCharged: s(0, 5000, 10000),
  tachometer: fc.integer({ min: -2e9, max: 2e9 }),
  tachometerAbs: fc.integer({ min: 0, max: 2e9 }),
  fault: fc.integer({ min: 0, max: 33 }),
  pidPosition: s(0, 360, 1e6),
  controllerId: fc.integer({ min: 0, max: 254 }),
  tempMos1: s(-40, 150, 10),
  tempMos2: s(-40, 150, 10),
  tempMos3: s(-40, 150, 10),
  voltageD: s(-100, 100, 1000),
  voltageQ: s(-100, 100, 1000),
  status: fc.integer({ min: 0, max: 3 }),
});

const withFaultName = (v: MotorValues): MotorValues => {
  const { faultName: _ignored, ...rest } = v;
  return rest;
};

describe("COMM_GET_VALUES", () => {
  it("encodes the request bytes VESC Tool sends (also wrapped in FORWARD_CAN)", () => {
    const req = fixtureRequests();
    expect(req.get("GET_VALUES")?.subarray(2, 3)).toEqual(getValues.encodeRequest());
  });

  it("decodes a hand-assembled fw 6.x reply to the documented scales", () => {
    // temp_fet 30.5, temp_motor 40.0, I_motor 12.34, I_in 5.67, id 0, iq 1.00, duty 0.250, erpm 12000,
    // v_in 48.3, ah 1.2345, ah_chg 0.1, wh 59.5, wh_chg 4.8, tacho 1000, tacho_abs 2000, fault 0,
    // pid 90.0, id 84, mos 31.0/32.0/33.0, vd 1.5, vq 20.25, status 1
    const payload = hex(`04 0131 0190 000004d2 00000237 00000000 00000064 00fa 00002ee0 01e3
      00003039 000003e8 00091438 0000bb80 000003e8 000007d0 00 055d4a80 54 0136 0140 014a 000005dc 00004f1a 01`);
    expect(decodeValues(payload)).toEqual({
      tempFet: 30.5,
      tempMotor: 40,
      currentMotor: 12.34,
      currentInput: 5.67,
      currentD: 0,
      currentQ: 1,
      dutyCycle: 0.25,
      erpm: 12000,
      inputVoltage: 48.3,
      ampHours: 1.2345,
      ampHoursCharged: 0.1,
      wattHours: 59.5,
      wattHoursCharged: 4.8,
      tachometer: 1000,
      tachometerAbs: 2000,
      fault: 0,
      faultName: "FAULT_CODE_NONE",
      pidPosition: 90,
      controllerId: 84,
      tempMos1: 31,
      tempMos2: 32,
      tempMos3: 33,
      voltageD: 1.5,
      voltageQ: 20.25,
      status: 1,
    });
    expect(payload.length).toBe(74);
  });

  it("round-trips any reply and every old-firmware cut after the fault code", () => {
    const optional = VALUES_LAYOUT.filter((l) => l.bit >= 16);
    fc.assert(
      fc.property(valuesArb, fc.integer({ min: 0, max: optional.length }), (full, keep) => {
        const cut: Record<string, unknown> = { ...full };
        for (const l of optional.slice(keep)) for (const f of l.fields) delete cut[f];
        const v = cut as MotorValues;
        expect(withFaultName(decodeValues(encodeValuesResponse(v)))).toEqual(v);
      }),
    );
  });

  it("rejects truncated mandatory fields with ProtocolError", () => {
    const full = encodeValuesResponse({
      tempFet: 1,
      tempMotor: 1,
      currentMotor: 1,
      currentInput: 1,
      currentD: 1,
      currentQ: 1,
      dutyCycle: 0,
      erpm: 0,
      inputVoltage: 40,
      ampHours: 0,
      ampHoursCharged: 0,
      wattHours: 0,
      wattHoursCharged: 0,
      tachometer: 0,
      tachometerAbs: 0,
      fault: 0,
    });
    for (let n = 0; n < full.length; n++) {
      let err: unknown;
      try {
        decodeValues(full.subarray(0, n));
      } catch (e) {
        err = e;
      }
      expect(isProtocolError(err), `cut at ${n}`).toBe(true);
    }
  });

  it("decodes fault 30 as FAULT_CODE_ENCODER_SLIP (a 7.00 reply)", () => {
    const payload = hex(
      `04 01 38 01 1c ${"00 ".repeat(22)} 03 44 ${"00 ".repeat(24)} 1e 00 00 00 00 54 01 38 01 36 01 35 ${"00 ".repeat(9)}`,
    );
    const v = decodeValues(payload);
    expect(v).toMatchObject({
      tempFet: 31.2,
      tempMotor: 28.4,
      inputVoltage: 83.6,
      fault: 30,
      faultName: "FAULT_CODE_ENCODER_SLIP",
      controllerId: 84,
      tempMos1: 31.2,
      tempMos2: 31,
      tempMos3: 30.9,
      voltageD: 0,
      voltageQ: 0,
      status: 0,
    });
    expect(withFaultName(v)).toEqual(withFaultName(decodeValues(encodeValuesResponse(v))));
  });

  it("names fault codes 30–33 as bldc 7.00 does", () => {
    const names = [30, 31, 32, 33].map((fault) => {
      const payload = hex(
        `04 ${"00 ".repeat(4)} ${"00 ".repeat(22)} 01 f4 ${"00 ".repeat(24)} ${fault.toString(16)}`,
      );
      return decodeValues(payload).faultName;
    });
    expect(names).toEqual([
      "FAULT_CODE_ENCODER_SLIP",
      "FAULT_CODE_OVERSPEED",
      "FAULT_CODE_UNDERSPEED",
      "FAULT_CODE_ABS_OVERSPEED",
    ]);
  });

  it("names unknown fault codes instead of failing", () => {
    const v = decodeValues(
      encodeValuesResponse({
        tempFet: 1,
        tempMotor: 1,
        currentMotor: 1,
        currentInput: 1,
        currentD: 1,
        currentQ: 1,
        dutyCycle: 0,
        erpm: 0,
        inputVoltage: 40,
        ampHours: 0,
        ampHoursCharged: 0,
        wattHours: 0,
        wattHoursCharged: 0,
        tachometer: 0,
        tachometerAbs: 0,
        fault: 200,
      }),
    );
    expect(v.faultName).toBe("FAULT_CODE_UNKNOWN_200");
  });
});

describe("COMM_GET_VALUES_SELECTIVE", () => {
  it("request carries the mask big-endian", () => {
    expect(getValuesSelective.encodeRequest(0x00000181)).toEqual(hex("32 00 00 01 81"));
    expect(getValuesSelective.decodeRequest(hex("32 00 00 01 81"))).toBe(0x181);
  });

  it("valuesMask selects the bits of the named fields (bit 18 covers all MOS temps)", () => {
    expect(valuesMask(["tempFet", "erpm", "inputVoltage"])).toBe(0b1_1000_0001);
    expect(valuesMask(["tempMos2"])).toBe(1 << 18);
  });

  it("round-trips any mask: only the masked fields are on the wire", () => {
    fc.assert(
      fc.property(valuesArb, fc.integer({ min: 0, max: 0x3fffff }), (all, mask) => {
        const picked: Record<string, unknown> = {};
        for (const l of VALUES_LAYOUT) if ((mask >>> l.bit) & 1) for (const f of l.fields) picked[f] = all[f];
        const payload = encodeValuesSelectiveResponse({ mask, values: all });
        const size = 5 + VALUES_LAYOUT.reduce((n, l) => n + ((mask >>> l.bit) & 1 ? l.size : 0), 0);
        expect(payload.length).toBe(size);
        const decoded = decodeValuesSelective(payload);
        expect(decoded.mask).toBe(mask);
        expect(withFaultName(decoded.values)).toEqual(picked);
      }),
    );
  });

  it("decodes a 5.02 reply to mask 0x003fffff: status (since 5.03) absent", () => {
    const payload = hex(
      `32 00 3f ff ff 00 fa 01 2c ${"00 ".repeat(16)} 00 00 00 00 00 00 03 48 ${"00 ".repeat(16)}
       00 00 00 00 00 00 00 00 00 00 00 00 00 54 00 fa 00 fa 00 fa ${"00 ".repeat(8)}`,
    );
    expect(payload.length).toBe(77);
    const { mask, values } = decodeValuesSelective(payload);
    expect(mask).toBe(0x003fffff);
    expect(values).toMatchObject({
      tempFet: 25,
      tempMotor: 30,
      inputVoltage: 84,
      fault: 0,
      faultName: "FAULT_CODE_NONE",
      controllerId: 84,
      tempMos1: 25,
      tempMos2: 25,
      tempMos3: 25,
      voltageD: 0,
      voltageQ: 0,
    });
    expect("status" in values).toBe(false);
    expect(encodeValuesSelectiveResponse({ mask, values })).toEqual(payload);
  });

  it("decodes a 3.48 reply to the same mask: vd/vq (3.60) and status absent", () => {
    const payload = hex(
      `32 00 3f ff ff 00 fa 01 2c ${"00 ".repeat(16)} 00 00 00 00 00 00 03 48 ${"00 ".repeat(16)}
       00 00 00 00 00 00 00 00 00 00 00 00 00 54 00 fa 00 fa 00 fa`,
    );
    const { values } = decodeValuesSelective(payload);
    expect(values.tempMos3).toBe(25);
    expect(values.voltageD).toBeUndefined();
    expect(values.voltageQ).toBeUndefined();
    expect(values.status).toBeUndefined();
  });

  it("round-trips any mask and every old-firmware cut from bit 16 on", () => {
    const optional = VALUES_LAYOUT.filter((l) => l.bit >= 16);
    fc.assert(
      fc.property(
        valuesArb,
        fc.integer({ min: 0, max: 0x3fffff }),
        fc.integer({ min: 0, max: optional.length }),
        (all, mask, keep) => {
          const cut: Record<string, unknown> = { ...all };
          for (const l of optional.slice(keep)) for (const f of l.fields) delete cut[f];
          const picked: Record<string, unknown> = {};
          for (const l of VALUES_LAYOUT)
            if ((mask >>> l.bit) & 1 && l.fields.every((f) => f in cut))
              for (const f of l.fields) picked[f] = cut[f];
          const payload = encodeValuesSelectiveResponse({ mask, values: cut as MotorValues });
          const decoded = decodeValuesSelective(payload);
          expect(decoded.mask).toBe(mask);
          expect(withFaultName(decoded.values)).toEqual(picked);
        },
      ),
    );
  });

  it("a selective reply shorter than its mask promises is Truncated", () => {
    const payload = encodeValuesSelectiveResponse({ mask: 0x3, values: { tempFet: 20, tempMotor: 30 } });
    expect(() => decodeValuesSelective(payload.subarray(0, payload.length - 1))).toThrowError(/payload ends/);
    expect(ALL_VALUES_MASK).toBe(0xffffffff);
  });
});
