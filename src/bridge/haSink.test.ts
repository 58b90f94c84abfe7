/**
 * HaSink pacing without a broker (the fake MQTT client, holding QoS 1 acknowledgements): a
 * fleet's discovery goes out one slice of devices at a time, each after the broker acked the
 * previous slice, and `discoveryBacklog` counts what is left. The broker behaviour itself is
 * tested against Mosquitto in test/integration/mqtt.*.test.ts.
 */
import { expect, test } from "vitest";
import { FakeMqttClient } from "../../test/helpers/fakeMqttClient.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { Bus } from "../model/bus.js";
import { HaSink } from "./haSink.js";

const configs = (c: FakeMqttClient) =>
  c.published.map((p) => p.topic).filter((t) => /^homeassistant\/device\/.+\/config$/.test(t));
const settle = () => new Promise((r) => setTimeout(r, 50));

test("a fleet's discovery goes out 20 devices at a time, each slice after the broker acked the last", async () => {
  const fake = new FakeMqttClient();
  fake.holdAcks = true;
  const devices = Array.from({ length: 45 }, (_, i) => ({
    id: `d${i}`,
    name: `Pack ${i}`,
    can: [],
    staleAfterMs: 4000,
  }));
  const sink = new HaSink({
    bus: new Bus(),
    devices,
    origin: { name: "vesc2mqtt", sw: "test", url: "https://example.invalid" },
    retainedScanMs: 0,
    connect: () => fake,
    mqtt: {
      url: "mqtt://127.0.0.1:1",
      clientId: "t",
      baseTopic: "vesc2mqtt",
      discoveryPrefix: "homeassistant",
      discoveryMode: "device",
      discovery: true,
      publishOnChange: false,
      heartbeatS: 60,
    },
  });
  await sink.start();
  try {
    expect(sink.discoveryBacklog).toBe(45);
    fake.up();
    await waitFor(() => fake.unacked.length === 1); // the bridge's "online"
    fake.ack();
    await waitFor(() => configs(fake).length >= 20);
    await settle();
    expect(configs(fake)).toHaveLength(20); // nothing more until the broker acks
    expect(sink.discoveryBacklog).toBe(25);
    fake.ack();
    await waitFor(() => configs(fake).length >= 40);
    await settle();
    expect(configs(fake)).toHaveLength(40);
    fake.ack();
    await waitFor(() => configs(fake).length >= 45);
    expect(sink.discoveryBacklog).toBe(0);
    expect(new Set(configs(fake)).size).toBe(45); // each device once
    fake.ack();
  } finally {
    const stopped = sink.stop();
    await waitFor(() => fake.unacked.length > 0); // the clean stop's "offline"
    fake.ack();
    await stopped;
  }
});
