import { afterEach, describe, expect, test } from "vitest";
import { CommandId, decodeFwVersion, encodeFrame } from "../protocol/index.js";
import { type Simulator, startSimulator } from "../sim/index.js";
import { tcpTransport } from "../transport/tcp.js";
import { handshake } from "./handshake.js";
import { Session, isSessionError } from "./session.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The ADV500's reply to a FW_VERSION forwarded by an earlier client, as a hub flushes it. */
const STALE_ADV500 = Uint8Array.from(
  "02 23 00 06 05 41 44 56 35 30 30 00 35 00 21 00 13 47 32 33 33 36 32 33 00 00 00 01 00 00 01 00 00 e0 8a cd 97 3a 04 03"
    .split(" ")
    .map((h) => Number.parseInt(h, 16)),
);

async function open(
  options: Parameters<typeof startSimulator>[0] = {},
): Promise<{ sim: Simulator; session: Session }> {
  const sim = await startSimulator({ port: 0, seed: 5, ...options });
  cleanups.push(() => sim.close());
  const session = new Session(
    await tcpTransport({ host: sim.host, port: sim.port })(new AbortController().signal),
  );
  cleanups.push(() => session.close());
  return { sim, session };
}

/** Leaves the first `n` FW_VERSION requests unanswered (a hub swallowed them). */
function swallowFirst(sim: Simulator, n: number): void {
  let seen = 0;
  sim.device.defineBehavior({
    onRequest: (payload) =>
      payload[0] === CommandId.FwVersion && ++seen <= n ? { handled: true, reply: null } : { handled: false },
  });
}

describe("handshake", () => {
  test("the stale-frame vector decodes as the ADV500 (so the tests below mean something)", () => {
    const payload = STALE_ADV500.subarray(2, STALE_ADV500.length - 3);
    expect(decodeFwVersion(payload).hardware).toBe("ADV500");
  });

  test("a swallowed FW_VERSION is re-sent after 80 ms, not after a reply timeout", async () => {
    const { sim, session } = await open();
    swallowFirst(sim, 2);
    const fw = await handshake(session, { requestTimeoutMs: 2000, resend: true });
    expect(fw.uuid).toBe(sim.device.uuid);
    expect(sim.device.stats.requests.COMM_FW_VERSION).toBe(3);
    expect(session.stats.resends).toBe(2);
    expect(session.stats.timeouts).toBe(0);
  });

  test("gives up after its deadline with the normal timeout error, sends bounded", async () => {
    const { sim, session } = await open();
    sim.device.faults = { stall: true };
    const error = await handshake(session, { requestTimeoutMs: 400, resend: true }).catch((e: unknown) => e);
    expect(isSessionError(error) && error.code).toBe("Timeout");
    expect((error as Error).message).toMatch(/no reply to COMM_FW_VERSION within 400 ms \(sent 5 times\)/);
    // 400 ms / 80 ms = 5 writes; VESC Tool's 25 is the cap for longer deadlines.
    expect(sim.device.stats.requests.COMM_FW_VERSION).toBe(5);
  });

  test("direct links: one FW_VERSION per try, even when the reply is slower than 80 ms", async () => {
    const { sim, session } = await open({ faults: { latencyMs: 200 } });
    await handshake(session);
    expect(sim.device.stats.requests.COMM_FW_VERSION).toBe(1);
    expect(session.stats.resends).toBe(0);
  });

  test("never asks for the custom config unless opted in", async () => {
    const { sim, session } = await open();
    await handshake(session, { confirmIdentity: true });
    expect(sim.device.stats.requests.COMM_GET_CUSTOM_CONFIG ?? 0).toBe(0);
    await handshake(session, { customConfig: true });
    expect(sim.device.stats.requests.COMM_GET_CUSTOM_CONFIG).toBe(1);
  });

  test.each([
    ["direct", false],
    ["hub (confirmed)", true],
  ])(
    "%s: a stale ADV500 reply flushed ahead of ours in one read is not our identity",
    async (_n, confirm) => {
      const { sim, session } = await open();
      let first = true;
      sim.device.defineBehavior({
        onRequest(payload, ctx) {
          if (payload[0] !== CommandId.FwVersion || !first) return { handled: false };
          first = false;
          const ours = encodeFrame(ctx.defaultReply()[0] ?? new Uint8Array());
          const chunk = new Uint8Array(STALE_ADV500.length + ours.length);
          chunk.set(STALE_ADV500);
          chunk.set(ours, STALE_ADV500.length);
          return { handled: true, raw: chunk, reply: null };
        },
      });
      const fw = await handshake(session, { confirmIdentity: confirm, resend: confirm });
      expect(fw.hardware).toBe("VESC Express T");
      expect(fw.uuid).toBe(sim.device.uuid);
    },
  );

  test("hub: a stale reply alone, ours lost, is caught by the confirming FW_VERSION", async () => {
    const { sim, session } = await open();
    let first = true;
    sim.device.defineBehavior({
      onRequest(payload) {
        if (payload[0] !== CommandId.FwVersion || !first) return { handled: false };
        first = false;
        return { handled: true, raw: STALE_ADV500, reply: null };
      },
    });
    const fw = await handshake(session, { confirmIdentity: true, resend: true });
    expect(fw.hardware).toBe("VESC Express T");
    // ADV500, then Express, then Express again: two in a row agree.
    expect(sim.device.stats.requests.COMM_FW_VERSION).toBe(3);
  });
});
