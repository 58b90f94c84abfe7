import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hex } from "../../../test/helpers/hex.js";
import { ALLDATA_MODE1, allDataReply, allDataValues } from "../../../test/helpers/refloatAllData.js";
import { REFLOAT_INFO_V2 } from "../../../test/helpers/refloatInfo.js";
import type { BalanceAllData, RefloatRealtimeValues, RefloatStateFlags } from "../../model/ride.js";
import { isProtocolError } from "../errors.js";
import { encodeFrame } from "../frame.js";
import { wrapForwardCan } from "./forwardCan.js";
import {
  balanceAllData,
  balanceInfo,
  balanceRunState,
  decodeBalanceAllData,
  decodeBalanceInfo,
  decodeCustomAppData,
  decodeRefloatAlerts,
  decodeRefloatRealtime,
  decodeStateFlags,
  encodeBalanceAllDataResponse,
  encodeBalanceInfoResponse,
  encodeRefloatAlertsResponse,
  encodeRefloatRealtimeResponse,
  encodeStateFlags,
  fromRefloatFloat16,
  REALTIME_LAYOUT,
  realtimeMasks,
  refloatAlerts,
  refloatRealtime,
  toRefloatFloat16,
} from "./refloat.js";

const ascii20 = (s: string) =>
  Array.from({ length: 20 }, (_, i) => (s.charCodeAt(i) || 0).toString(16).padStart(2, "0")).join(" ");

function expectProtocolErrorOnEveryCut(full: Uint8Array, decode: (p: Uint8Array) => unknown): void {
  for (let n = 0; n < full.length; n++) {
    let err: unknown;
    try {
      decode(full.subarray(0, n));
    } catch (e) {
      err = e;
    }
    expect(isProtocolError(err), `cut at ${n}`).toBe(true);
  }
}

describe("COMMAND_INFO (package id 101)", () => {
  it("the v2 request forwarded to CAN 84 is `02 07 22 54 24 65 00 02 00 7a 67 03`", () => {
    expect(encodeFrame(wrapForwardCan(84, balanceInfo.encodeRequest({ version: 2 })))).toEqual(
      hex("02 07 22 54 24 65 00 02 00 7a 67 03"),
    );
    expect(balanceInfo.decodeRequest(hex("24 65 00 02 00"))).toEqual({ version: 2, flags: 0 });
    // No version byte means version 1 (Refloat cmd_info).
    expect(balanceInfo.decodeRequest(hex("24 65 00"))).toEqual({ version: 1, flags: 0 });
  });

  it("decodes a v1 reply (Float 2.0 answers `10·version, build 1, led type`)", () => {
    expect(decodeBalanceInfo(hex("24 65 00 14 01 00"))).toEqual({
      infoVersion: 1,
      majorMinor: 20,
      build: 1,
      ledType: 0,
    });
  });

  it("decodes a v2 reply in cmd_info's order (Refloat 1.2.3)", () => {
    const payload = hex(
      `24 65 00 02 00 ${ascii20("Refloat")} 01 02 03 ${ascii20("")} 80 0a 46 bf 00 00 27 10 80 00 00 01 00`,
    );
    expect(payload.length).toBe(61);
    const info = decodeBalanceInfo(payload);
    expect(info).toEqual(REFLOAT_INFO_V2);
    expect(encodeBalanceInfoResponse(info)).toEqual(payload);
    expectProtocolErrorOnEveryCut(payload, decodeBalanceInfo);
  });

  it("a 20-byte name uses all bytes without a NUL", () => {
    const info = decodeBalanceInfo(
      hex(
        `24 65 00 02 00 ${ascii20("ABCDEFGHIJKLMNOPQRST")} 01 00 00 ${ascii20("beta2")} 00000000 00002710 00000000 00`,
      ),
    );
    expect(info).toMatchObject({ name: "ABCDEFGHIJKLMNOPQRST", suffix: "beta2" });
  });

  it("rejects version bytes that are neither 2 nor a v1 major·10+minor", () => {
    expect(() => decodeBalanceInfo(hex("24 65 00 00 00"))).toThrow(/unsupported info version 0/);
    expect(() => decodeBalanceInfo(hex("24 66 00 14 01 00"))).toThrow(/package id 102/);
  });
});

