import { connect } from "node:net";
import { describe, expect, test } from "vitest";
import { hex } from "../../../test/helpers/hex.js";
import type { BalanceAllData, SetupValues } from "../../model/ride.js";
import {
  balanceAllData,
  balanceInfo,
  CommandId,
  decodeBalanceAllData,
  decodeBalanceInfo,
  decodeBatteryCut,
  decodeImuData,
  decodeRefloatAlerts,
  decodeRefloatRealtime,
  decodeStats,
  decodeValues,
  decodeValuesSetup,
  decodeValuesSetupSelective,
  encodeFrame,
  FrameDecoder,
  getImuData,
  getStats,
  getValuesSetup,
  getValuesSetupSelective,
  isAllDataFault,
  realtimeMasks,
  refloatRealtime,
  wrapForwardCan,
} from "../../protocol/index.js";
import { answerLikeFirmware } from "../behaviors.js";
import { SimDevice, type SimDeviceOptions } from "../device.js";
import { speedFromErpm } from "../model/ride.js";
import { startSimulator } from "../server.js";
import type { Firmware } from "./version.js";

const T0 = 1_700_000_000_000;

function device(options: SimDeviceOptions = {}) {
  let t = T0;
  const d = new SimDevice({ seed: 7, clock: () => t, canIds: [84], scenario: "riding", ...options });
  return { d, advance: (ms: number) => (t += ms) };
}

/** The node's reply to a request forwarded to CAN 84, or undefined when it stays silent. */
function ask(d: SimDevice, inner: Uint8Array): Uint8Array | undefined {
  const replies = answerLikeFirmware(d, wrapForwardCan(84, inner));
  expect(replies.length).toBeLessThanOrEqual(1);
  return replies[0];
}

function must(reply: Uint8Array | undefined): Uint8Array {
  expect(reply).toBeDefined();
  return reply as Uint8Array;
}

const fw = (major: number, minor: number): Firmware => ({ major, minor });
const RIDE_MASK = 0x1f61c0;

describe("simulated bldc: GET_VALUES_SETUP by firmware version", () => {
  test("6.05 sends every field; speed follows the ERPM GET_VALUES reports at the same instant", () => {
    const { d } = device();
    const setup = decodeValuesSetup(must(ask(d, getValuesSetup.encodeRequest())));
    const values = decodeValues(must(ask(d, Uint8Array.of(CommandId.GetValues))));
    expect(setup.erpm).toBe(values.erpm);
    expect(setup.speedMps).toBeCloseTo(speedFromErpm(values.erpm ?? 0), 2);
    expect(setup.speedMps).toBeGreaterThan(5);
    expect(setup.inputVoltage).toBe(values.inputVoltage);
    expect(setup).toMatchObject({ controllerId: 84, vescCount: 1, fault: 0 });
    expect(setup.batteryLevel).toBeGreaterThan(0);
    expect(setup.batteryLevel).toBeLessThanOrEqual(1);
    expect(setup.odometerM).toBeGreaterThan(1_000_000);
    expect(setup.uptimeMs).toBeGreaterThan(600_000);
  });

  test("the version cuts: 5.03 +uptime, 5.02 +odometer, 3.48–5.01 neither, 3.40 silent", () => {
    const sizes = (f: Firmware) => ask(device({ firmware: f }).d, getValuesSetup.encodeRequest())?.length;
    expect([sizes(fw(6, 5)), sizes(fw(5, 3)), sizes(fw(5, 2)), sizes(fw(5, 1)), sizes(fw(3, 48))]).toEqual([
      70, 70, 66, 62, 62,
    ]);
    expect(sizes(fw(3, 40))).toBeUndefined();
    const v502 = decodeValuesSetup(
      must(ask(device({ firmware: fw(5, 2) }).d, getValuesSetup.encodeRequest())),
    );
    expect(v502.odometerM).toBeDefined();
    expect(v502).not.toHaveProperty("uptimeMs");
  });

  test("SELECTIVE echoes the mask; a 5.01 controller leaves out the odometer it asks for", () => {
    const r501 = must(
      ask(device({ firmware: fw(5, 1) }).d, getValuesSetupSelective.encodeRequest(RIDE_MASK)),
    );
    const decoded = decodeValuesSetupSelective(r501);
    expect(decoded.mask).toBe(RIDE_MASK);
    expect(Object.keys(decoded.values).sort()).toEqual(
      [
        "speedMps",
        "inputVoltage",
        "batteryLevel",
        "tripDistanceM",
        "tripDistanceAbsM",
        "fault",
        "faultName",
        "controllerId",
        "vescCount",
        "wattHoursLeft",
      ].sort(),
    );
    const r605 = decodeValuesSetupSelective(
      must(ask(device().d, getValuesSetupSelective.encodeRequest(RIDE_MASK))),
    );
    expect(r605.values.odometerM).toBeGreaterThan(0);
  });

  test("GET_VALUES_SETUP does not disturb GET_VALUES (no side effect on the controller)", () => {
    const { d } = device();
    const before = ask(d, Uint8Array.of(CommandId.GetValues));
    ask(d, getValuesSetup.encodeRequest());
    expect(ask(d, Uint8Array.of(CommandId.GetValues))).toEqual(before);
  });

  test("trip distance grows while riding and the odometer with it", () => {
    const { d, advance } = device();
    const a = decodeValuesSetup(must(ask(d, getValuesSetup.encodeRequest()))) as Required<SetupValues>;
    advance(60_000);
    const b = decodeValuesSetup(must(ask(d, getValuesSetup.encodeRequest()))) as Required<SetupValues>;
    expect(b.tripDistanceAbsM - a.tripDistanceAbsM).toBeGreaterThan(100);
    expect(b.odometerM - a.odometerM).toBeCloseTo(b.tripDistanceAbsM - a.tripDistanceAbsM, -1);
    expect(b.uptimeMs - a.uptimeMs).toBe(60_000);
  });
});

