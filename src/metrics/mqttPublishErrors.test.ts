/**
 * vesc2mqtt_mqtt_publish_errors_total counts what the broker client reported as failed, through
 * the real Publisher: a publish whose MQTT.js callback carries an error. A publish dropped
 * while disconnected is not an error (it is counted as dropped).
 */
import { describe, expect, test } from "vitest";
import { Publisher } from "../mqtt/publisher.js";
import { FakeMqttClient } from "../../test/helpers/fakeMqttClient.js";
import { Metrics } from "./metrics.js";

async function publishErrorsTotal(metrics: Metrics): Promise<number> {
  const line = (await metrics.text())
    .split("\n")
    .find((l) => l.startsWith("vesc2mqtt_mqtt_publish_errors_total "));
  return Number(line?.split(" ")[1]);
}

describe("MQTT publish errors metric", () => {
  test("each failed publish callback adds one; dropped and acknowledged publishes add none", async () => {
    const client = new FakeMqttClient();
    const publisher = new Publisher({
      url: "mqtt://127.0.0.1:1883",
      clientId: "t",
      stateTopic: "vesc/bridge/state",
      batchMs: 0,
      connect: () => client,
    });
    const metrics = new Metrics();
    const before = await publishErrorsTotal(metrics);
    publisher.start();
    publisher.send("vesc/pack/state", "{}"); // disconnected: dropped, not an error
    client.connected = true;
    client.emit("connect");
    expect(await publisher.publish("vesc/pack/state", "{}")).toBe(true);
    client.failPublish = true;
    expect(await publisher.publish("vesc/pack/state", "{}", { qos: 1 })).toBe(false);
    publisher.send("vesc/pack/state", "{}");
    publisher.send("vesc/pack/state", "{}");
    expect(publisher.stats.errors).toBe(3);
    expect(await publishErrorsTotal(metrics)).toBe(before + 3);
    // Every Metrics instance exposes the same process-wide count.
    expect(await publishErrorsTotal(new Metrics())).toBe(before + 3);
    client.failPublish = false;
    await publisher.stop();
  });
});
