/**
 * HaSink pacing without a broker (the fake MQTT client, holding QoS 1 acknowledgements): a
 * fleet's discovery goes out one slice of devices at a time, each after the broker acked the
 * previous slice, and `discoveryBacklog` counts what is left. The broker behaviour itself is
 * tested against Mosquitto in test/integration/mqtt.*.test.ts.
 */
import { expect, test } from "vitest";
import { FakeMqttClient } from "../../test/helpers/fakeMqttClient.js";
import { fakeHaSinkOptions } from "../../test/helpers/haSinkOptions.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import { Bus } from "../model/bus.js";
import type { BmsReading } from "../model/reading.js";
import { DISCOVERY_SETTLE_READINGS } from "./discoveryPublisher.js";
import { HaSink } from "./haSink.js";
import { linkLine } from "./linkLog.js";

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
  const sink = new HaSink(fakeHaSinkOptions(fake, { devices }));
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

function sinkWith(fake: FakeMqttClient, bus = new Bus(), log?: { lines: string[] }) {
  return new HaSink(
    fakeHaSinkOptions(fake, {
      bus,
      ...(log
        ? {
            log: {
              error: (m: string) => log.lines.push(`error ${m}`),
              warn: (m: string) => log.lines.push(`warn ${m}`),
              info: (m: string) => log.lines.push(`info ${m}`),
              debug: () => undefined,
            },
          }
        : {}),
    }),
  );
}

const alertDocs = (c: FakeMqttClient) =>
  c.published.filter((p) => p.topic === "vesc2mqtt/pack/alerts").map((p) => JSON.parse(p.payload));

test("the alerts document (all off) goes out with the first reading, so HA shows off, not unknown", async () => {
  const fake = new FakeMqttClient();
  const bus = new Bus();
  const sink = sinkWith(fake, bus);
  await sink.start();
  try {
    fake.up();
    expect(alertDocs(fake)).toEqual([]);
    bus.emit("reading", syntheticReading({ time: Date.now() }));
    expect(alertDocs(fake)).toHaveLength(1);
    expect(alertDocs(fake)[0]).toMatchObject({ problem: false, message: "" });
    expect(alertDocs(fake)[0].rules.soc_low).toEqual({ active: false, message: "" });
    bus.emit("reading", syntheticReading({ time: Date.now(), step: 1 }));
    expect(alertDocs(fake)).toHaveLength(1); // once, not per reading
  } finally {
    await sink.stop();
  }
});

test("alerts raised or cleared while the broker was away are republished on reconnect", async () => {
  const fake = new FakeMqttClient();
  const bus = new Bus();
  const sink = sinkWith(fake, bus);
  await sink.start();
  const alert = (rule: string, active: boolean) =>
    bus.emit("alert", {
      deviceId: "pack",
      rule,
      active,
      message: `${rule} msg`,
      time: "2026-01-01T00:00:00Z",
    });
  try {
    fake.up();
    bus.emit("reading", syntheticReading({ time: Date.now() }));
    alert("cell_delta", true);
    expect(alertDocs(fake).at(-1)).toMatchObject({ problem: true });
    fake.down();
    const before = alertDocs(fake).length;
    alert("cell_delta", false); // cleared during the outage
    alert("temperature_high", true); // raised during the outage
    expect(alertDocs(fake)).toHaveLength(before); // dropped: disconnected
    fake.up();
    await waitFor(() => alertDocs(fake).length > before);
    const doc = alertDocs(fake).at(-1);
    expect(doc.rules.cell_delta.active).toBe(false);
    expect(doc.rules.temperature_high).toMatchObject({ active: true, message: "temperature_high msg" });
  } finally {
    await sink.stop();
  }
});

test("a flapping cell count (1 ↔ 50) does not republish discovery every poll; a count that holds does", async () => {
  const fake = new FakeMqttClient();
  const bus = new Bus();
  const sink = sinkWith(fake, bus);
  await sink.start();
  const discoveryBytes = () =>
    fake.published
      .filter((p) => p.topic.startsWith("homeassistant/device/"))
      .reduce((n, p) => n + p.payload.length, 0);
  const at = (cells: number, step: number) => syntheticReading({ time: Date.now(), step, cells });
  try {
    fake.up();
    await waitFor(() => fake.published.some((p) => p.topic === "vesc2mqtt/bridge/state"));
    bus.emit("reading", at(20, 0));
    const first = discoveryBytes();
    expect(first).toBeGreaterThan(0);
    for (let step = 1; step <= 100; step++) bus.emit("reading", at(step % 2 === 0 ? 1 : 50, step));
    // Without the settling rule this was ~100 discovery payloads (each tens of KB).
    expect(discoveryBytes()).toBe(first);
    for (let step = 101; step < 101 + DISCOVERY_SETTLE_READINGS; step++) bus.emit("reading", at(50, step));
    expect(discoveryBytes()).toBeGreaterThan(first);
    const settled = fake.published.filter((p) => p.topic.startsWith("homeassistant/device/")).at(-1);
    expect(Object.keys(JSON.parse(settled?.payload ?? "{}").cmps)).toContain("cell_50_voltage");
  } finally {
    await sink.stop();
  }
});

test("link log lines: online carries no stale error; down and back say why and after how long", () => {
  const base = {
    deviceId: "pack",
    url: "tcp://127.0.0.1:1",
    crcErrors: 0,
    discardedBytes: 0,
    framesReceived: 0,
  };
  const connecting = { ...base, link: "connecting" as const, reconnects: 0 };
  const online = { ...base, link: "online" as const, reconnects: 0 };
  expect(linkLine(online, connecting, 0, 0)).toBe("device pack: online");
  const offline = { ...base, link: "offline" as const, reconnects: 0, lastError: "connection refused" };
  expect(linkLine(offline, online, 1000, 61_000)).toBe(
    "device pack: offline after 60 s online: connection refused",
  );
  const retry = { ...base, link: "connecting" as const, reconnects: 3, lastError: "connection refused" };
  const back = { ...base, link: "online" as const, reconnects: 3, lastError: "connection refused" };
  expect(linkLine(back, retry, 61_000, 73_500)).toBe(
    "device pack: online again after 12.5 s without data (reconnect #3; last error: connection refused)",
  );
  expect(linkLine(back, retry, 61_000, 73_500)).not.toMatch(/online \(/);
});

test("frozen BMS data: the BMS availability topic goes offline, and online again when data moves", async () => {
  const fake = new FakeMqttClient();
  const bus = new Bus();
  const sink = sinkWith(fake, bus);
  await sink.start();
  const bmsAvailability = () =>
    fake.published
      .filter((p) => p.topic === "vesc2mqtt/pack/bms/availability")
      .map((p) => [p.payload, p.retain]);
  const reading = (stale: boolean, step: number) => {
    const r = syntheticReading({ time: Date.now(), step });
    return { ...r, bms: { ...(r.bms as BmsReading), stale } };
  };
  try {
    fake.up();
    bus.emit("reading", reading(false, 0));
    bus.emit("reading", reading(false, 1));
    expect(bmsAvailability()).toEqual([["online", true]]);
    bus.emit("reading", reading(true, 2));
    bus.emit("reading", reading(true, 3));
    expect(bmsAvailability()).toEqual([
      ["online", true],
      ["offline", true],
    ]);
    bus.emit("reading", reading(false, 4));
    expect(bmsAvailability().at(-1)).toEqual(["online", true]);
  } finally {
    await sink.stop();
  }
});
