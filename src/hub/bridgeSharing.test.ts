/**
 * The bridge inside the hub, end to end over real loopback TCP: a device registers like an
 * Express, the real Poller reads it through hubLocalTransport, and a "VESC Tool" client
 * logs in and polls through the hub meanwhile.
 */
import { afterEach, expect, test } from "vitest";
import type { Reading } from "../model/reading.js";
import {
  CommandId,
  encodeBmsValuesResponse,
  encodeFrame,
  decodeFwVersion,
  encodeFwVersionResponse,
  FrameDecoder,
} from "../protocol/index.js";
import { Poller } from "../session/poller.js";
import { Session } from "../session/session.js";
import { registerWithHub, SimDevice } from "../sim/index.js";
import { hubTransport } from "../transport/hub.js";
import {
  openPeer,
  type Peer,
  registerDevice,
  startTestHub,
  type TestHub,
  waitRegistered,
} from "../../test/helpers/hubPeers.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { hubLocalTransport } from "./localTransport.js";

const PW = "bridge-test-pw";
let hub: TestHub | undefined;
let poller: Poller | undefined;
const peers: Peer[] = [];

afterEach(async () => {
  await poller?.stop();
  poller = undefined;
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await hub?.stop();
  expect(hub?.logs.join("\n") ?? "").not.toContain(PW);
  hub = undefined;
});

/** An Express with a 4S BMS whose pack voltage encodes the reply number, so replies are traceable. */
function expressAnswer(request: Uint8Array, n: number): Uint8Array | undefined {
  switch (request[0]) {
    case CommandId.FwVersion:
      return encodeFwVersionResponse({
        firmware: "6.05",
        major: 6,
        minor: 5,
        hardware: "VESC Express T",
        uuid: "aabbccddeeff000000000000",
      });
    case CommandId.BmsGetValues:
      return encodeBmsValuesResponse({
        packVoltage: 16 + n / 1000,
        chargeVoltage: 16.8,
        current: 0,
        currentIc: 0.1,
        ampHours: 0,
        wattHours: 0,
        cells: [4.1, 4.11, 4.12, 4.13],
        balancing: [false, false, true, false],
        temperatures: [25.5],
        icTemperature: 30,
        humidityTemperature: 0,
        humidity: 0,
        maxCellTemperature: 0,
      });
    case CommandId.GetMcconf:
      return Uint8Array.of(CommandId.GetMcconf, 1, 2, 3, 4);
    default:
      return undefined;
  }
}

/** A VESC Tool stand-in: logs in, then sends `requests` every `everyMs`, counting replies per command. */
async function startTool(port: number, requests: readonly Uint8Array[], everyMs: number) {
  const tool = await openPeer(port, `VESCTOOL:express1:${PW}\n`);
  peers.push(tool);
  const sent = new Map<number, number>();
  const replies = new Map<number, number>();
  const decoder = new FrameDecoder();
  tool.socket.on("data", (c: Buffer) => {
    for (const ev of decoder.push(c)) {
      if (ev.kind === "frame") replies.set(ev.payload[0] ?? -1, (replies.get(ev.payload[0] ?? -1) ?? 0) + 1);
    }
  });
  const timer = setInterval(() => {
    for (const r of requests) {
      sent.set(r[0] ?? -1, (sent.get(r[0] ?? -1) ?? 0) + 1);
      tool.write(encodeFrame(r));
    }
  }, everyMs);
  return {
    tool,
    sent,
    replies,
    stop: async () => {
      clearInterval(timer);
      await tool.close();
    },
  };
}

