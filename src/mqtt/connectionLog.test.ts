import { afterEach, expect, test } from "vitest";
import { FakeMqttClient } from "../../test/helpers/fakeMqttClient.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { completeLog } from "../model/log.js";
import { logConnection, redactUrl } from "./connectionLog.js";
import { Publisher } from "./publisher.js";

let pub: Publisher | undefined;
afterEach(() => pub?.stop());

function logged() {
  const fake = new FakeMqttClient();
  const lines: string[] = [];
  let current = true;
  pub = new Publisher({
    url: "mqtt://bridge:s3cret@127.0.0.1:1883",
    clientId: "t",
    stateTopic: "vesc2mqtt/bridge/state",
    connect: () => fake,
  });
  logConnection(pub, {
    url: "mqtt://bridge:s3cret@127.0.0.1:1883",
    reconnectPeriodMs: 2000,
    log: completeLog({ info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) }),
    current: () => current,
  });
  pub.start();
  return { fake, lines, letGo: () => (current = false) };
}

test("connected, lost once per outage, each distinct error once, reconnected with the first reason", async () => {
  const { fake, lines } = logged();
  fake.up();
  await waitFor(() => lines.length > 0);
  fake.down();
  fake.emit("error", new Error("connect ECONNREFUSED 127.0.0.1:1883"));
  fake.down();
  fake.emit("error", new Error("connect ECONNREFUSED 127.0.0.1:1883"));
  fake.emit("error", new Error("Not authorized"));
  fake.up();
  await waitFor(() => lines.length > 4);
  expect(lines.slice(0, 4)).toEqual([
    "info mqtt: connected to mqtt://127.0.0.1:1883",
    "warn mqtt: connection to mqtt://127.0.0.1:1883 lost (retrying every 2 s)",
    "warn mqtt: connect ECONNREFUSED 127.0.0.1:1883 (retrying)",
    "warn mqtt: Not authorized (retrying)",
  ]);
  expect(lines[4]).toMatch(
    /^info mqtt: reconnected to mqtt:\/\/127\.0\.0\.1:1883 after [\d.]+ s \(connect ECONNREFUSED 127\.0\.0\.1:1883\); re-publishing everything retained$/,
  );
  expect(lines.join("\n")).not.toContain("s3cret");
});

test("the disconnect of a publisher the sink let go (a clean stop) is no outage", async () => {
  const { fake, lines, letGo } = logged();
  fake.up();
  await waitFor(() => lines.length > 0);
  letGo();
  fake.down();
  expect(lines).toEqual(["info mqtt: connected to mqtt://127.0.0.1:1883"]);
});

test("credentials are cut from broker URLs", () => {
  expect(redactUrl("mqtts://user:p%40ss@broker.local:8883/x")).toBe("mqtts://broker.local:8883/x");
  expect(redactUrl("mqtt://127.0.0.1:1883")).toBe("mqtt://127.0.0.1:1883");
});
