/**
 * The real Express 6.05's recorded BMS replies, replayed by the simulator over loopback TCP
 * and read by the project's poller: every reading is one of the recorded replies, in the
 * recorded order, and the sequence wraps around after the last one.
 */
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import type { Reading } from "../../src/model/reading.js";
import { decodeBmsValues } from "../../src/protocol/index.js";
import { withStats } from "../../src/session/device.js";
import { Poller } from "../../src/session/poller.js";
import { loadReplayFile, type Simulator, startSimulator } from "../../src/sim/index.js";
import { tcpTransport } from "../../src/transport/tcp.js";
import { waitFor } from "../helpers/waitFor.js";

const CAPTURE = fileURLToPath(new URL("../fixtures/frames/bms-express-fw605-sequence.txt", import.meta.url));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("replaying the real Express 6.05", () => {
  test("the poller's readings are the recorded replies, in order, wrapping after the last", async () => {
    const recorded = loadReplayFile(CAPTURE);
    // Five replies that differ from each other, so order and wrap are visible in a few polls.
    const distinct = new Map(recorded.map((p) => [Buffer.from(p).toString("hex"), p]));
    const replay = [...distinct.values()].slice(0, 5);
    expect(replay).toHaveLength(5);
    const sim: Simulator = await startSimulator({ port: 0, seed: 5, replay });
    cleanups.push(() => sim.close());
    const poller = new Poller({
      deviceId: "pack",
      transport: tcpTransport({ host: sim.host, port: sim.port }),
      url: sim.url,
      intervalMs: 20,
      requestTimeoutMs: 1000,
    });
    const readings: Reading[] = [];
    poller.on("reading", (r) => readings.push(r));
    poller.on("error", () => undefined);
    cleanups.push(() => poller.stop());
    poller.start();
    await waitFor(() => readings.length >= 12, { timeoutMs: 20_000, what: "12 readings" });
    await poller.stop();
    expect(readings[0]?.device).toMatchObject({ firmware: "6.05", hardware: "VESC Express T" });
    const served = sim.device.stats.requests.COMM_BMS_GET_VALUES ?? 0;
    expect(served).toBeGreaterThanOrEqual(readings.length);
    // Every poll asked for one BMS reply, so reading i is recorded reply i mod 5.
    const expected = replay.map((p) => JSON.parse(JSON.stringify(withStats(decodeBmsValues(p)))));
    readings.forEach((r, i) => {
      expect(JSON.parse(JSON.stringify(r.bms)), `reading ${i}`).toEqual(expected[i % replay.length]);
    });
    for (const r of readings) {
      expect(r.bms?.soc).toBe(0);
      expect(r.bms?.temperatures?.[3]).toBe(99);
    }
  });
});