test("the bridge keeps producing readings while VESC Tool polls through the hub, and the tool gets every reply", async () => {
  hub = await startTestHub({ sharing: { toolRecentMs: 1500, shadowWaitMs: 600 } });
  const device = await registerDevice(hub.port, "express1", PW, expressAnswer);
  peers.push(device);
  await waitRegistered(hub.hub, "express1");

  const readings: Reading[] = [];
  poller = new Poller({
    deviceId: "express1",
    url: "hub-local://EXPRESS1",
    transport: hubLocalTransport(hub.hub, "express1"),
    intervalMs: 200,
    requestTimeoutMs: 1500,
    customConfigHandshake: false,
  });
  poller.on("reading", (r) => readings.push(r));
  poller.start();

  // 1. No tool: the bridge polls on its own.
  await waitFor(() => readings.length >= 3, { what: "readings before the tool" });
  expect(readings[0]?.device.hardware).toBe("VESC Express T");
  expect(readings[0]?.bms?.cells).toHaveLength(4);

  // 2. A tool polls BMS at 10 Hz and reads the motor config now and then.
  const bmsReq = Uint8Array.of(CommandId.BmsGetValues);
  const tool = await startTool(hub.port, [bmsReq], 100);
  const mcconf = setInterval(() => {
    tool.sent.set(CommandId.GetMcconf, (tool.sent.get(CommandId.GetMcconf) ?? 0) + 1);
    tool.tool.write(encodeFrame(Uint8Array.of(CommandId.GetMcconf)));
  }, 250);
  await waitFor(() => hub?.hub.stats().clients === 1);
  const atToolStart = readings.length;
  await waitFor(
    () => readings.length >= atToolStart + 5 && (tool.sent.get(CommandId.BmsGetValues) ?? 0) >= 20,
    {
      timeoutMs: 20_000,
      what: "readings while the tool polls",
    },
  );
  clearInterval(mcconf);
  const sharing = hub.hub.stats().deviceList[0]?.bridge;
  // The bridge took (at least some of) its readings from the tool's replies instead of asking.
  expect(sharing?.shadowed ?? 0).toBeGreaterThan(0);
  expect(sharing?.blocked).toBe(0);
  // Every request of the tool gets its reply (extra telemetry replies are allowed).
  await waitFor(
    () =>
      [...tool.sent].every(([cmd, n]) => (tool.replies.get(cmd) ?? 0) >= n) &&
      [...tool.sent.keys()].length === 2,
    { what: "a reply for every tool request" },
  );
  // Readings taken while the tool polled carry values the device actually sent.
  for (const r of readings.slice(atToolStart)) expect(r.bms?.packVoltage).toBeGreaterThan(16);

  // 3. The tool leaves: the bridge asks the device itself again.
  const forwardedBefore = hub.hub.stats().deviceList[0]?.bridge?.forwarded ?? 0;
  await tool.stop();
  await waitFor(() => hub?.hub.stats().clients === 0);
  const atToolEnd = readings.length;
  await waitFor(() => readings.length >= atToolEnd + 3, { what: "readings after the tool left" });
  expect(hub.hub.stats().deviceList[0]?.bridge?.forwarded ?? 0).toBeGreaterThan(forwardedBefore);
  // The device never saw a request the bridge may not send: all GET_MCCONF came from the tool.
  const mcconfAtDevice = device.requests.filter((r) => r[0] === CommandId.GetMcconf).length;
  expect(mcconfAtDevice).toBe(tool.sent.get(CommandId.GetMcconf));
});

test("replies the bridge asked for while no tool was attached are not replayed to the next tool", async () => {
  hub = await startTestHub();
  const device = await registerDevice(hub.port, "express1", PW, expressAnswer);
  peers.push(device);
  await waitRegistered(hub.hub, "express1");
  const readings: Reading[] = [];
  poller = new Poller({
    deviceId: "express1",
    url: "hub-local://EXPRESS1",
    transport: hubLocalTransport(hub.hub, "express1"),
    intervalMs: 100,
    customConfigHandshake: false,
  });
  poller.on("reading", (r) => readings.push(r));
  poller.start();
  await waitFor(() => readings.length >= 3);
  await poller.stop();
  poller = undefined;
  device.write(encodeFrame(Uint8Array.of(CommandId.Print, 0x68, 0x69))); // unsolicited: kept for the tool
  await waitFor(() => (hub?.hub.stats().deviceList[0]?.pendingBytes ?? 0) > 0);
  const tool = await openPeer(hub.port, `VESCTOOL:express1:${PW}\n`);
  peers.push(tool);
  await waitFor(() => tool.bytes().length > 0);
  await new Promise((r) => setTimeout(r, 100));
  const frames = new FrameDecoder()
    .push(tool.bytes())
    .flatMap((e) => (e.kind === "frame" ? [e.payload] : []));
  expect(frames.map((f) => f[0])).toEqual([CommandId.Print]);
});

