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
