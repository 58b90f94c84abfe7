/**
 * An MqttOutbox over a real Publisher over the fake MQTT client, connected (its "online"
 * already sent and cleared from `fake.published`): for unit tests of the HA publishers.
 */
import { MqttOutbox } from "../../src/mqtt/outbox.js";
import { Publisher } from "../../src/mqtt/publisher.js";
import { FakeMqttClient } from "./fakeMqttClient.js";
import { waitFor } from "./waitFor.js";

export interface FakeOutbox {
  readonly fake: FakeMqttClient;
  readonly pub: Publisher;
  readonly out: MqttOutbox;
  /** (topic, payload, qos, retain) of what went out since the last take(), oldest first. */
  take(): string[];
  stop(): Promise<void>;
}

export async function connectedOutbox(): Promise<FakeOutbox> {
  const fake = new FakeMqttClient();
  const pub = new Publisher({
    url: "mqtt://127.0.0.1:1",
    clientId: "t",
    stateTopic: "vesc2mqtt/bridge/state",
    connect: () => fake,
  });
  const out = new MqttOutbox();
  out.publisher = pub;
  const connected = new Promise<void>((resolve) => pub.once("connect", resolve));
  pub.start();
  fake.up();
  await connected;
  await waitFor(() => fake.published.length > 0);
  fake.published.splice(0);
  return {
    fake,
    pub,
    out,
    take: () =>
      fake.published.splice(0).map((p) => `${p.topic} ${p.payload} q${p.qos}${p.retain ? " r" : ""}`),
    stop: () => pub.stop(),
  };
}