test("the bridge transport closes when the device leaves, and reconnects when it registers again", async () => {
  hub = await startTestHub();
  const first = await registerDevice(hub.port, "express1", PW, expressAnswer);
  peers.push(first);
  await waitRegistered(hub.hub, "express1");
  const readings: Reading[] = [];
  poller = new Poller({
    deviceId: "express1",
    url: "hub-local://EXPRESS1",
    transport: hubLocalTransport(hub.hub, "express1"),
    intervalMs: 100,
    customConfigHandshake: false,
    backoffInitialMs: 50,
    backoffMaxMs: 200,
  });
  poller.on("reading", (r) => readings.push(r));
  poller.start();
  await waitFor(() => readings.length >= 2);
  await first.close();
  await waitFor(() => !hub?.hub.isRegistered("express1"));
  const before = readings.length;
  const second = await registerDevice(hub.port, "express1", PW, expressAnswer);
  peers.push(second);
  await waitFor(() => second.requests.some((r) => r[0] === CommandId.BmsGetValues), {
    what: "polling resumed",
  });
  await waitFor(() => readings.length >= before + 2, { what: "readings from the re-registered device" });
  expect(poller.status().reconnects).toBeGreaterThanOrEqual(1);
});

test("with the simulated Express registered as a hub device: the bridge reads BMS and a CAN motor while VESC Tool polls", async () => {
  hub = await startTestHub({ sharing: { toolRecentMs: 1500, shadowWaitMs: 600 } });
  const sim = new SimDevice({ cells: 12, canIds: [84], seed: 7 });
  const reg = await registerWithHub(sim, {
    host: "127.0.0.1",
    port: hub.port,
    id: "simexpress",
    password: PW,
  });
  await waitRegistered(hub.hub, "simexpress");

  const readings: Reading[] = [];
  poller = new Poller({
    deviceId: "sim",
    url: "hub-local://SIMEXPRESS",
    transport: hubLocalTransport(hub.hub, "SimExpress"),
    intervalMs: 200,
    requestTimeoutMs: 1500,
    customConfigHandshake: false,
    can: [{ id: 84, kind: "motor" }],
  });
  poller.on("reading", (r) => readings.push(r));
  poller.start();
  await waitFor(() => readings.length >= 2, { what: "sim readings" });

  // VESC Tool, as the session layer's real hub client, polling like the BMS page (10 Hz) plus
  // realtime values of the CAN motor.
  const toolTransport = await hubTransport({
    host: "127.0.0.1",
    port: hub.port,
    hubId: "SIMEXPRESS",
    password: PW,
  })(new AbortController().signal);
  const tool = new Session(toolTransport);
  const fw = decodeFwVersionReply(
    await tool.request(Uint8Array.of(CommandId.FwVersion), { expect: 0, timeoutMs: 3000 }),
  );
  expect(fw).toBe("VESC Express T");
  const atToolStart = readings.length;
  let toolReplies = 0;
  let toolFailures = 0;
  const deadline = Date.now() + 20_000;
  while ((readings.length < atToolStart + 5 || toolReplies < 30) && Date.now() < deadline) {
    const ask = [
      tool.request(Uint8Array.of(CommandId.BmsGetValues), {
        expect: CommandId.BmsGetValues,
        timeoutMs: 3000,
      }),
      tool.forward(84, Uint8Array.of(CommandId.GetValues), { expect: CommandId.GetValues, timeoutMs: 3000 }),
    ];
    for (const r of await Promise.allSettled(ask)) {
      if (r.status === "fulfilled") toolReplies++;
      else toolFailures++;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(toolFailures).toBe(0);
  expect(readings.length).toBeGreaterThanOrEqual(atToolStart + 5);
  const last = readings.at(-1);
  expect(last?.bms?.cells).toHaveLength(12);
  expect(last?.can?.["84"]?.values?.inputVoltage).toBeGreaterThan(0);
  expect(hub.hub.stats().deviceList[0]?.bridge?.shadowed ?? 0).toBeGreaterThan(0);
  // The bridge asked the simulator for telemetry only.
  const asked = Object.keys(sim.stats.requests);
  expect(
    asked.filter((k) => !/^COMM_(FW_VERSION|BMS_GET_VALUES|GET_VALUES|FORWARD_CAN)(@84)?$/.test(k)),
  ).toEqual([]);
  await tool.close();
  await reg.close();
});

function decodeFwVersionReply(payload: Uint8Array): string {
  return decodeFwVersion(payload).hardware;
}
