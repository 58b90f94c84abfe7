import { createServer } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { fixtureFrame, hex } from "../../test/helpers/hex.js";
import {
  CommandId,
  bmsGetValues,
  decodeFwVersion,
  decodeValues,
  fwVersion,
  getValues,
} from "../protocol/index.js";
import { type Simulator, startSimulator } from "../sim/index.js";
import { tcpTransport } from "../transport/tcp.js";
import { Session, isSessionError } from "./session.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(
  options: Parameters<typeof startSimulator>[0] = {},
): Promise<{ sim: Simulator; session: Session }> {
  const sim = await startSimulator({ port: 0, seed: 2, ...options });
  cleanups.push(() => sim.close());
  const session = new Session(
    await tcpTransport({ host: sim.host, port: sim.port })(new AbortController().signal),
  );
  cleanups.push(() => session.close());
  return { sim, session };
}

const fw = { expect: CommandId.FwVersion, timeoutMs: 2000 } as const;
const bms = { expect: CommandId.BmsGetValues, timeoutMs: 2000 } as const;

describe("Session", () => {
  test("matches concurrent replies by command id", async () => {
    const { sim, session } = await open({ faults: { latencyMs: 5 } });
    const [a, b, c] = await Promise.all([
      session.request(bmsGetValues.encodeRequest(), bms),
      session.request(fwVersion.encodeRequest(), fw),
      session.request(bmsGetValues.encodeRequest(), bms),
    ]);
    expect(a?.[0]).toBe(CommandId.BmsGetValues);
    expect(c?.[0]).toBe(CommandId.BmsGetValues);
    expect(decodeFwVersion(b ?? new Uint8Array()).uuid).toBe(sim.device.uuid);
    expect(session.stats.replies).toBe(3);
  });

  test("a timeout rejects with code Timeout and the next request still works", async () => {
    const { sim, session } = await open();
    sim.device.faults = { stall: true };
    const error = await session
      .request(fwVersion.encodeRequest(), { ...fw, timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(isSessionError(error) && error.code).toBe("Timeout");
    expect((error as Error).message).toMatch(/no reply to COMM_FW_VERSION within 100 ms/);
    sim.device.faults = {};
    const reply = await session.request(fwVersion.encodeRequest(), fw);
    expect(reply[0]).toBe(CommandId.FwVersion);
    expect(session.stats.timeouts).toBe(1);
  });

  test("each request times out at its own deadline, whatever else is pending", async () => {
    const { sim, session } = await open();
    sim.device.faults = { stall: true };
    const started = performance.now();
    const settledAt = (p: Promise<unknown>) =>
      p.then(
        () => Number.NaN,
        (e: unknown) =>
          isSessionError(e) && e.code === "Timeout" ? performance.now() - started : Number.NaN,
      );
    // The long one first: the shorter one must not wait for it, nor it end early for the short one.
    const long = settledAt(session.request(bmsGetValues.encodeRequest(), { ...bms, timeoutMs: 400 }));
    const short = settledAt(session.request(fwVersion.encodeRequest(), { ...fw, timeoutMs: 100 }));
    const [longMs, shortMs] = await Promise.all([long, short]);
    expect(shortMs).toBeGreaterThanOrEqual(99);
    expect(longMs).toBeGreaterThanOrEqual(399);
    expect(shortMs).toBeLessThan(longMs);
    expect(session.stats.timeouts).toBe(2);
  });

  test("an answered request leaves no timer holding the process open", async () => {
    const { session } = await open();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const pending = session.request(fwVersion.encodeRequest(), fw);
    expect(timers()).toBe(before + 1);
    await pending;
    expect(timers()).toBe(before);
    // The same timer, re-armed, serves the next request.
    await session.request(fwVersion.encodeRequest(), fw);
    expect(timers()).toBe(before);
  });

  test("after a timeout, a bogus start byte no longer holds back the frames behind it", async () => {
    const { sim, session } = await open();
    let first = true;
    sim.device.defineBehavior({
      onRequest() {
        if (!first) return { handled: false };
        first = false;
        // 0x02 0xff promises a 255-byte frame that never comes: the real reply hides inside it.
        return { handled: true, raw: Uint8Array.of(0x02, 0xff), reply: [] };
      },
    });
    const error = await session
      .request(fwVersion.encodeRequest(), { ...fw, timeoutMs: 150 })
      .catch((e: unknown) => e);
    expect(isSessionError(error) && error.code).toBe("Timeout");
    const reply = await session.request(fwVersion.encodeRequest(), fw);
    expect(reply[0]).toBe(CommandId.FwVersion);
    expect(session.decoder.stats.discards.truncated).toBeGreaterThanOrEqual(1);
  });

  test("forwarded requests are serialised: the next goes out only after the previous reply", async () => {
    const { sim, session } = await open({ canIds: [20, 21, 22], faults: { latencyMs: 20 } });
    const repliesSeenAtArrival: number[] = [];
    sim.device.defineBehavior({
      onRequest(payload) {
        if (payload[0] === CommandId.ForwardCan) repliesSeenAtArrival.push(session.stats.replies);
        return { handled: false };
      },
    });
    const ids = [20, 21, 22];
    const replies = await Promise.all(
      ids.map((id) =>
        session.forward(id, getValues.encodeRequest(), { expect: CommandId.GetValues, timeoutMs: 2000 }),
      ),
    );
    expect(replies.map((r) => decodeValues(r).controllerId)).toEqual(ids);
    expect(repliesSeenAtArrival).toEqual([0, 1, 2]);
  });

  test("unsolicited frames are counted and ignored", async () => {
    const { sim, session } = await open();
    sim.device.defineBehavior({
      onRequest(_p, ctx) {
        return {
          handled: true,
          reply: [Uint8Array.of(CommandId.Print, 0x68, 0x69), Uint8Array.of(200, 1), ...ctx.defaultReply()],
        };
      },
    });
    const strays: number[] = [];
    session.on("stray", (p) => strays.push(p[0] ?? -1));
    const reply = await session.request(fwVersion.encodeRequest(), fw);
    expect(reply[0]).toBe(CommandId.FwVersion);
    expect(strays).toEqual([CommandId.Print, 200]);
    expect(session.stats).toMatchObject({ strayFrames: 2, prints: 1, replies: 1 });
  });

  test("a lost connection fails pending requests with code Closed, carrying the transport error", async () => {
    const { sim, session } = await open({ faults: { stall: true } });
    const pending = session.request(fwVersion.encodeRequest(), fw).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    sim.dropConnections();
    const error = await pending;
    expect(isSessionError(error) && error.code).toBe("Closed");
    expect((error as Error).cause).toMatchObject({ name: "TransportError", code: "Closed" });
    expect(session.closed).toBe(true);
    const after = await session.request(fwVersion.encodeRequest(), fw).catch((e: unknown) => e);
    expect(isSessionError(after) && after.code).toBe("Closed");
  });
});

describe("Session decoder limit", () => {
  test("a corrupt long-frame header does not hold back the reply behind it", async () => {
    // `03 27 10` promises 10,000 bytes: more than any firmware sends (PACKET_MAX_PL_LEN 512),
    // so the decoder must drop it at once instead of waiting for bytes that never come.
    const server = createServer((socket) => {
      socket.once("data", () => {
        socket.write(Buffer.concat([hex("03 27 10"), fixtureFrame("fwVersion-express-fw65.hex")]));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const session = new Session(
      await tcpTransport({ host: "127.0.0.1", port: address.port })(new AbortController().signal),
    );
    cleanups.push(() => session.close());
    const reply = await session.request(fwVersion.encodeRequest(), { ...fw, timeoutMs: 1000 });
    expect(decodeFwVersion(reply).hardware).toBe("VESC Express T");
  });
});
