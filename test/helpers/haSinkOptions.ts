/**
 * HaSink options for tests over the fake MQTT client: one pack, device-based discovery, no
 * retained-config scan, no broker behind the URL. Pass what a test varies as overrides.
 */
import { Bus } from "../../src/model/bus.js";
import type { HaSinkMqtt, HaSinkOptions } from "../../src/mqtt/haSink.js";
import type { FakeMqttClient } from "./fakeMqttClient.js";

export const TEST_HA_MQTT: HaSinkMqtt = {
  url: "mqtt://127.0.0.1:1",
  clientId: "t",
  baseTopic: "vesc2mqtt",
  discoveryPrefix: "homeassistant",
  discoveryMode: "device",
  discovery: true,
  publishOnChange: false,
  heartbeatS: 60,
};

export function fakeHaSinkOptions(
  fake: FakeMqttClient,
  overrides: Partial<HaSinkOptions> = {},
): HaSinkOptions {
  return {
    bus: new Bus(),
    devices: [{ id: "pack", name: "Pack", can: [], staleAfterMs: 60_000 }],
    origin: { name: "vesc2mqtt", sw: "test", url: "https://example.invalid" },
    retainedScanMs: 0,
    connect: () => fake,
    mqtt: TEST_HA_MQTT,
    ...overrides,
  };
}