describe("simulated bldc: GET_STATS, GET_IMU_DATA, GET_BATTERY_CUT", () => {
  test("GET_STATS from 5.03: averages within the maxima, elapsed time grows; 5.02 is silent", () => {
    const { d, advance } = device();
    ask(d, getStats.encodeRequest(0x7ff));
    advance(30_000);
    const { mask, stats } = decodeStats(must(ask(d, getStats.encodeRequest(0x7ff))));
    expect(mask).toBe(0x7ff);
    expect(stats.speedAvgMps).toBeGreaterThan(0);
    expect(stats.speedAvgMps).toBeLessThanOrEqual(stats.speedMaxMps ?? 0);
    expect(stats.tempMosAvgC).toBeLessThanOrEqual(stats.tempMosMaxC ?? 0);
    expect(stats.elapsedS).toBeGreaterThan(30);
    expect(ask(device({ firmware: fw(5, 2) }).d, getStats.encodeRequest(0x7ff))).toBeUndefined();
  });

  test("GET_IMU_DATA: controller id appended from 6.05, not before; silent before 3.52", () => {
    const r605 = decodeImuData(must(ask(device().d, getImuData.encodeRequest(0x7))));
    expect(r605.imu.controllerId).toBe(84);
    expect(Math.abs(r605.imu.pitch ?? 9)).toBeLessThan(0.1); // riding: level within ±1.7°
    const r600 = decodeImuData(must(ask(device({ firmware: fw(6, 0) }).d, getImuData.encodeRequest(0x7))));
    expect(r600.imu).not.toHaveProperty("controllerId");
    expect(ask(device({ firmware: fw(3, 51) }).d, getImuData.encodeRequest(0x7))).toBeUndefined();
  });

  test("GET_BATTERY_CUT from 5.03: 20S → 62.0 V / 60.0 V; 5.02 silent", () => {
    const req = Uint8Array.of(CommandId.GetBatteryCut);
    expect(decodeBatteryCut(must(ask(device().d, req)))).toEqual({ startV: 62, endV: 60 });
    expect(ask(device({ firmware: fw(5, 2) }).d, req)).toBeUndefined();
  });
});