describe("COMMAND_GET_ALLDATA (Float and Refloat)", () => {
  it("request is `24 65 0a <mode>`", () => {
    expect(balanceAllData.encodeRequest(4)).toEqual(hex("24 65 0a 04"));
    expect(balanceAllData.decodeRequest(hex("24 65 0a 04"))).toBe(4);
  });

  it("decodes modes 1–4: 34/41/54/58 package bytes (the source's `ind =` comments say one more)", () => {
    const replies = ([1, 2, 3, 4] as const).map(allDataReply);
    expect(replies.map((p) => p.length - 1)).toEqual([34, 41, 54, 58]);
    for (const mode of [1, 2, 3, 4] as const) {
      expect(decodeBalanceAllData(allDataReply(mode))).toEqual(allDataValues(mode));
    }
    const m4 = allDataReply(4);
    expect(encodeBalanceAllDataResponse(allDataValues(4))).toEqual(m4);
    expectProtocolErrorOnEveryCut(m4, decodeBalanceAllData);
  });

  it("decodes the fault variant `69, fault` and 222 as 'no FOC d-current'", () => {
    expect(decodeBalanceAllData(hex("24 65 0a 45 03"))).toEqual({ fault: 3, faultName: "FAULT_CODE_DRV" });
    const noFoc = hex(`24 65 0a 01 ${ALLDATA_MODE1.slice(0, -2)}de`);
    expect(decodeBalanceAllData(noFoc)).not.toHaveProperty("focId");
  });

  it("names the Float-compatible states and flags handtest and the beep reason", () => {
    // state 14 (CHARGING), switch byte: one pad + handtest + beep 8 (low battery)
    const body = ALLDATA_MODE1.replace("21 02", "0e 89");
    const v = decodeBalanceAllData(hex(`24 65 0a 01 ${body}`));
    expect(v).toMatchObject({ state: "charging", footpad: "one", handtest: true, beepReason: 8 });
  });

  it("rejects a footpad code the package cannot send", () => {
    const body = ALLDATA_MODE1.replace("21 02", "21 03");
    expect(() => decodeBalanceAllData(hex(`24 65 0a 01 ${body}`))).toThrow(/footpad state 3/);
  });

  it("round-trips any reply quantised to the wire steps", () => {
    const q = (min: number, max: number, scale: number) =>
      fc.integer({ min: Math.ceil(min * scale), max: Math.floor(max * scale) }).map((n) => n / scale);
    const arb = fc.record({
      mode: fc.integer({ min: 1, max: 4 }),
      balanceCurrent: q(-300, 300, 10),
      balancePitch: q(-90, 90, 10),
      roll: q(-90, 90, 10),
      stateCode: fc.integer({ min: 0, max: 15 }),
      satCode: fc.integer({ min: 0, max: 15 }),
      footpad: fc.constantFrom("none" as const, "one" as const, "both" as const),
      handtest: fc.boolean(),
      beepReason: fc.integer({ min: 0, max: 15 }),
      adc: fc.tuple(q(0, 5.1, 50), q(0, 5.1, 50)),
      setpoints: fc.array(q(-25.6, 25.4, 5), { minLength: 6, maxLength: 6 }),
      pitch: q(-90, 90, 10),
      boosterCurrent: fc.integer({ min: -128, max: 127 }),
      batteryVoltage: q(0, 200, 10),
      erpm: fc.integer({ min: -32768, max: 32767 }),
      speedMps: q(-50, 50, 10),
      motorCurrent: q(-300, 300, 10),
      batteryCurrent: q(-300, 300, 10),
      dutyCycle: q(-1.28, 1.27, 100),
      focId: fc.option(q(0, 73, 3), { nil: undefined }),
      distanceAbsM: fc.integer({ min: 0, max: 1_000_000 }),
      temps: fc.tuple(q(0, 127, 2), q(0, 127, 2)),
      odometerM: fc.integer({ min: 0, max: 0xffffffff }),
      ah: fc.tuple(q(0, 3000, 10), q(0, 3000, 10)),
      wh: fc.tuple(fc.integer({ min: 0, max: 32767 }), fc.integer({ min: 0, max: 32767 })),
      batteryPercent: q(0, 125, 2),
      charging: fc.tuple(q(-100, 100, 10), q(0, 200, 10)),
    });
    fc.assert(
      fc.property(arb, (a) => {
        const [setpoint, atr, brake, torque, turn, remote] = a.setpoints as [number, ...number[]];
        const v = {
          mode: a.mode,
          balanceCurrent: a.balanceCurrent,
          balancePitch: a.balancePitch,
          roll: a.roll,
          stateCode: a.stateCode,
          state: balanceRunState(a.stateCode),
          satCode: a.satCode,
          footpad: a.footpad,
          handtest: a.handtest,
          beepReason: a.beepReason,
          adcLeftV: a.adc[0],
          adcRightV: a.adc[1],
          setpoint,
          atrSetpoint: atr,
          brakeTiltSetpoint: brake,
          torqueTiltSetpoint: torque,
          turnTiltSetpoint: turn,
          remoteSetpoint: remote,
          pitch: a.pitch,
          boosterCurrent: a.boosterCurrent,
          batteryVoltage: a.batteryVoltage,
          erpm: a.erpm,
          speedMps: a.speedMps,
          motorCurrent: a.motorCurrent,
          batteryCurrent: a.batteryCurrent,
          dutyCycle: a.dutyCycle,
          ...(a.focId === undefined ? {} : { focId: a.focId }),
          ...(a.mode >= 2
            ? { distanceAbsM: a.distanceAbsM, tempMosfet: a.temps[0], tempMotor: a.temps[1] }
            : {}),
          ...(a.mode >= 3
            ? {
                odometerM: a.odometerM,
                ampHours: a.ah[0],
                ampHoursCharged: a.ah[1],
                wattHours: a.wh[0],
                wattHoursCharged: a.wh[1],
                batteryPercent: a.batteryPercent,
              }
            : {}),
          ...(a.mode >= 4 ? { chargingCurrent: a.charging[0], chargingVoltage: a.charging[1] } : {}),
        };
        // The conditional spreads type as optional-or-undefined; every present field is a number.
        expect(decodeBalanceAllData(encodeBalanceAllDataResponse(v as BalanceAllData))).toEqual(v);
      }),
    );
  });
});

