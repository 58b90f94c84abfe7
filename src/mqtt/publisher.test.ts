/** Publisher unit tests with the fake MQTT client of test/helpers: LWT, online, drops, batching, counters. */
import type { IClientOptions } from "mqtt";
import { describe, expect, test } from "vitest";
import { FakeMqttClient } from "../../test/helpers/fakeMqttClient.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { DEFAULT_BATCH_MS, Publisher } from "./publisher.js";

/** Past the publisher's batch window. */
const batchGone = () => new Promise((r) => setTimeout(r, DEFAULT_BATCH_MS * 4));

function setup(extra: { congestionBytes?: number } = {}) {
  const fake = new FakeMqttClient();
  let seen: IClientOptions | undefined;
  const pub = new Publisher({
    url: "mqtt://127.0.0.1:1",
    clientId: "t",
    username: "u",
    password: "p",
    stateTopic: "base/bridge/state",
    ...extra,
    connect: (_url, opts) => {
      seen = opts;
      return fake;
    },
  });
  return { fake, pub, options: () => seen };
}

/** A started, connected publisher whose "online" has already left (its batch gone). */
async function online(extra: { congestionBytes?: number } = {}) {
  const s = setup(extra);
  s.pub.start();
  s.fake.up();
  await waitFor(() => s.pub.stats.published >= 1);
  await batchGone();
  return s;
}

describe("Publisher", () => {
  test("sets a retained offline will and publishes online after every connect", async () => {
    const { fake, pub, options } = setup();
    let connects = 0;
    pub.on("connect", () => connects++);
    pub.start();
    expect(options()?.will).toMatchObject({ topic: "base/bridge/state", retain: true, qos: 1 });
    expect(String(options()?.will?.payload)).toBe("offline");
    fake.up();
    await waitFor(() => connects === 1);
    fake.down();
    fake.up();
    await waitFor(() => connects === 2);
    const online = fake.published.filter((p) => p.topic === "base/bridge/state");
    expect(online).toEqual([
      { topic: "base/bridge/state", payload: "online", qos: 1, retain: true },
      { topic: "base/bridge/state", payload: "online", qos: 1, retain: true },
    ]);
    expect(pub.stats.connects).toBe(2);
    await pub.stop();
  });

  test("drops publishes while disconnected instead of queueing them", async () => {
    const { fake, pub } = setup();
    pub.start();
    expect(await pub.publish("a", "1")).toBe(false);
    expect(pub.stats.dropped).toBe(1);
    fake.up();
    await waitFor(() => pub.stats.published >= 1);
    expect(await pub.publish("a", "2", { retain: true })).toBe(true);
    expect(fake.published.at(-1)).toEqual({ topic: "a", payload: "2", qos: 0, retain: true });
    await pub.stop();
  });

  test("publishes within the batch window leave in one write", async () => {
    const { fake, pub } = await online();
    const before = fake.stream.flushes.length;
    for (let i = 0; i < 50; i++) pub.send(`s/${i}`, String(i));
    expect(fake.stream.depth).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(fake.stream.depth).toBe(1); // still held: the window is a few ms, not one loop turn
    await batchGone();
    expect(fake.stream.depth).toBe(0);
    expect(fake.stream.flushes.slice(before)).toEqual([50]);
    pub.send("s/late", "x");
    await batchGone();
    expect(fake.stream.flushes.slice(before)).toEqual([50, 1]);
    expect(pub.stats.published).toBe(1 + 51);
    await pub.stop();
  });

  test("a batch leaves early once it fills the stream's buffer", async () => {
    const { fake, pub } = await online();
    const before = fake.stream.flushes.length;
    for (let i = 0; i < 25; i++) pub.send("big", "x".repeat(100)); // high-water mark: 1,000 bytes
    await batchGone();
    expect(fake.stream.flushes.slice(before)).toEqual([10, 10, 5]);
    expect(fake.stream.depth).toBe(0);
    await pub.stop();
  });

  test("QoS 0 is dropped (and counted) while too much waits for the broker; QoS 1 is not", async () => {
    const { pub } = await online({ congestionBytes: 500 });
    const accepted = Array.from({ length: 10 }, (_, i) => pub.send(`s/${i}`, "x".repeat(100)));
    expect(accepted).toEqual([true, true, true, true, true, true, false, false, false, false]);
    expect(pub.stats.dropped).toBe(4);
    expect(pub.send("d", "x".repeat(100), { qos: 1 })).toBe(true);
    await batchGone();
    expect(pub.send("s/after", "x")).toBe(true); // flushed: flowing again
    await pub.stop();
  });

  test("counts failed publishes", async () => {
    const { fake, pub } = setup();
    pub.start();
    fake.up();
    await waitFor(() => pub.stats.published >= 1);
    fake.failPublish = true;
    expect(await pub.publish("a", "1")).toBe(false);
    expect(pub.stats.errors).toBe(1);
    fake.failPublish = false;
    await pub.stop();
  });

  test("subscriptions are made on every connect", async () => {
    const { fake, pub } = setup();
    await pub.subscribe("homeassistant/status");
    pub.start();
    fake.up();
    fake.down();
    fake.up();
    await waitFor(() => fake.subscribed.length === 2);
    expect(fake.subscribed).toEqual(["homeassistant/status", "homeassistant/status"]);
    await pub.stop();
  });

  test("stop publishes offline (a clean disconnect does not fire the will) and ends", async () => {
    const { fake, pub } = setup();
    pub.start();
    fake.up();
    await waitFor(() => pub.stats.published >= 1);
    await pub.stop();
    expect(fake.published.at(-1)).toEqual({
      topic: "base/bridge/state",
      payload: "offline",
      qos: 1,
      retain: true,
    });
    expect(fake.ended).toBe(false);
  });
});
