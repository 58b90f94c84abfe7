import { afterEach, beforeEach, expect, test } from "vitest";
import { connectedOutbox, type FakeOutbox } from "../../test/helpers/fakeOutbox.js";
import type { Alert } from "../model/bus.js";
import { type AlertMemory, AlertPublisher } from "./alertPublisher.js";

let o: FakeOutbox;
beforeEach(async () => {
  o = await connectedOutbox();
});
afterEach(() => o.stop());

const memory = (): AlertMemory => ({ desc: { id: "pack" }, alerts: new Map(), alertsKnown: false });
const alert = (rule: string, active: boolean): Alert => ({
  deviceId: "pack",
  rule,
  active,
  message: `${rule} msg`,
  time: "2026-01-01T00:00:00Z",
});
const docs = () =>
  o.fake.published
    .filter((p) => p.topic === "vesc2mqtt/pack/alerts")
    .map((p) => ({ ...p, doc: JSON.parse(p.payload) }));

test("the first reading sends the all-off document once, retained at QoS 1", () => {
  const alerts = new AlertPublisher(o.out, "vesc2mqtt");
  const mem = memory();
  expect(alerts.republish(mem)).toBeUndefined(); // nothing known yet: nothing to tell
  alerts.reading(mem);
  alerts.reading(mem);
  expect(docs()).toHaveLength(1);
  expect(docs()[0]).toMatchObject({ qos: 1, retain: true, doc: { problem: false, message: "" } });
});

test("an alert turns its rule on, a cleared one off; a republish sends the state of now", async () => {
  const alerts = new AlertPublisher(o.out, "vesc2mqtt");
  const mem = memory();
  alerts.alert(mem, alert("cell_delta", true));
  expect(docs().at(-1)?.doc).toMatchObject({ problem: true, rules: { cell_delta: { active: true } } });
  alerts.alert(mem, alert("cell_delta", false));
  expect(docs().at(-1)?.doc.rules.cell_delta).toMatchObject({ active: false, message: "" });
  o.fake.down();
  alerts.alert(mem, alert("soc_low", true)); // dropped: no broker
  expect(docs().at(-1)?.doc.rules.soc_low.active).toBe(false);
  o.fake.up();
  expect(await alerts.republish(mem)).toBe(true);
  expect(docs().at(-1)?.doc.rules.soc_low).toMatchObject({ active: true, message: "soc_low msg" });
});

test("a CAN BMS node has its own document: all off on first sight, its alerts, republished", async () => {
  const alerts = new AlertPublisher(o.out, "vesc2mqtt");
  const mem = memory();
  const nodeDocs = () =>
    o.fake.published
      .filter((p) => p.topic === "vesc2mqtt/pack/can/10/alerts")
      .map((p) => ({ ...p, doc: JSON.parse(p.payload) }));
  const r = {
    deviceId: "pack",
    time: "2026-01-01T00:00:00Z",
    device: { firmware: "6.05", hardware: "VESC Express T", uuid: "00" },
    can: {
      "10": { canId: 10, kind: "bms" as const, bms: {} as never },
      "20": { canId: 20, kind: "motor" as const },
    },
  };
  alerts.reading(mem, r);
  alerts.reading(mem, r);
  expect(nodeDocs()).toHaveLength(1);
  expect(nodeDocs()[0]).toMatchObject({ qos: 1, retain: true, doc: { problem: false } });
  expect(o.fake.published.some((p) => p.topic.includes("/can/20/"))).toBe(false);
  alerts.alert(mem, { ...alert("cell_over_voltage", true), canId: 10 });
  expect(nodeDocs().at(-1)?.doc.rules.cell_over_voltage).toMatchObject({ active: true });
  // The device's own document is untouched by the node's alert.
  expect(docs().at(-1)?.doc.problem).toBe(false);
  o.fake.down();
  alerts.alert(mem, { ...alert("cell_delta", true), canId: 10 }); // dropped: no broker
  o.fake.up();
  const before = nodeDocs().length;
  expect(await alerts.republish(mem)).toBe(true);
  expect(nodeDocs()).toHaveLength(before + 1);
  expect(nodeDocs().at(-1)?.doc).toMatchObject({
    problem: true,
    rules: { cell_over_voltage: { active: true }, cell_delta: { active: true } },
  });
});