describe("simulated balance package on the motor controller", () => {
  const infoV2 = balanceInfo.encodeRequest({ version: 2 });

  test("answers the captured INFO request (`22 54 24 65 00 02 00`) as Refloat 1.2.3", () => {
    expect(wrapForwardCan(84, infoV2)).toEqual(hex("22 54 24 65 00 02 00"));
    const info = decodeBalanceInfo(must(ask(device().d, infoV2)));
    expect(info).toMatchObject({
      infoVersion: 2,
      name: "Refloat",
      major: 1,
      minor: 2,
      patch: 3,
      tickRateHz: 10000,
    });
  });

  test("Float and Refloat 1.0 answer INFO v1 whatever version is asked", () => {
    const float = decodeBalanceInfo(
      must(ask(device({ balancePackage: { name: "Float", version: "2.0" } }).d, infoV2)),
    );
    expect(float).toEqual({ infoVersion: 1, majorMinor: 20, build: 1, ledType: 0 });
    const r10 = decodeBalanceInfo(
      must(ask(device({ balancePackage: { name: "Refloat", version: "1.0.1" } }).d, infoV2)),
    );
    expect(r10).toMatchObject({ infoVersion: 1, majorMinor: 10 });
  });

  test("GET_ALLDATA follows the scenario: riding, stepped off, charging", () => {
    const all = (scenario: "riding" | "idle" | "charging") => {
      const { d } = device({ scenario });
      const reply = decodeBalanceAllData(must(ask(d, balanceAllData.encodeRequest(4))));
      if (isAllDataFault(reply)) throw new Error("fault reply");
      const values = decodeValues(must(ask(d, Uint8Array.of(CommandId.GetValues))));
      return { reply, values };
    };
    const riding = all("riding");
    expect(riding.reply).toMatchObject({ mode: 4, state: "running", footpad: "both", handtest: false });
    expect(riding.reply.adcLeftV).toBeGreaterThan(2.5);
    expect(riding.reply.erpm).toBe(Math.trunc(riding.values.erpm ?? 0));
    expect(riding.reply.speedMps).toBeCloseTo(speedFromErpm(riding.values.erpm ?? 0), 0);
    expect(Math.abs(riding.reply.pitch)).toBeLessThan(2);
    const idle = all("idle");
    expect(idle.reply).toMatchObject({ state: "idle_switch_full", footpad: "none", speedMps: 0 });
    expect(idle.reply.pitch).toBeGreaterThan(15); // resting on its tail
    const charging: BalanceAllData = all("charging").reply;
    expect(charging.state).toBe("charging");
    expect(charging.chargingVoltage).toBeCloseTo(84, 0);
    expect(charging.chargingCurrent).toBeGreaterThan(0);
    expect(charging.odometerM).toBeGreaterThan(1_000_000);
  });

  test("GET_ALLDATA with a wrong length is ignored, like the package's `len == 3` check", () => {
    expect(ask(device().d, hex("24 65 0a"))).toBeUndefined();
    expect(ask(device().d, hex("24 65 0a 04 00"))).toBeUndefined();
  });

  test("REALTIME_DATA only from Refloat 1.3: state flags, footpads, charging V/I in float16", () => {
    const masks = realtimeMasks([
      "stateFlags",
      "speedKmh",
      "pitch",
      "roll",
      "adcLeftV",
      "adcRightV",
      "odometerM",
    ]);
    const req = refloatRealtime.encodeRequest({ controlFlags: 0, ...masks });
    expect(ask(device().d, req)).toBeUndefined(); // 1.2.3
    const { d } = device({ balancePackage: { name: "Refloat", version: "1.3.0-beta2" } });
    const rt = decodeRefloatRealtime(must(ask(d, req)));
    expect(rt).toMatchObject({ controlFlags: 0, ...masks });
    expect(rt.values.stateFlags).toMatchObject({ state: "running", footpad: "both", charging: false });
    const values = decodeValues(must(ask(d, Uint8Array.of(CommandId.GetValues))));
    expect(rt.values.speedKmh).toBeCloseTo(speedFromErpm(values.erpm ?? 0) * 3.6, -1);
    const charging = device({
      scenario: "charging",
      balancePackage: { name: "Refloat", version: "1.3.0" },
    }).d;
    const c = decodeRefloatRealtime(
      must(
        ask(
          charging,
          refloatRealtime.encodeRequest({
            controlFlags: 1,
            ...realtimeMasks(["stateFlags", "chargingVoltage"]),
          }),
        ),
      ),
    );
    expect(c.values.stateFlags).toMatchObject({ state: "ready", charging: true });
    expect(c.values.chargingVoltage).toBeCloseTo(84, 3);
  });

  test("ALERTS_LIST from Refloat 1.2: nothing active on a healthy controller; Float is silent", () => {
    const req = hex("24 65 23");
    expect(decodeRefloatAlerts(must(ask(device().d, req)))).toEqual({
      activeMask: 0,
      activeMask2: 0,
      fwFaultCode: 0,
      log: [],
    });
    expect(ask(device({ balancePackage: { name: "Refloat", version: "1.1.1" } }).d, req)).toBeUndefined();
    expect(ask(device({ balancePackage: { name: "Float", version: "2.0" } }).d, req)).toBeUndefined();
  });

  test("no package, another package id or firmware before 6.00: no reply", () => {
    expect(ask(device({ balancePackage: null }).d, infoV2)).toBeUndefined();
    expect(ask(device().d, hex("24 66 00 02 00"))).toBeUndefined();
    expect(ask(device({ firmware: fw(5, 3) }).d, infoV2)).toBeUndefined();
    expect(ask(device().d, hex("24 65 63"))).toBeUndefined(); // a package command it does not know
  });
});

describe("simulated ride telemetry over TCP", () => {
  test("FORWARD_CAN 84 of the captured request frames gets framed replies", async () => {
    const sim = await startSimulator({ port: 0, seed: 7, canIds: [84], scenario: "riding" });
    try {
      const replies = await new Promise<Uint8Array[]>((resolve, reject) => {
        const socket = connect(sim.port, sim.host);
        const decoder = new FrameDecoder();
        const got: Uint8Array[] = [];
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`only ${got.length} replies`));
        }, 5000);
        socket.on("error", reject);
        socket.on("data", (chunk) => {
          for (const e of decoder.push(chunk)) if (e.kind === "frame") got.push(e.payload.slice());
          if (got.length === 3) {
            clearTimeout(timer);
            socket.destroy();
            resolve(got);
          }
        });
        socket.write(hex("02 03 22 54 2f ff 50 03")); // GET_VALUES_SETUP
        socket.write(hex("02 07 22 54 24 65 00 02 00 7a 67 03")); // Refloat COMMAND_INFO v2
        socket.write(encodeFrame(wrapForwardCan(84, getStats.encodeRequest(0x7ff))));
      });
      expect(decodeValuesSetup(replies[0] as Uint8Array).controllerId).toBe(84);
      expect(decodeBalanceInfo(replies[1] as Uint8Array)).toMatchObject({ name: "Refloat" });
      expect(decodeStats(replies[2] as Uint8Array).mask).toBe(0x7ff);
    } finally {
      await sim.close();
    }
  });
});
