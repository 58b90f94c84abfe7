/**
 * The simulator over real TCP (127.0.0.1, port 0), driven with the protocol codecs: replies,
 * CAN forwarding, secrets in the custom config, silence where firmware is silent,
 * behaviours, connection drops and clean shutdown.
 */
import { afterEach, describe, expect, test } from "vitest";
import {
  CommandId,
  decodeBmsValues,
  decodeCustomConfigRedacted,
  decodeFwVersion,
  decodePingCan,
  decodeValues,
  decodeValuesSelective,
  encodeCustomConfigRequest,
  encodeFrame,
  encodeFwVersionResponse,
  FrameDecoder,
  getValuesSelective,
  valuesMask,
  wrapForwardCan,
} from "../../src/protocol/index.js";
import { SIM_SECRETS, type Simulator, startSimulator } from "../../src/sim/index.js";
import { fixtureFrame, fixtureRequests } from "../helpers/hex.js";
import { FrameClient } from "../helpers/simClient.js";
import { waitFor } from "../helpers/waitFor.js";

const FW = Uint8Array.of(CommandId.FwVersion);
const BMS = Uint8Array.of(CommandId.BmsGetValues);
const open: Array<Simulator | FrameClient> = [];

afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function sim(
  options: Parameters<typeof startSimulator>[0] = {},
): Promise<{ s: Simulator; c: FrameClient }> {
  const t = 1_700_000_000_000;
  const s = await startSimulator({ port: 0, seed: 5, clock: () => t, ...options });
  open.push(s);
  const c = await FrameClient.tcp(s.port);
  open.push(c);
  return { s, c };
}

function payloadOf(frame: Uint8Array): Uint8Array {
  const ev = new FrameDecoder().push(frame)[0];
  if (ev?.kind !== "frame") throw new Error("fixture is not a frame");
  return ev.payload;
}