describe("Refloat float16", () => {
  it("decodes every 16-bit pattern to a finite number and re-encodes it (exponent 31 is a number)", () => {
    expect(fromRefloatFloat16(0x7c00)).toBe(65536);
    expect(fromRefloatFloat16(0x7fff)).toBe(131008);
    expect(fromRefloatFloat16(0x0001)).toBe(2 ** -24);
    const bad: string[] = [];
    for (let n = 0; n < 0x10000; n++) {
      const x = fromRefloatFloat16(n);
      if (!Number.isFinite(x) || (n !== 0x8000 && toRefloatFloat16(x) !== n)) bad.push(n.toString(16));
    }
    expect(bad).toEqual([]);
  });

  it("rounds to nearest and saturates like to_float16", () => {
    expect(toRefloatFloat16(25.5)).toBe(0x4e60);
    expect(toRefloatFloat16(80.1)).toBe(0x5502); // 80.125, the nearest half step
    expect(toRefloatFloat16(1e6)).toBe(0x7fff);
    expect(toRefloatFloat16(-1e6)).toBe(0xffff);
  });
});

describe("COMMAND_REALTIME_DATA (Refloat ≥ 1.3)", () => {
  it("encodes REALTIME_DATA.md's example request and decodes its 25-byte float32 reply", () => {
    const req = { controlFlags: 1, mask1: 0x1140, mask2: 0 };
    expect(refloatRealtime.encodeRequest(req)).toEqual(hex("24 65 21 01 00001140 00000000"));
    expect(refloatRealtime.decodeRequest(hex("24 65 21 01 00001140"))).toEqual(req);
    // speed 25.5 km/h, current 10.0 A, battery 83.5 V as float32; time 12345 ticks
    const reply = hex("24 65 21 01 00001140 00000000 00003039 41cc0000 41200000 42a70000");
    expect(reply.length - 3).toBe(25);
    expect(decodeRefloatRealtime(reply)).toEqual({
      controlFlags: 1,
      mask1: 0x1140,
      mask2: 0,
      time: 12345,
      values: { speedKmh: 25.5, current: 10, batteryVoltage: 83.5 },
    });
  });

  it("decodes float16 values, state flags and mask2 fields in cmd_realtime_data's order", () => {
    const masks = realtimeMasks([
      "stateFlags",
      "speedKmh",
      "batteryVoltage",
      "pitch",
      "roll",
      "adcLeftV",
      "adcRightV",
      "odometerM",
      "chargingVoltage",
      "chargingCurrent",
    ]);
    expect(masks).toEqual({ mask1: 0x3a1042, mask2: 0xd });
    const reply = hex(
      `24 65 21 00 003a1042 0000000d 00000064 03c00000 4e60 5500 3e00 c000 4200 3400 0001e240 5540 4000`,
    );
    const { values } = decodeRefloatRealtime(reply);
    expect(values).toEqual({
      stateFlags: {
        mode: "normal",
        state: "running",
        footpad: "both",
        charging: false,
        fatalError: false,
        darkride: false,
        wheelslip: false,
        sat: 0,
        stopCondition: 0,
        beepReason: 0,
      },
      speedKmh: 25.5,
      batteryVoltage: 80,
      pitch: 1.5,
      roll: -2,
      adcLeftV: 3,
      adcRightV: 0.25,
      odometerM: 123456,
      chargingVoltage: 84,
      chargingCurrent: 2,
    });
    expectProtocolErrorOnEveryCut(reply, decodeRefloatRealtime);
  });

  it("unpacks state_flags as encode_state_flags packs them (charging while ready)", () => {
    expect(decodeStateFlags(0x02200000)).toMatchObject({ state: "ready", charging: true, footpad: "none" });
    expect(decodeStateFlags(0x12910502)).toEqual({
      mode: "handtest",
      state: "ready",
      footpad: "right",
      charging: false,
      fatalError: true,
      darkride: false,
      wheelslip: true,
      sat: 0,
      stopCondition: 5,
      beepReason: 2,
    });
  });

  it("a pre-GNSS 1.3 build asked for GNSS sends nothing for it: decoded without the fields", () => {
    const reply = hex("24 65 21 00 00000000 00000601 00000001 0001e240");
    expect(decodeRefloatRealtime(reply).values).toEqual({ odometerM: 123456 });
  });

  it("a NaN GNSS position is rejected, never published", () => {
    const reply = hex("24 65 21 00 00000000 00000200 00000001 7ff8000000000000");
    expect(() => decodeRefloatRealtime(reply)).toThrow(/gnssLat/);
  });

  it("round-trips any masks in float16 and float32", () => {
    const flagsArb: fc.Arbitrary<RefloatStateFlags> = fc.record({
      mode: fc.constantFrom("normal" as const, "handtest" as const, "flywheel" as const, "unknown" as const),
      state: fc.constantFrom("disabled" as const, "startup" as const, "ready" as const, "running" as const),
      footpad: fc.constantFrom("none" as const, "left" as const, "right" as const, "both" as const),
      charging: fc.boolean(),
      fatalError: fc.boolean(),
      darkride: fc.boolean(),
      wheelslip: fc.boolean(),
      sat: fc.integer({ min: 0, max: 15 }),
      stopCondition: fc.integer({ min: 0, max: 15 }),
      beepReason: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 64, maxLength: 64 }),
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), {
          minLength: 64,
          maxLength: 64,
        }),
        flagsArb,
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 2, maxLength: 2 }),
        (f32, mask1, mask2, halves, floats, stateFlags, doubles) => {
          const values: Record<string, unknown> = {};
          REALTIME_LAYOUT.forEach((f, i) => {
            if (!(((f.mask === 1 ? mask1 : mask2) >>> f.bit) & 1)) return;
            if (f.wire === "state") values[f.field] = stateFlags;
            else if (f.wire === "u8") values[f.field] = (halves[i] as number) & 0xff;
            else if (f.wire === "u32") values[f.field] = (halves[i] as number) * 65537;
            else if (f.wire === "f64") values[f.field] = doubles[f.bit - 9];
            else if (f32) values[f.field] = Math.abs(floats[i] as number) < 1.5e-38 ? 0 : floats[i];
            else values[f.field] = fromRefloatFloat16(halves[i] as number);
          });
          const reply = {
            controlFlags: f32 ? 1 : 0,
            mask1,
            mask2,
            time: 7,
            values: values as RefloatRealtimeValues,
          };
          expect(decodeRefloatRealtime(encodeRefloatRealtimeResponse(reply))).toEqual(reply);
        },
      ),
    );
  });

  it("state flags round-trip through the packed word", () => {
    const s = decodeStateFlags(0x21e3a7f1);
    expect(encodeStateFlags(s)).toBe(0x21e3a7f1 & 0x33f3ffff);
  });
});

