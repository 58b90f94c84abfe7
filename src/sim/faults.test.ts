import { describe, expect, test } from "vitest";
import { encodeFrame, FrameDecoder } from "../protocol/index.js";
import { parseFaults, planReply, randomGarbage, splitBytes } from "./faults.js";
import { Prng } from "./prng.js";

const counters = () => ({ dropped: 0, corrupted: 0, garbage: 0, resets: 0 });
const PAYLOAD = Uint8Array.of(0x60, 1, 2, 3, 4, 5, 6, 7, 8);

describe("parseFaults", () => {
  test.each([
    ["latency=50,jitter=10", { latencyMs: 50, jitterMs: 10 }],
    ["split=1", { splitReplies: 1 }],
    ["garbage=0.5,garbage-size=4", { garbageBetweenFrames: 0.5, garbageMaxBytes: 4 }],
    ["garbage", { garbageBetweenFrames: 1 }],
    ["corrupt=0.1, drop=0", { corruptCrcRate: 0.1, dropReplyRate: 0 }],
    ["stall,old-firmware", { stall: true, oldFirmware: true }],
    ["reset=once", { resetMidFrame: "once" }],
    ["reset=0.01,slow-login=2000", { resetMidFrame: 0.01, slowLoginMs: 2000 }],
    ["", {}],
  ])("%s", (spec, want) => {
    expect(parseFaults(spec)).toEqual(want);
  });

  test.each([
    "latency",
    "latency=x",
    "split=0",
    "split=1.5",
    "drop=2",
    "corrupt=-0.1",
    "stall=1",
    "reset=twice",
    "warp=9",
  ])("rejects %s with a message naming it", (spec) => {
    const r = parseFaults(spec);
    expect("error" in r && r.error).toContain(spec.split("=")[0]);
  });
});

describe("planReply", () => {
  test("no faults: exactly the encoded frame", () => {
    expect(planReply(PAYLOAD, {}, new Prng(1), counters())).toEqual({ bytes: encodeFrame(PAYLOAD) });
  });

  test("drop=1 drops, corrupt=1 breaks only the CRC, garbage=1 prefixes bytes a decoder skips", () => {
    const c = counters();
    expect(planReply(PAYLOAD, { dropReplyRate: 1 }, new Prng(1), c)).toBeUndefined();
    const bad = planReply(PAYLOAD, { corruptCrcRate: 1 }, new Prng(1), c);
    const dec = new FrameDecoder();
    dec.push(bad?.bytes ?? new Uint8Array(0));
    expect(dec.stats.crcErrors).toBe(1);
    expect(dec.stats.framesDecoded).toBe(0);
    const garbled = planReply(PAYLOAD, { garbageBetweenFrames: 1, garbageMaxBytes: 64 }, new Prng(2), c);
    const events = new FrameDecoder().push(garbled?.bytes ?? new Uint8Array(0));
    expect(events.map((e) => e.kind)).toEqual(["discarded", "frame"]);
    expect(c).toEqual({ dropped: 1, corrupted: 1, garbage: 1, resets: 0 });
  });

  test('reset "once" cuts one frame in half and clears itself', () => {
    const faults: { resetMidFrame?: "once" | number } = { resetMidFrame: "once" };
    const plan = planReply(PAYLOAD, faults, new Prng(1), counters());
    expect(plan?.cutAt).toBe(Math.floor(encodeFrame(PAYLOAD).length / 2));
    expect(faults.resetMidFrame).toBeUndefined();
    expect(planReply(PAYLOAD, faults, new Prng(1), counters())?.cutAt).toBeUndefined();
  });

  test("the same seed gives the same faults", () => {
    const f = { corruptCrcRate: 0.5, garbageBetweenFrames: 0.5, dropReplyRate: 0.2 };
    const run = () => {
      const rng = new Prng(99);
      return Array.from({ length: 50 }, () => planReply(PAYLOAD, f, rng, counters())?.bytes.join(","));
    };
    expect(run()).toEqual(run());
  });
});

test("garbage never contains frame start bytes; splitBytes covers every byte", () => {
  const rng = new Prng(5);
  for (let i = 0; i < 200; i++) {
    for (const b of randomGarbage(rng, 32)) expect([2, 3, 4]).not.toContain(b);
  }
  const bytes = encodeFrame(PAYLOAD);
  expect(splitBytes(bytes, 1)).toHaveLength(bytes.length);
  expect(Buffer.concat(splitBytes(bytes, 4))).toEqual(Buffer.from(bytes));
  expect(splitBytes(bytes, undefined)).toEqual([bytes]);
});
