/**
 * HaSink pacing without a broker (a fake MQTT client that holds QoS 1 acknowledgements): a
 * fleet's discovery goes out one slice of devices at a time, each after the broker acked the
 * previous slice, and `discoveryBacklog` counts what is left. The broker behaviour itself is
 * tested against Mosquitto in test/integration/mqtt.*.test.ts.
 */
import { EventEmitter } from "node:events";
import { expect, test } from "vitest";
import { waitFor } from "../../test/helpers/waitFor.js";
import { Bus } from "../model/bus.js";
import type { MqttClientLike } from "../mqtt/publisher.js";
import { HaSink } from "./haSink.js";

class AckLaterClient extends EventEmitter implements MqttClientLike {
  connected = false;
  readonly topics: string[] = [];
  readonly unacked: (() => void)[] = [];
  publish(
    topic: string,
    _message: string,
    opts: { qos: 0 | 1; retain: boolean },
    callback: (error?: Error) => void,
  ): void {
    this.topics.push(topic);
    if (opts.qos === 1) this.unacked.push(() => callback());
    else callback();
  }
  async subscribeAsync(): Promise<unknown> {
    return [];
  }
  async unsubscribeAsync(): Promise<unknown> {
    return undefined;
  }
  async endAsync(): Promise<void> {
    this.connected = false;
  }
  /** The broker acknowledges everything sent so far. */
  ack(): void {
    for (const done of this.unacked.splice(0)) done();
  }
}

const configs = (c: AckLaterClient) => c.topics.filter((t) => /^homeassistant\/device\/.+\/config$/.test(t));
const settle = () => new Promise((r) => setTimeout(r, 50));

test("a fleet's discovery goes out 20 devices at a time, each slice after the broker acked the last", async () => {
  const fake = new AckLaterClient();
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
    fake.connected = true;
    fake.emit("connect");
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