describe("COMMAND_ALERTS_LIST (Refloat ≥ 1.2)", () => {
  it("request: optional u32 `since`", () => {
    expect(refloatAlerts.encodeRequest(undefined)).toEqual(hex("24 65 23"));
    expect(refloatAlerts.encodeRequest(0x1000)).toEqual(hex("24 65 23 00001000"));
    expect(refloatAlerts.decodeRequest(hex("24 65 23 00001000"))).toBe(0x1000);
    expect(refloatAlerts.decodeRequest(hex("24 65 23 00 10"))).toBeUndefined();
  });

  it("decodes cmd_alerts_list's order: masks, fault + name, count, records", () => {
    // ALERT_FW_FAULT (id 1, mask bit 0) active with fault 3 "DRV"; log: it began at tick
    // 0x1000, and an earlier one ended at 0x0800.
    const payload = hex(`24 65 23 00000001 00000000 03 03 445256 02
      00000800 01 00 00
      00001000 01 01 03 03 445256`);
    const alerts = decodeRefloatAlerts(payload);
    expect(alerts).toEqual({
      activeMask: 1,
      activeMask2: 0,
      fwFaultCode: 3,
      fwFaultName: "DRV",
      log: [
        { time: 0x800, id: 1, active: false, code: 0 },
        { time: 0x1000, id: 1, active: true, code: 3, faultName: "DRV" },
      ],
    });
    expect(encodeRefloatAlertsResponse(alerts)).toEqual(payload);
    expectProtocolErrorOnEveryCut(payload, decodeRefloatAlerts);
    expect(decodeRefloatAlerts(hex("24 65 23 00000000 00000000 00 00"))).toEqual({
      activeMask: 0,
      activeMask2: 0,
      fwFaultCode: 0,
      log: [],
    });
  });

  it("round-trips any alert list", () => {
    const record = fc
      .record({
        time: fc.integer({ min: 0, max: 0xffffffff }),
        id: fc.integer({ min: 0, max: 255 }),
        active: fc.boolean(),
        code: fc.integer({ min: 0, max: 255 }),
        name: fc.string({ unit: fc.constantFrom("A", "B", "_", "1"), maxLength: 50 }),
      })
      .map(({ name, ...r }) => (r.code !== 0 ? { ...r, faultName: name } : r));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 255 }),
        fc.string({ unit: fc.constantFrom("X", "Y"), maxLength: 50 }),
        fc.array(record, { maxLength: 20 }),
        (activeMask, fwFaultCode, name, log) => {
          const alerts = {
            activeMask,
            activeMask2: 0,
            fwFaultCode,
            ...(fwFaultCode !== 0 ? { fwFaultName: name } : {}),
            log,
          };
          expect(decodeRefloatAlerts(encodeRefloatAlertsResponse(alerts))).toEqual(alerts);
        },
      ),
    );
  });
});

describe("COMM_CUSTOM_APP_DATA dispatch", () => {
  it("tags the balance package's replies and passes other packages through", () => {
    expect(decodeCustomAppData(hex("24 65 00 14 01 00"))).toMatchObject({ command: "info" });
    expect(decodeCustomAppData(hex("24 65 0a 45 03"))).toMatchObject({ command: "allData" });
    expect(decodeCustomAppData(hex("24 07 01 02 03"))).toEqual({
      command: "other",
      packageId: 7,
      packageCommand: 1,
    });
    expect(() => decodeCustomAppData(hex("24 65"))).toThrow(/package command/);
  });
});
