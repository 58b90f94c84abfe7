import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { connectedOutbox, type FakeOutbox } from "../../test/helpers/fakeOutbox.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import type { StateSlot } from "./stateSlot.js";
import { type StateMemory, StatePublisher } from "./statePublisher.js";

let o: FakeOutbox;
beforeEach(async () => {
  o = await connectedOutbox();
});
afterEach(async () => {
  vi.useRealTimers();
  await o.stop();
});

const memory = (can: number[] = []): StateMemory => ({
  desc: { id: "pack", can: can.map((id) => ({ id })) },
  states: new Map<string, StateSlot>(),
});
const topics = () =>
  o.fake.published
    .filter((p) => p.topic !== "vesc2mqtt/bridge/state") // the Publisher's own "online" after up()
    .map((p) => `${p.topic} q${p.qos}${p.retain ? " r" : ""}`);

test("every reading goes out retained at QoS 0, the CAN node only when configured", () => {
  const states = new StatePublisher(o.out, {
    baseTopic: "vesc2mqtt",
    publishOnChange: false,
    heartbeatS: 60,
  });
  states.publishReading(memory(), syntheticReading({ time: 0, withMotor: true }));
  expect(topics()).toEqual(["vesc2mqtt/pack/state q0 r"]);
  o.take();
  const mem = memory([84]);
  states.publishReading(mem, syntheticReading({ time: 0, withMotor: true }));
  states.publishReading(mem, syntheticReading({ time: 0, withMotor: true }));
  expect(topics()).toEqual([
    "vesc2mqtt/pack/state q0 r",
    "vesc2mqtt/pack/can/84/state q0 r",
    "vesc2mqtt/pack/state q0 r",
    "vesc2mqtt/pack/can/84/state q0 r",
  ]);
});

test("publish_on_change: an unchanged reading waits for the heartbeat; a dropped one is resent", () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(1_000_000);
  const states = new StatePublisher(o.out, { baseTopic: "vesc2mqtt", publishOnChange: true, heartbeatS: 10 });
  const mem = memory();
  const r = syntheticReading({ time: 0 });
  states.publishReading(mem, r);
  states.publishReading(mem, { ...r, time: "2026-01-01T00:00:01.000Z" }); // only the time moved: same change key
  expect(topics()).toHaveLength(1);
  states.publishReading(mem, syntheticReading({ time: 2, step: 1 }));
  expect(topics()).toHaveLength(2);
  vi.setSystemTime(1_000_000 + 10_000);
  states.publishReading(mem, syntheticReading({ time: 3, step: 1 }));
  expect(topics()).toHaveLength(3); // heartbeat
  o.fake.down();
  states.publishReading(mem, syntheticReading({ time: 4, step: 2 })); // dropped
  o.fake.up();
  states.publishReading(mem, syntheticReading({ time: 5, step: 2 })); // same key, but the last was never sent
  expect(topics()).toHaveLength(4);
});

test("republish sends the newest payload of every topic", () => {
  const states = new StatePublisher(o.out, { baseTopic: "vesc2mqtt", publishOnChange: true, heartbeatS: 60 });
  const mem = memory([84]);
  states.publishReading(mem, syntheticReading({ time: 0, withMotor: true }));
  const newest = syntheticReading({ time: 0, step: 3, withMotor: true });
  states.publishReading(mem, newest);
  const sent = o.fake.published.slice(-2).map((p) => [p.topic, p.payload]);
  o.take();
  states.republish(mem);
  expect(o.fake.published.map((p) => [p.topic, p.payload])).toEqual(sent);
});
