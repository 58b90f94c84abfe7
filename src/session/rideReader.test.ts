/**
 * Ride telemetry read from the simulator's motor node through a real TCP session: what each
 * firmware version is asked (counted on the device side), the defaults, and how a command a
 * live node leaves unanswered is backed off.
 */
import { afterEach, describe, expect, test } from "vitest";
import type { DeviceInfo } from "../model/reading.js";
import { CommandId } from "../protocol/index.js";
import { type Simulator, type SimulatorOptions, startSimulator } from "../sim/index.js";
import { tcpTransport } from "../transport/tcp.js";
import { DeviceReader } from "./device.js";
import { RETRY_UNANSWERED_MS, supportedGroups } from "./rideReader.js";
import { Session } from "./session.js";
import type { CanNodeSpec } from "./types.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const EXPRESS: DeviceInfo = { firmware: "6.05", hardware: "VESC Express T", uuid: "00".repeat(12) };

interface Rig {
  sim: Simulator;
  reader: DeviceReader;
  errors: Error[];
  clock: { t: number };
}

async function rig(sim: SimulatorOptions, node: Partial<CanNodeSpec> = {}): Promise<Rig> {
  const s = await startSimulator({ port: 0, seed: 7, canIds: [84], ...sim });
  cleanups.push(() => s.close());
  return connect(s, node);
}

/** A new connection to the same simulator, as the poller makes on reconnect (a new DeviceReader). */
async function connect(s: Simulator, node: Partial<CanNodeSpec> = {}): Promise<Rig> {
  const session = new Session(
    await tcpTransport({ host: s.host, port: s.port })(new AbortController().signal),
  );
  cleanups.push(() => session.close());
  const errors: Error[] = [];
  const clock = { t: 1_000_000 };
  const reader = new DeviceReader(session, EXPRESS, {
    deviceId: "d",
    readBms: false,
    requestTimeoutMs: 300,
    can: [{ id: 84, kind: "motor", ...node }],
    now: () => clock.t,
    onError: (e) => errors.push(e),
  });
  return { sim: s, reader, errors, clock };
}

const asked = (sim: Simulator, name: string) => sim.device.stats.requests[`${name}@84`] ?? 0;

async function node(r: Rig) {
  const reading = await r.reader.poll();
  const n = reading.can?.["84"];
  if (!n) throw new Error("no node 84 in the reading");
  return n;
}

describe("supportedGroups", () => {
  test("each group from the firmware that has it", () => {
    const all = ["values", "setup", "stats", "refloat", "imu", "battery_cut"] as const;
    expect(supportedGroups(all, "3.40")).toEqual(["values"]);
    expect(supportedGroups(all, "3.48")).toEqual(["values", "setup"]);
    expect(supportedGroups(all, "5.02")).toEqual(["values", "setup", "imu"]);
    expect(supportedGroups(all, "5.03")).toEqual(["values", "setup", "stats", "imu", "battery_cut"]);
    expect(supportedGroups(all, "6.00")).toEqual(all.slice());
    expect(supportedGroups(["stats"], "6.05")).toEqual(["stats"]);
  });
});

