import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { connectedOutbox, type FakeOutbox } from "../../test/helpers/fakeOutbox.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import type { BmsReading, DeviceStatus } from "../model/reading.js";
import { type AvailabilityMemory, AvailabilityPublisher } from "./availabilityPublisher.js";

let o: FakeOutbox;
beforeEach(async () => {
  o = await connectedOutbox();
});
afterEach(async () => {
  vi.useRealTimers();
  await o.stop();
});

const status = (link: DeviceStatus["link"]): DeviceStatus => ({
  deviceId: "pack",
  url: "tcp://127.0.0.1:1",
  link,
  reconnects: 0,
  crcErrors: 0,
  discardedBytes: 0,
  framesReceived: 0,
});
const memory = (): AvailabilityMemory => ({
  desc: { id: "pack", staleAfterMs: 5000 },
  lastReadingAt: 0,
  bmsAvailability: new Map(),
});
const sent = (topic: string) =>
  o.fake.published
    .filter((p) => p.topic === topic)
    .map((p) => `${p.payload} q${p.qos}${p.retain ? " r" : ""}`);
const DEVICE = "vesc2mqtt/pack/availability";

test("online while the link is up and readings are fresh; offline once they stop; sent on change only", () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(100_000);
  const a = new AvailabilityPublisher(o.out, "vesc2mqtt");
  const mem = memory();
  a.publish(mem, false);
  expect(sent(DEVICE)).toEqual(["offline q1 r"]); // no status yet
  mem.status = status("online");
  a.publish(mem, false);
  mem.lastReadingAt = Date.now();
  a.publish(mem, false);
  expect(sent(DEVICE)).toEqual(["offline q1 r", "online q1 r"]);
  vi.setSystemTime(100_000 + 5001);
  a.publish(mem, false);
  expect(sent(DEVICE)).toEqual(["offline q1 r", "online q1 r", "offline q1 r"]);
  a.publish(mem, true);
  expect(sent(DEVICE)).toHaveLength(4); // forced: a republish
});

test("nothing is taken as sent while disconnected: the change goes out once the broker is back", () => {
  const a = new AvailabilityPublisher(o.out, "vesc2mqtt");
  const mem = { ...memory(), status: status("online") };
  o.fake.down();
  expect(a.publish(mem, false)).toBeUndefined();
  expect(mem.availability).toBeUndefined();
  o.fake.up();
  a.publish(mem, false);
  expect(sent(DEVICE)).toEqual(["online q1 r"]);
});

test("the stale check turns a device whose readings stopped offline without any event", async () => {
  const a = new AvailabilityPublisher(o.out, "vesc2mqtt");
  const mem = { ...memory(), desc: { id: "pack", staleAfterMs: 10 }, status: status("online") };
  mem.lastReadingAt = Date.now();
  a.publish(mem, false);
  a.startStaleChecks(() => [mem]);
  try {
    await vi.waitFor(() => expect(sent(DEVICE)).toEqual(["online q1 r", "offline q1 r"]), { timeout: 3000 });
  } finally {
    a.stopStaleChecks();
  }
});

test("BMS availability: offline while frozen, per BMS, on change, all again on republish", () => {
  const a = new AvailabilityPublisher(o.out, "vesc2mqtt");
  const mem = memory();
  const reading = (stale: boolean) => {
    const r = syntheticReading({ time: 0 });
    return { ...r, bms: { ...(r.bms as BmsReading), stale } };
  };
  a.publishBms(mem, reading(false));
  a.publishBms(mem, reading(false));
  a.publishBms(mem, reading(true));
  expect(sent("vesc2mqtt/pack/bms/availability")).toEqual(["online q1 r", "offline q1 r"]);
  o.take();
  const acks: Promise<unknown>[] = [];
  a.republishBms(mem, acks);
  expect(acks).toHaveLength(1);
  expect(sent("vesc2mqtt/pack/bms/availability")).toEqual(["offline q1 r"]);
});
