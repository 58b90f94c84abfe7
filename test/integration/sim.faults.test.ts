/**
 * Every fault mode of the simulator over real TCP. No timing assertions: "no reply" is shown
 * by ordering (a later request's reply arrives first), delays only by replies still arriving.
 */
import { afterEach, describe, expect, test } from "vitest";
import { CommandId, decodeBmsValues, decodeFwVersion } from "../../src/protocol/index.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";
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
  const s = await startSimulator({ port: 0, seed: 11, ...options });
  open.push(s);
  const c = await FrameClient.tcp(s.port);
  open.push(c);
  return { s, c };
}

const requested = (s: Simulator, name: string, n: number) => () => (s.device.stats.requests[name] ?? 0) >= n;

describe("simulator faults over TCP", () => {
  test("split=1: every reply byte in its own write still decodes", async () => {
    const { s, c } = await sim({ faults: { splitReplies: 1 } });
    const reply = await c.request(BMS);
    expect(decodeBmsValues(reply).cells).toHaveLength(20);
    expect(c.decoder.stats.bytesDiscarded).toBe(0);
    s.device.faults = { splitReplies: 7 };
    expect(decodeFwVersion(await c.request(FW)).hardware).toBe("VESC Express T");
  });

  test("garbage between frames and corrupt CRCs: the client decoder resyncs and counts; good frames survive", async () => {
    const { s, c } = await sim({
      faults: { garbageBetweenFrames: 1, garbageMaxBytes: 40, corruptCrcRate: 0.3 },
    });
    const n = 40;
    for (let i = 0; i < n; i++) c.send(FW);
    await waitFor(requested(s, "COMM_FW_VERSION", n), { what: "all requests read" });
    const corrupted = s.device.stats.faults.corrupted;
    expect(corrupted).toBeGreaterThan(0);
    expect(corrupted).toBeLessThan(n);
    // A corrupt frame's bytes can hold a would-be frame whose declared length reaches past
    // them; the decoder rightly waits for that many bytes before giving up on it, as the
    // firmware does. Clean traffic after the faults supplies them, as a live link would.
    s.device.faults = {};
    let extra = 0;
    await waitFor(
      () => {
        if (c.frames.length === n - corrupted + extra) return true;
        if (extra < 400 && (s.device.stats.requests.COMM_FW_VERSION ?? 0) === n + extra) {
          for (let i = 0; i < 20; i++) c.send(FW);
          extra += 20;
        }
        return false;
      },
      { what: "every uncorrupted reply" },
    );
    expect(c.frames).toHaveLength(n - corrupted + extra);
    for (const f of c.frames) expect(decodeFwVersion(f).hwType).toBe(2);
    // Sliding through a corrupt frame can hit more would-be start bytes, so at least one per frame.
    // A corrupt frame is found by its CRC, or swallowed while resyncing past it.
    expect(c.decoder.stats.crcErrors).toBeGreaterThan(0);
    expect(c.decoder.stats.bytesDiscarded).toBeGreaterThan(0);
    expect(s.device.stats.faults.garbage).toBe(n);
  });

  test("drop: a dropped reply never comes; the next request is answered first", async () => {
    const { s, c } = await sim({ faults: { dropReplyRate: 1 } });
    c.send(BMS);
    await waitFor(requested(s, "COMM_BMS_GET_VALUES", 1), { what: "request read" });
    s.device.faults = {};
    expect((await c.request(FW))[0]).toBe(CommandId.FwVersion);
    expect(s.device.stats.faults.dropped).toBe(1);
    expect(c.frames).toHaveLength(0);
  });

  test("stall: the connection stays open and reads, but answers nothing until the stall ends", async () => {
    const { s, c } = await sim({ faults: { stall: true } });
    for (let i = 0; i < 3; i++) c.send(BMS);
    await waitFor(requested(s, "COMM_BMS_GET_VALUES", 3), { what: "requests read" });
    expect(c.closed).toBe(false);
    expect(s.connections).toBe(1);
    s.device.faults.stall = false;
    expect((await c.request(FW))[0]).toBe(CommandId.FwVersion);
    expect(c.frames).toHaveLength(0);
  });

  test("latency + jitter: replies still come, in request order", async () => {
    const { c } = await sim({ faults: { latencyMs: 5, jitterMs: 30 } });
    const order = [FW, BMS, FW, BMS, BMS, FW, BMS, FW];
    for (const p of order) c.send(p);
    const got: number[] = [];
    for (let i = 0; i < order.length; i++) got.push((await c.next())[0] ?? -1);
    expect(got).toEqual(order.map((p) => p[0]));
  });

  test("reset once: half a frame arrives, then the socket closes; later connections are served", async () => {
    const { s, c } = await sim({ faults: { resetMidFrame: "once" } });
    c.send(BMS);
    await c.closedPromise;
    expect(c.frames).toHaveLength(0);
    expect(c.decoder.pendingBytes).toBeLessThanOrEqual(c.received);
    expect(s.device.stats.faults.resets).toBe(1);
    expect(s.device.faults.resetMidFrame).toBeUndefined();
    const c2 = await FrameClient.tcp(s.port);
    open.push(c2);
    expect((await c2.request(BMS))[0]).toBe(CommandId.BmsGetValues);
  });

  test("reset at rate 1 closes every connection at its first reply", async () => {
    const { s, c } = await sim({ faults: { resetMidFrame: 1 } });
    c.send(FW);
    await c.closedPromise;
    expect(c.frames).toHaveLength(0);
    await waitFor(() => s.connections === 0, { what: "server side closed" });
  });

  test("old firmware: short FW_VERSION and BMS payloads, switchable at run time", async () => {
    const { s, c } = await sim();
    const full = decodeFwVersion(await c.request(FW));
    expect(full.hwConfigCrc).toBeDefined();
    s.device.faults = { oldFirmware: true };
    const old = decodeFwVersion(await c.request(FW));
    expect(old.hardware).toBe("VESC Express T");
    expect(old.uuid).toBe(full.uuid);
    expect(old.hwType).toBeUndefined();
    const bms = decodeBmsValues(await c.request(BMS));
    expect(bms.cells).toHaveLength(20);
    expect(bms.ampHoursChargedTotal).toBeUndefined();
    expect(bms.pressure).toBeUndefined();
  });
});