describe("a motor node's ride telemetry", () => {
  test("6.05 with Refloat, default groups: values, setup, stats, refloat and the derived ride values", async () => {
    const r = await rig({ scenario: "riding" });
    const n = await node(r);
    expect(n.error).toBeUndefined();
    expect(n.values?.erpm).toBeGreaterThan(0);
    expect(n.setup?.odometerM).toBeGreaterThan(1_000_000);
    expect(n.setup?.uptimeMs).toBeGreaterThan(0);
    expect(n.stats?.elapsedS).toBeGreaterThan(0);
    expect(n.refloat).toMatchObject({ package: "Refloat 1.2.3", rideState: "riding", footpad: "both" });
    expect(n.refloat?.footpadLeft && n.refloat.footpadRight).toBe(true);
    expect(n.imu).toBeUndefined();
    expect(n.batteryCut).toBeUndefined();
    const ride = n.ride;
    expect(ride?.state).toBe("riding");
    expect(ride?.speedKmh).toBeCloseTo(Math.abs(n.setup?.speedMps ?? Number.NaN) * 3.6, 1);
    expect(ride?.speedMph).toBeUndefined();
    expect(ride?.odometerKm).toBeCloseTo((n.setup?.odometerM ?? Number.NaN) / 1000, 2);
    expect(ride?.batteryPercent).toBeGreaterThan(0);
    expect(r.errors).toEqual([]);
    expect(asked(r.sim, "COMM_GET_IMU_DATA")).toBe(0);
  });

  test("Refloat 1.3: REALTIME_DATA each poll (exact pads), GET_ALLDATA never", async () => {
    const r = await rig({ scenario: "riding", balancePackage: { name: "Refloat", version: "1.3.0" } });
    const packageCommands: number[] = [];
    r.sim.device.defineBehavior({
      onRequest: (p) => {
        if (p[0] === CommandId.ForwardCan && p[2] === CommandId.CustomAppData)
          packageCommands.push(p[4] ?? -1);
        return { handled: false };
      },
    });
    for (let i = 0; i < 2; i++) await node(r);
    const n = await node(r);
    expect(n.refloat).toMatchObject({
      package: "Refloat 1.3.0",
      rideState: "riding",
      footpad: "both",
      footpadLeft: true,
      footpadRight: true,
      charging: false,
    });
    expect(n.refloat?.batteryPercent).toBeGreaterThan(0);
    expect(n.ride?.state).toBe("riding");
    // INFO (0) once, then REALTIME_DATA (33) at every poll; GET_ALLDATA (10) never.
    expect(packageCommands).toEqual([0, 33, 33, 33]);
    expect(r.errors).toEqual([]);
  });

  test("every group, mph: IMU and battery cut-off too, the cut-off read once per connection", async () => {
    const r = await rig(
      { scenario: "riding" },
      { groups: ["values", "setup", "stats", "refloat", "imu", "battery_cut"], speedUnit: "mph" },
    );
    for (let i = 0; i < 3; i++) await node(r);
    const n = await node(r);
    expect(n.imu?.pitch).toBeTypeOf("number");
    expect(n.batteryCut?.endV).toBeGreaterThan(0);
    expect(n.ride?.speedMph).toBeCloseTo(Math.abs(n.setup?.speedMps ?? Number.NaN) * 2.2369, 1);
    expect(n.ride?.speedKmh).toBeUndefined();
    expect(asked(r.sim, "COMM_GET_BATTERY_CUT")).toBe(1);
    expect(asked(r.sim, "COMM_GET_STATS")).toBe(4);
    expect(r.errors).toEqual([]);
  });

  test("bldc 3.40: only GET_VALUES is ever sent, no errors", async () => {
    const r = await rig(
      { firmware: { major: 3, minor: 40 } },
      { groups: ["values", "setup", "stats", "refloat", "imu", "battery_cut"] },
    );
    for (let i = 0; i < 5; i++) {
      const n = await node(r);
      expect(n.error).toBeUndefined();
      expect(n.values).toBeDefined();
      expect(n.setup ?? n.stats ?? n.refloat ?? n.ride).toBeUndefined();
    }
    const forwarded = Object.keys(r.sim.device.stats.requests).filter((k) => k.endsWith("@84"));
    expect(forwarded.sort()).toEqual(["COMM_FW_VERSION@84", "COMM_GET_VALUES@84"]);
    expect(asked(r.sim, "COMM_GET_VALUES")).toBe(5);
    expect(r.errors).toEqual([]);
  });

  test("bldc 5.02: setup with the odometer, no uptime; no stats or package requests", async () => {
    const r = await rig({ firmware: { major: 5, minor: 2 } });
    for (let i = 0; i < 3; i++) await node(r);
    const n = await node(r);
    expect(n.setup?.odometerM).toBeGreaterThan(0);
    expect(n.setup?.uptimeMs).toBeUndefined();
    expect(n.ride?.odometerKm).toBeGreaterThan(0);
    expect(asked(r.sim, "COMM_GET_VALUES_SETUP")).toBe(4);
    expect(asked(r.sim, "COMM_GET_STATS")).toBe(0);
    expect(asked(r.sim, "COMM_CUSTOM_APP_DATA")).toBe(0);
    expect(r.errors).toEqual([]);
  });

  test("no package: INFO is asked once, then again only after the back-off", async () => {
    const r = await rig({ balancePackage: null });
    for (let i = 0; i < 4; i++) {
      const n = await node(r);
      expect(n.setup).toBeDefined();
      expect(n.refloat).toBeUndefined();
    }
    expect(asked(r.sim, "COMM_CUSTOM_APP_DATA")).toBe(1);
    r.clock.t += RETRY_UNANSWERED_MS - 1;
    await node(r);
    expect(asked(r.sim, "COMM_CUSTOM_APP_DATA")).toBe(1);
    r.clock.t += 1;
    await node(r);
    expect(asked(r.sim, "COMM_CUSTOM_APP_DATA")).toBe(2);
    expect(r.errors).toEqual([]);
  });

  test("a reconnect starts over: the package is looked for again at once", async () => {
    const r = await rig({ balancePackage: null });
    await node(r);
    await node(r);
    expect(asked(r.sim, "COMM_CUSTOM_APP_DATA")).toBe(1);
    const again = await connect(r.sim);
    await node(again);
    expect(asked(r.sim, "COMM_CUSTOM_APP_DATA")).toBe(2);
  });

  test("a command a live node ignores is reported once and backed off; the rest is read", async () => {
    const r = await rig({});
    r.sim.device.defineBehavior({
      onRequest: (p) =>
        p[0] === CommandId.ForwardCan && p[2] === CommandId.GetStats
          ? { handled: true, reply: null }
          : { handled: false },
    });
    for (let i = 0; i < 3; i++) {
      const n = await node(r);
      expect(n.stats).toBeUndefined();
      expect(n.setup).toBeDefined();
      expect(n.refloat).toBeDefined();
    }
    expect(asked(r.sim, "COMM_GET_STATS")).toBe(1);
    expect(r.errors.map((e) => e.message)).toEqual([
      "CAN node 84: no reply to stats, asking again in 10 min",
    ]);
  });

  test("a node that answers nothing is an error and nothing is backed off", async () => {
    const r = await rig({});
    await node(r);
    r.sim.device.faults = { stall: true };
    const gone = await node(r);
    expect(gone.error).toMatch(/no reply/);
    r.sim.device.faults = {};
    const before = asked(r.sim, "COMM_GET_STATS");
    const back = await node(r);
    expect(back.stats).toBeDefined();
    expect(back.refloat).toBeDefined();
    expect(asked(r.sim, "COMM_GET_STATS")).toBe(before + 1);
  });
});