describe("simulator over TCP", () => {
  test("listens on loopback and reports its url", async () => {
    const { s } = await sim();
    expect(s.host).toBe("127.0.0.1");
    expect(s.port).toBeGreaterThan(0);
    expect(s.url).toBe(`tcp://127.0.0.1:${s.port}`);
  });

  test("FW_VERSION has the recorded Express layout: same length, same bytes except UUID and CRC", async () => {
    const { s, c } = await sim();
    const reply = await c.request(FW);
    const fw = decodeFwVersion(reply);
    expect(fw).toEqual(s.device.fwVersion());
    expect(fw).toMatchObject({
      firmware: "6.05",
      hardware: "VESC Express T",
      hwType: 2,
      customConfigCount: 1,
    });
    expect(fw.uuid).toMatch(/^[0-9a-f]{12}000000000000$/);
    const recorded = payloadOf(fixtureFrame("fwVersion-express-fw65.hex"));
    expect(reply.length).toBe(recorded.length);
    expect(Array.from(reply.subarray(0, 18))).toEqual(Array.from(recorded.subarray(0, 18))); // id, 6.05, "VESC Express T\0"
    expect(Array.from(reply.subarray(24, 39))).toEqual(Array.from(recorded.subarray(24, 39))); // zero UUID half .. fw name
  });

  test("answers the exact request bytes VESC Tool sends, and only those firmware answers", async () => {
    const { c } = await sim({ canIds: [84] });
    // null: the Express stays silent (ALIVE has no case; it is no motor controller; the BMS on
    // CAN id 10 does not implement GET_VALUES).
    const expected: Record<string, number | null> = {
      FW_VERSION: CommandId.FwVersion,
      GET_VALUES: null,
      BMS_GET_VALUES: CommandId.BmsGetValues,
      PING_CAN: CommandId.PingCan,
      ALIVE: null,
      FORWARD_CAN_10_GET_VALUES: null,
      GET_CUSTOM_CONFIG_0: CommandId.GetCustomConfig,
      FORWARD_CAN_84_FW_VERSION: CommandId.FwVersion,
    };
    const all = fixtureRequests();
    const names = Object.keys(expected);
    for (const name of names) c.sendRaw(all.get(name) ?? new Uint8Array(0));
    expect(names.filter((n) => !all.has(n))).toEqual([]);
    const want = names.map((k) => expected[k]).filter((id) => id !== null);
    const got: number[] = [];
    for (let i = 0; i < want.length; i++) got.push((await c.next())[0] ?? -1);
    expect(got).toEqual(want);
  });

  test("BMS_GET_VALUES decodes to the device's values; with 24 sensor slots the payload is 166 bytes like the real one", async () => {
    const { s, c } = await sim({ tempSlots: 24 });
    const reply = await c.request(BMS);
    expect(decodeBmsValues(reply)).toEqual(s.device.bmsValues());
    expect(reply.length).toBe(payloadOf(fixtureFrame("bmsGetValues-express-fw65-20s.hex")).length);
  });

  test("the BMS on CAN answers forwarded requests itself: vesc_bms_fw 6.00, reply ends after pressure", async () => {
    const { s, c } = await sim({ firmware: { major: 7, minor: 0 } });
    const fw = decodeFwVersion(await c.request(wrapForwardCan(10, FW)));
    expect(fw).toMatchObject({ firmware: "6.00", hwType: 1, customConfigCount: 1 });
    expect(fw.hasPhaseFilters).toBeUndefined();
    const own = decodeBmsValues(await c.request(wrapForwardCan(10, BMS)));
    expect(own.pressure).toBeDefined();
    expect(own.dataVersion).toBeUndefined();
    expect(own.status).toBeUndefined();
    // The Express's 7.00 cache of the same BMS carries data version and status.
    const cached = decodeBmsValues(await c.request(BMS));
    expect(cached.dataVersion).toBe(1);
    expect(cached.status).toBe(s.device.bmsState().status);
  });

  test("GET_VALUES_SELECTIVE from a 5.02 controller: the whole mask echoed, no status byte", async () => {
    const { c } = await sim({ canIds: [84], firmware: { major: 5, minor: 2 } });
    const reply = await c.request(wrapForwardCan(84, getValuesSelective.encodeRequest(0x003fffff)));
    expect(reply.length).toBe(77);
    expect(Array.from(reply.subarray(1, 5))).toEqual([0x00, 0x3f, 0xff, 0xff]);
  });

  test("the custom config of a 6.05 Express starts with its signature 9c 8e 25 ea", async () => {
    const { c } = await sim();
    const reply = await c.request(Uint8Array.of(CommandId.GetCustomConfig, 0));
    expect(Array.from(reply.subarray(0, 6))).toEqual([0x5d, 0x00, 0x9c, 0x8e, 0x25, 0xea]);
  });

  test("PING_CAN lists the motor controllers and the BMS, ascending", async () => {
    const { c } = await sim({ canIds: [85, 84] });
    expect(decodePingCan(await c.request(Uint8Array.of(CommandId.PingCan)))).toEqual([10, 84, 85]);
  });

  test("FORWARD_CAN reaches the motor controllers; replies come back unprefixed", async () => {
    const { s, c } = await sim({
      canIds: [84, 85],
      canHardware: ["ADV500", "VESC 75/300"],
      scenario: "riding",
    });
    const fw = decodeFwVersion(await c.request(wrapForwardCan(85, FW)));
    expect(fw).toMatchObject({ hardware: "VESC 75/300", hwType: 0, firmware: "6.05" });
    const values = decodeValues(await c.request(wrapForwardCan(84, Uint8Array.of(CommandId.GetValues))));
    expect(values).toEqual(s.device.motorValues(84));
    expect(values.controllerId).toBe(84);
    const mask = valuesMask(["tempFet", "erpm", "inputVoltage", "controllerId"]);
    const sel = decodeValuesSelective(
      await c.request(wrapForwardCan(84, getValuesSelective.encodeRequest(mask))),
    );
    expect(sel.mask).toBe(mask);
    expect(Object.keys(sel.values).sort()).toEqual(["controllerId", "erpm", "inputVoltage", "tempFet"]);
    const bms = decodeBmsValues(await c.request(wrapForwardCan(10, BMS)));
    expect(bms.canId).toBe(10);
    expect(s.device.stats.requests["COMM_GET_VALUES@84"]).toBe(1);
  });

  test("silence where firmware is silent: ALIVE, writes, unknown ids, absent CAN ids, config index 1", async () => {
    const { s, c } = await sim({ canIds: [84] });
    c.send(Uint8Array.of(CommandId.Alive));
    c.send(Uint8Array.of(CommandId.SetCurrent, 0, 0, 0x10, 0));
    c.send(Uint8Array.of(200));
    c.send(Uint8Array.of(CommandId.GetValues));
    c.send(wrapForwardCan(99, FW));
    c.send(wrapForwardCan(84, Uint8Array.of(CommandId.PingCan)));
    c.send(encodeCustomConfigRequest(1));
    // The first reply to arrive must be the one for this last request.
    const reply = await c.request(BMS);
    expect(reply[0]).toBe(CommandId.BmsGetValues);
    expect(s.device.stats.requests.COMM_ALIVE).toBe(1);
    expect(s.device.stats.requests.COMM_SET_CURRENT).toBe(1);
    expect(c.frames).toHaveLength(0);
  });

  test("GET_CUSTOM_CONFIG(0) carries the recognisable fake secrets (so leak tests can look for them)", async () => {
    const { c } = await sim();
    const reply = await c.request(encodeCustomConfigRequest(0));
    expect(decodeCustomConfigRedacted(reply).length).toBe(reply.length);
    const text = Buffer.from(reply).toString("latin1");
    expect(text).toContain(SIM_SECRETS.wifiPassword);
    expect(text).toContain(SIM_SECRETS.hubPassword);
    expect(text).toContain(SIM_SECRETS.apPassword);
    expect(Buffer.from(reply).includes(Buffer.from([0, 4, 0x25, 0xd4]))).toBe(true); // blePin 271828 as u32 BE
  });

  test("requests split byte by byte and several requests in one write are all answered, in order", async () => {
    const { c } = await sim();
    const frames = [encodeFrame(FW), encodeFrame(BMS), encodeFrame(FW)];
    const joined = Buffer.concat(frames);
    for (const b of joined.subarray(0, 7)) c.sendRaw(Uint8Array.of(b));
    c.sendRaw(joined.subarray(7));
    expect((await c.next())[0]).toBe(CommandId.FwVersion);
    expect((await c.next())[0]).toBe(CommandId.BmsGetValues);
    expect((await c.next())[0]).toBe(CommandId.FwVersion);
  });

  test("garbage and bad-CRC frames from the client are skipped and counted", async () => {
    const { s, c } = await sim();
    const bad = encodeFrame(BMS);
    bad[3] = (bad[3] ?? 0) ^ 0xff;
    c.sendRaw(Uint8Array.of(0xff, 0x00, 0x13, 0x37));
    c.sendRaw(bad);
    expect((await c.request(FW))[0]).toBe(CommandId.FwVersion);
    expect(s.device.stats.discardedBytes).toBeGreaterThanOrEqual(4 + bad.length);
    expect(c.frames).toHaveLength(0);
  });

  test("behaviours: newest wins, fall-through with handled:false, removal restores the default", async () => {
    const { s, c } = await sim();
    const fake = encodeFwVersionResponse({ ...s.device.fwVersion(), hardware: "Behaviour A" });
    const removeA = s.device.defineBehavior({
      onRequest: (p) => (p[0] === CommandId.FwVersion ? { handled: true, reply: fake } : { handled: false }),
    });
    const seen: string[] = [];
    const removeB = s.device.defineBehavior({
      onRequest: (_p, ctx) => {
        seen.push(ctx.commandName);
        return { handled: false };
      },
    });
    expect(decodeFwVersion(await c.request(FW)).hardware).toBe("Behaviour A");
    expect(seen).toEqual(["COMM_FW_VERSION"]);
    const removeC = s.device.defineBehavior({
      onRequest: (p, ctx) =>
        p[0] === CommandId.FwVersion
          ? { handled: true, reply: [ctx.defaultReply()[0] ?? FW, BMS.slice()] }
          : { handled: false },
    });
    expect(decodeFwVersion(await c.request(FW)).hardware).toBe("VESC Express T");
    expect(await c.next()).toEqual(BMS);
    removeC();
    removeB();
    removeA();
    expect(decodeFwVersion(await c.request(FW)).hardware).toBe("VESC Express T");
  });

  test("a behaviour can write raw bytes and close the connection", async () => {
    const { s, c } = await sim();
    s.device.defineBehavior({
      onRequest: () => ({ handled: true, raw: Uint8Array.of(0x02, 0x05, 0x00), close: true }),
    });
    c.send(FW);
    await c.closedPromise;
    expect(c.received).toBeGreaterThanOrEqual(3);
  });

  test("counts connections; dropConnections resets them and the server keeps accepting", async () => {
    const { s, c } = await sim();
    const c2 = await FrameClient.tcp(s.port);
    open.push(c2);
    await waitFor(() => s.connections === 2, { what: "two connections" });
    s.dropConnections();
    await c.closedPromise;
    await c2.closedPromise;
    await waitFor(() => s.connections === 0, { what: "no connections" });
    const c3 = await FrameClient.tcp(s.port);
    open.push(c3);
    expect((await c3.request(FW))[0]).toBe(CommandId.FwVersion);
    expect(s.device.stats.connections).toBe(3);
  });
});

describe("simulator shutdown", () => {
  test("close() ends server and sockets and leaves no handles", async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;
    const s = await startSimulator({ port: 0, canIds: [84], faults: { latencyMs: 20 } });
    const clients = await Promise.all([FrameClient.tcp(s.port), FrameClient.tcp(s.port)]);
    for (const c of clients) c.send(FW); // a reply is pending (latency) while we close
    await waitFor(() => s.connections === 2, { what: "connections" });
    await s.close();
    for (const c of clients) await c.closedPromise;
    await waitFor(
      () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length <= before,
      {
        what: "TCP handles released",
      },
    );
    expect(process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length).toBeLessThanOrEqual(
      before,
    );
    await expect(FrameClient.tcp(s.port)).rejects.toThrow();
  });
});
