import { afterEach, beforeEach, expect, test } from "vitest";
import { connectedOutbox, type FakeOutbox } from "../../test/helpers/fakeOutbox.js";
import { completeLog } from "../model/log.js";
import { RetainedScan } from "./retainedScan.js";

let o: FakeOutbox;
beforeEach(async () => {
  o = await connectedOutbox();
});
afterEach(() => o.stop());

const config = (objectId: string, cmps: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ dev: { ids: [objectId] }, o: { name: "vesc2mqtt" }, cmps }));
const sensor = { p: "sensor", stat_t: "vesc2mqtt/pack/state" };

test("collects while it runs, removes configs of devices no longer configured, returns what is still ours", async () => {
  const lines: string[] = [];
  const scan = new RetainedScan(o.out, {
    prefix: "homeassistant",
    baseTopic: "vesc2mqtt",
    mode: "device",
    log: completeLog({ info: (m) => lines.push(m) }),
  });
  scan.offer("homeassistant/device/vesc2mqtt_early/config", config("vesc2mqtt_early", {})); // before: ignored
  let release = (): void => undefined;
  const running = scan.run(
    o.pub,
    () => new Promise<void>((r) => (release = r)),
    () => [{ id: "pack", canIds: [] }],
  );
  await new Promise((r) => setTimeout(r, 10));
  expect(scan.state).toBe("running");
  expect(o.fake.subscribed).toEqual(["homeassistant/device/+/config", "homeassistant/+/+/+/config"]);
  scan.offer(
    "homeassistant/device/vesc2mqtt_pack/config",
    config("vesc2mqtt_pack", { soc: sensor, cell_1_voltage: sensor, cell_2_voltage: { p: "sensor" } }),
  );
  scan.offer("homeassistant/device/vesc2mqtt_gone/config", config("vesc2mqtt_gone", { soc: sensor }));
  release();
  const found = await running;
  expect(o.fake.subscribed).toEqual([]);
  expect(o.fake.published.map((p) => [p.topic, p.payload, p.retain])).toEqual([
    ["homeassistant/device/vesc2mqtt_gone/config", "", true],
  ]);
  expect(lines).toEqual(["home assistant: removing 1 stale discovery config(s)"]);
  expect([...(found?.keys() ?? [])]).toEqual(["vesc2mqtt_pack"]);
  expect([...(found?.get("vesc2mqtt_pack")?.keys() ?? [])].sort()).toEqual(["cell_1_voltage", "soc"]);
});

test("a publisher let go during the wait (stop) ends the scan without removing anything", async () => {
  const scan = new RetainedScan(o.out, {
    prefix: "homeassistant",
    baseTopic: "vesc2mqtt",
    mode: "device",
    log: completeLog(undefined),
  });
  const found = await scan.run(
    o.pub,
    async () => {
      scan.offer("homeassistant/device/vesc2mqtt_gone/config", config("vesc2mqtt_gone", { soc: sensor }));
      o.out.publisher = undefined;
    },
    () => [],
  );
  expect(found).toBeUndefined();
  expect(o.fake.published).toEqual([]);
});
