/** HaSink's lifecycle over the fake MQTT client: stop() leaves nothing subscribed and publishes nothing after. */
import { expect, test } from "vitest";
import { FakeMqttClient } from "../../test/helpers/fakeMqttClient.js";
import { fakeHaSinkOptions } from "../../test/helpers/haSinkOptions.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { Bus } from "../model/bus.js";
import { HaSink } from "./haSink.js";

test("stop() removes the sink's bus subscriptions; later readings publish nothing", async () => {
  const fake = new FakeMqttClient();
  const bus = new Bus();
  const sink = new HaSink(fakeHaSinkOptions(fake, { bus }));
  await sink.start();
  expect(bus.listenerCount("reading") + bus.listenerCount("status") + bus.listenerCount("alert")).toBe(3);
  fake.up();
  await waitFor(() => fake.published.some((p) => p.topic === "vesc2mqtt/bridge/state"));
  bus.emit("reading", syntheticReading({ time: Date.now() }));
  expect(fake.published.some((p) => p.topic === "vesc2mqtt/pack/state")).toBe(true);
  await sink.stop();
  expect(bus.listenerCount("reading") + bus.listenerCount("status") + bus.listenerCount("alert")).toBe(0);
  const after = fake.published.length;
  bus.emit("reading", syntheticReading({ time: Date.now(), step: 1 }));
  expect(fake.published.length).toBe(after);
  expect(fake.published.at(-1)).toMatchObject({ topic: "vesc2mqtt/bridge/state", payload: "offline" });
});
