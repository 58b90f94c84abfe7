/**
 * The poller against the simulator over real loopback sockets: readings equal what the
 * simulated device sent, every fault mode is survived without a wrong value, stop() leaves
 * nothing behind, and the poller yields to another client instead of fighting it.
 */
import { connect } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import type { Reading } from "../../src/model/reading.js";
import { CommandId, decodeBmsValues, encodeBmsValuesResponse } from "../../src/protocol/index.js";
import { withStats } from "../../src/session/device.js";
import { ManualClock } from "../../src/session/pollClock.js";
import { Poller, TAKEN_MESSAGE } from "../../src/session/poller.js";
import type { PollerOptions } from "../../src/session/types.js";
import {
  type FaultSettings,
  type SimDevice,
  type Simulator,
  registerWithHub,
  startSimulator,
} from "../../src/sim/index.js";
import { HubServer } from "../../src/hub/hubServer.js";
import { tcpTransport } from "../../src/transport/tcp.js";
import { hubTransport } from "../../src/transport/hub.js";
import { recordBmsReplies } from "../helpers/bmsReplies.js";
import { waitFor } from "../helpers/waitFor.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const FIXED_NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

async function sim(options: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  const s = await startSimulator({ port: 0, cells: 20, seed: 7, ...options });
  cleanups.push(() => s.close());
  return s;
}

function poller(
  s: Simulator,
  overrides: Partial<PollerOptions> = {},
): { poller: Poller; readings: Reading[]; errors: Error[] } {
  const p = new Poller({
    deviceId: "pack",
    transport: tcpTransport({ host: s.host, port: s.port }),
    url: s.url,
    intervalMs: 100,
    requestTimeoutMs: 400,
    backoffInitialMs: 20,
    backoffMaxMs: 200,
    ...overrides,
  });
  const readings: Reading[] = [];
  const errors: Error[] = [];
  p.on("reading", (r) => readings.push(r));
  p.on("error", (e) => errors.push(e));
  cleanups.push(() => p.stop());
  return { poller: p, readings, errors };
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

/** What the device's BMS reply decodes to right now: the wire's values, with stats. */
function expectedBms(device: SimDevice) {
  return withStats(decodeBmsValues(encodeBmsValuesResponse(device.bmsValues())));
}

describe("Poller against the simulator", () => {
  test("startDelayMs holds the first connection back, and stop() cuts the wait short", async () => {
    const s = await sim();
    // Time moves only when told: 1 ms short of the delay, however slow the machine.
    const clock = new ManualClock(Date.now());
    const { poller: p } = poller(s, { startDelayMs: 60_000, clock });
    const statuses: string[] = [];
    p.on("status", (st) => statuses.push(st.link));
    p.start();
    clock.advance(59_999);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(s.device.stats.connections).toBe(0);
    expect(p.status().link).toBe("connecting");
    await p.stop(); // the clock never reaches the delay: only stop() can end this sleep
    expect(s.device.stats.connections).toBe(0);
    expect(statuses).toEqual(["connecting", "offline"]);
  });

  test("readings equal the simulated device's state, one connection, one handshake", async () => {
    const s = await sim({ clock: () => FIXED_NOW });
    const { poller: p, readings } = poller(s);
    p.start();
    await waitFor(() => readings.length >= 5, { what: "5 readings" });
    const expected = expectedBms(s.device);
    for (const r of readings) {
      expect(r.bms).toEqual(expected);
      expect(r.device).toMatchObject({ firmware: "6.05", hardware: "VESC Express T", uuid: s.device.uuid });
      expect(r.deviceId).toBe("pack");
    }
    // Within float32/scale tolerance of the model's raw values too.
    const raw = s.device.bmsValues();
    const first = readings[0]?.bms;
    expect(first?.cells).toHaveLength(20);
    for (const [i, v] of (first?.cells ?? []).entries()) expect(v).toBeCloseTo(raw.cells[i] ?? Number.NaN, 3);
    expect(first?.packVoltage).toBeCloseTo(raw.packVoltage, 3);
    expect(s.device.stats.connections).toBe(1);
    expect(s.device.stats.requests.COMM_FW_VERSION).toBe(1);
    expect(s.device.stats.requests.COMM_GET_CUSTOM_CONFIG).toBeUndefined(); // off by default for tcp
    expect(s.device.stats.requests.COMM_PING_CAN).toBeUndefined(); // never without a scan
    expect(p.status()).toMatchObject({ link: "online", reconnects: 0, deviceId: "pack" });
  });

  test("reads listed CAN nodes through FORWARD_CAN, and only those", async () => {
    const s = await sim({ canIds: [84, 85], clock: () => FIXED_NOW });
    const { poller: p, readings } = poller(s, {
      can: [
        { id: 84, kind: "motor" },
        { id: 10, kind: "bms" },
      ],
    });
    p.start();
    await waitFor(() => readings.length >= 3, { what: "3 readings" });
    const r = readings[2];
    expect(r?.can?.["84"]?.values?.controllerId).toBe(84);
    expect(r?.can?.["84"]?.values?.inputVoltage).toBeCloseTo(
      s.device.motorValues(84).inputVoltage ?? Number.NaN,
      1,
    );
    expect(r?.can?.["84"]?.device).toMatchObject({ hardware: "ADV500", canId: 84 });
    // The BMS answers a forwarded request itself, from its own values (not the Express's cache).
    expect(r?.can?.["10"]?.bms).toEqual(withStats(decodeBmsValues(s.device.canBmsReply())));
    const req = s.device.stats.requests;
    expect(req["COMM_FW_VERSION@84"]).toBe(1); // once per connection
    expect(req["COMM_FW_VERSION@10"]).toBe(1);
    expect(req["COMM_GET_VALUES@85"]).toBeUndefined();
    expect(req["COMM_FW_VERSION@85"]).toBeUndefined();
  });

  const faults: Array<[string, FaultSettings]> = [
    ["latency + jitter", { latencyMs: 20, jitterMs: 30 }],
    ["replies split byte by byte", { splitReplies: 1 }],
    ["garbage between frames", { garbageBetweenFrames: 0.5 }],
    ["corrupt CRCs", { corruptCrcRate: 0.3 }],
    ["dropped replies", { dropReplyRate: 0.3 }],
    ["resets mid-frame", { resetMidFrame: 0.15 }],
    ["old firmware layouts", { oldFirmware: true }],
    [
      "everything at once",
      {
        latencyMs: 5,
        jitterMs: 10,
        splitReplies: 3,
        garbageBetweenFrames: 0.3,
        corruptCrcRate: 0.1,
        dropReplyRate: 0.1,
        resetMidFrame: 0.05,
      },
    ],
  ];
  test.each(faults)("survives %s without publishing a wrong value", async (_name, fault) => {
    const s = await sim({ faults: fault, canIds: [84] });
    const produced = recordBmsReplies(s.device);
    const { poller: p, readings } = poller(s, { can: [{ id: 84, kind: "motor" }] });
    p.start();
    await waitFor(() => readings.length >= 12, { timeoutMs: 25_000, what: "12 readings" });
    await p.stop();
    for (const r of readings) {
      expect(produced.has(JSON.stringify(r.bms))).toBe(true);
      const node = r.can?.["84"];
      // A node reading is either the right controller's values or an error, never another's.
      if (node?.values) expect(node.values.controllerId ?? 84).toBe(84);
    }
    if (fault.resetMidFrame) expect(p.status().reconnects).toBeGreaterThan(0);
    if (fault.corruptCrcRate && s.device.stats.faults.corrupted > 0)
      expect(p.status().crcErrors).toBeGreaterThan(0);
  });

  test("a stall makes the device stale, then reconnects and recovers", async () => {
    const s = await sim({ clock: () => FIXED_NOW });
    const statuses: string[] = [];
    const { poller: p, readings } = poller(s, { requestTimeoutMs: 300 });
    p.on("status", (st) => statuses.push(st.link));
    p.start();
    await waitFor(() => readings.length >= 2, { what: "first readings" });
    s.device.faults = { ...s.device.faults, stall: true };
    await waitFor(() => p.status().link === "stale" || undefined, { what: "stale" });
    await waitFor(() => s.device.stats.connections >= 2, { what: "a reconnect after repeated timeouts" });
    s.device.faults = { ...s.device.faults, stall: false };
    const before = readings.length;
    await waitFor(() => readings.length >= before + 3, { what: "readings after the stall" });
    expect(statuses).toContain("stale");
    expect(p.status().link).toBe("online");
    expect(p.counters.timeouts).toBeGreaterThan(0);
    for (const r of readings) expect(r.bms).toEqual(expectedBms(s.device));
  });

  test("stray prints and unexpected frames are ignored", async () => {
    const s = await sim({ clock: () => FIXED_NOW });
    const enc = new TextEncoder();
    s.device.defineBehavior({
      onRequest(_payload, ctx) {
        const print = Uint8Array.of(CommandId.Print, ...enc.encode("hello from lisp"));
        const lisp = Uint8Array.of(CommandId.LispPrint, ...enc.encode("(print 1)"));
        const unexpected = Uint8Array.of(CommandId.GetImuData, 1, 2, 3);
        // Leading garbage with a start byte that promises a long frame: the decoder must resync.
        return {
          handled: true,
          reply: [print, lisp, unexpected, ...ctx.defaultReply()],
          raw: Uint8Array.of(0, 0xff, 0x02),
        };
      },
    });
    const { poller: p, readings } = poller(s);
    p.start();
    await waitFor(() => readings.length >= 4, { what: "readings despite strays" });
    await p.stop();
    expect(p.counters.strayFrames).toBeGreaterThanOrEqual(3 * 4);
    for (const r of readings) expect(r.bms).toEqual(expectedBms(s.device));
  });

  test("a malformed BMS payload is an error and a counter, never a reading", async () => {
    const s = await sim({ clock: () => FIXED_NOW });
    let n = 0;
    s.device.defineBehavior({
      onRequest(payload, ctx) {
        if (payload[0] !== CommandId.BmsGetValues) return { handled: false };
        n++;
        const good = ctx.defaultReply()[0] ?? new Uint8Array();
        // Every other reply is cut short: a valid frame with a truncated payload.
        return { handled: true, reply: n % 2 === 0 ? good.slice(0, 20) : good };
      },
    });
    const { poller: p, readings, errors } = poller(s);
    p.start();
    await waitFor(() => readings.length >= 3 && p.counters.malformedReplies >= 3, {
      what: "readings and malformed replies",
    });
    await p.stop();
    for (const r of readings) expect(r.bms).toEqual(expectedBms(s.device));
    expect(errors.some((e) => e.name === "ProtocolError")).toBe(true);
    expect(s.device.stats.connections).toBe(1); // malformed data is no reason to reconnect
  });

  test.each([
    // 255 cells promised, none sent: the payload ends early.
    ["255 cells", () => Uint8Array.of(CommandId.BmsGetValues, ...new Array(24).fill(0), 255)],
    ["a truncated payload", (good: Uint8Array) => good.slice(0, 20)],
  ])(
    "only malformed replies (%s): stale after 3 intervals, the error as lastError, one warning",
    async (_n, bad) => {
      const s = await sim({ clock: () => FIXED_NOW });
      let broken = true;
      s.device.defineBehavior({
        onRequest(payload, ctx) {
          if (payload[0] !== CommandId.BmsGetValues || !broken) return { handled: false };
          return { handled: true, reply: bad(ctx.defaultReply()[0] ?? new Uint8Array()) };
        },
      });
      const { poller: p, readings, errors } = poller(s);
      const statuses: Array<{ link: string; lastError?: string }> = [];
      const logs: Array<[string, string]> = [];
      p.on("status", (st) =>
        statuses.push({ link: st.link, ...(st.lastError ? { lastError: st.lastError } : {}) }),
      );
      p.on("log", (level, message) => logs.push([level, message]));
      p.start();
      const stale = await waitFor(() => statuses.find((st) => st.link === "stale"), { what: "stale" });
      expect(readings).toHaveLength(0);
      expect(errors.length).toBeGreaterThanOrEqual(3); // stale only after about 3 failed polls
      expect(errors.every((e) => e.name === "ProtocolError")).toBe(true);
      expect(stale.lastError).toBe(errors.at(-1)?.message);
      expect(logs.filter(([level]) => level === "warn")).toEqual([
        ["warn", `malformed reply: ${errors[0]?.message}`],
      ]);
      // The device heals: online again, and "online" carries no old error.
      broken = false;
      const online = await waitFor(() => statuses.find((st) => st.link === "online"), { what: "online" });
      expect(online.lastError).toBeUndefined();
      expect(p.status().lastError).toBeUndefined();
      expect(s.device.stats.connections).toBe(1);
    },
  );

  test("a lost link logs why, how long it was up and when the next try is", async () => {
    const s = await sim();
    const { poller: p, readings } = poller(s);
    const logs: Array<[string, string]> = [];
    p.on("log", (level, message) => logs.push([level, message]));
    p.start();
    await waitFor(() => readings.length >= 2, { what: "readings" });
    s.dropConnections();
    const line = await waitFor(() => logs.find(([level]) => level === "info"), { what: "reconnect line" });
    expect(line[1]).toMatch(
      /^link lost after \d+\.\d s connected \(.*(closed|reset).*\); reconnecting in \d+\.\d s$/,
    );
    const count = readings.length;
    await waitFor(() => readings.length > count, { what: "readings after the reconnect" });
    expect(p.status().lastError).toBeUndefined();
  });

  test("stop() leaves no sockets or timers behind", async () => {
    const s = await sim();
    await new Promise((r) => setTimeout(r, 20)); // let earlier tests' handles settle
    const before = resourceCounts();
    const { poller: p, readings } = poller(s, { can: [{ id: 10, kind: "bms" }] });
    p.start();
    await waitFor(() => readings.length >= 2, { what: "readings" });
    const during = resourceCounts();
    expect(during.TCPSocketWrap ?? during.TCPWrap ?? 0).toBeGreaterThan(
      before.TCPSocketWrap ?? before.TCPWrap ?? 0,
    );
    await p.stop();
    await waitFor(() => s.device.connections === 0, { what: "sim sees the close" });
    const after = resourceCounts();
    // Nothing new may be left: no socket (TCPWrap), no timer (Timeout), nothing else.
    for (const [kind, n] of Object.entries(after)) expect(n, kind).toBeLessThanOrEqual(before[kind] ?? 0);
    expect(p.status().link).toBe("offline");
  });

  test("stop() during connect backoff and during a pending request returns promptly", async () => {
    const s = await sim();
    const port = s.port;
    await s.close();
    const { poller: p } = poller(s, { backoffInitialMs: 60_000, backoffMaxMs: 60_000 });
    p.start();
    await waitFor(() => p.status().lastError !== undefined, { what: "a refused connect" });
    await p.stop(); // sleeping a 60 s backoff: must not wait for it
    const s2 = await sim({ faults: { stall: true } });
    const { poller: p2 } = poller(s2, { requestTimeoutMs: 60_000 });
    p2.start();
    await waitFor(() => s2.device.stats.requests.COMM_FW_VERSION, { what: "handshake sent" });
    await p2.stop();
    expect(port).toBeGreaterThan(0);
  });

  test("refused direct connections in a row: yields as 'device taken by another client'", async () => {
    const s = await sim();
    await s.close();
    const { poller: p } = poller(s, { yieldMs: 60_000 });
    p.start();
    await waitFor(() => p.status().link === "yielded" || undefined, { what: "yielded" });
    expect(p.status().lastError).toBe(TAKEN_MESSAGE);
    expect(p.status().reconnects).toBeGreaterThanOrEqual(2);
  });
});

describe("Poller through a hub", () => {
  async function hubWithDevice() {
    const hub = new HubServer({ host: "127.0.0.1", port: 0, logger: () => undefined });
    const { port } = await hub.start();
    cleanups.push(() => hub.stop());
    const s = await sim({ clock: () => FIXED_NOW });
    const reg = await registerWithHub(s.device, { host: "127.0.0.1", port, id: "pack1", password: "pw-123" });
    cleanups.push(() => reg.close());
    await waitFor(() => hub.stats().devices === 1, { what: "device registered" });
    return { hub, port, s };
  }

  test("no GET_CUSTOM_CONFIG by default, tolerates the registration's stray byte, reads the BMS", async () => {
    const { port, s } = await hubWithDevice();
    const { poller: p, readings } = poller(s, {
      transport: hubTransport({ host: "127.0.0.1", port, hubId: "pack1", password: "pw-123" }),
      url: `hub://127.0.0.1:${port}/pack1`,
    });
    p.start();
    await waitFor(() => readings.length >= 3, { what: "hub readings" });
    for (const r of readings) expect(r.bms).toEqual(expectedBms(s.device));
    // The Express would send its WiFi/hub passwords in reply: never asked unless opted in.
    expect(s.device.stats.requests.COMM_GET_CUSTOM_CONFIG ?? 0).toBe(0);
    expect(s.device.stats.requests.COMM_FW_VERSION).toBe(2); // the hub identity is confirmed
    expect(JSON.stringify(readings)).not.toContain("pw-123");
  });

  test("survives a slow hub login (requests sent before the login is processed)", async () => {
    const s = await sim({
      hubLogin: { id: "pack1", password: "pw" },
      faults: { slowLoginMs: 300 },
      clock: () => FIXED_NOW,
    });
    const { poller: p, readings } = poller(s, {
      transport: hubTransport({ host: "127.0.0.1", port: s.port, hubId: "pack1", password: "pw" }),
      url: `hub://127.0.0.1:${s.port}/pack1`,
    });
    p.start();
    await waitFor(() => readings.length >= 2, { what: "readings after a slow login" });
    for (const r of readings) expect(r.bms).toEqual(expectedBms(s.device));
  });

  test("a rejected login backs off with the clear error, and does not yield", async () => {
    const s = await sim({ hubLogin: { id: "pack1", password: "right" } });
    const { poller: p } = poller(s, {
      transport: hubTransport({ host: "127.0.0.1", port: s.port, hubId: "pack1", password: "wrong-one" }),
      url: `hub://127.0.0.1:${s.port}/pack1`,
      backoffInitialMs: 50,
    });
    p.start();
    await waitFor(() => p.status().reconnects >= 2 || undefined, { what: "retries" });
    const st = p.status();
    expect(st.lastError).toContain(
      "hub closed the connection after login: wrong hub id/password or device offline",
    );
    expect(st.lastError).not.toContain("wrong-one");
    expect(st.link).not.toBe("yielded");
  });

  test("when another client logs in, yields instead of fighting, then comes back", async () => {
    const { port, s } = await hubWithDevice();
    const { poller: p, readings } = poller(s, {
      transport: hubTransport({ host: "127.0.0.1", port, hubId: "pack1", password: "pw-123" }),
      url: `hub://127.0.0.1:${port}/pack1`,
      yieldMs: 1500,
    });
    p.start();
    await waitFor(() => readings.length >= 2, { what: "readings" });
    // VESC Tool logs in: the hub hands it the device and closes our session.
    const tool = connect({ host: "127.0.0.1", port });
    cleanups.push(() => void tool.destroy());
    await new Promise((r) => tool.once("connect", r));
    tool.write("VESCTOOL:pack1:pw-123\n");
    await waitFor(() => p.status().link === "yielded" || undefined, { what: "yielded" });
    expect(p.status().lastError).toBe(TAKEN_MESSAGE);
    const during = s.device.stats.connections;
    const fwBefore = s.device.stats.requests.COMM_FW_VERSION ?? 0;
    await new Promise((r) => setTimeout(r, 500));
    expect(s.device.stats.requests.COMM_FW_VERSION ?? 0).toBe(fwBefore); // no login attempts while yielded
    tool.destroy();
    const count = readings.length;
    await waitFor(() => readings.length > count, { timeoutMs: 15_000, what: "readings after the yield" });
    expect(s.device.stats.connections).toBe(during);
  });
});
