/** The state document with the bridge's battery estimates: in the payload, outside the change key. */
import { expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import { BatteryStage } from "../bridge/batteryStage.js";
import type { Reading } from "../model/reading.js";
import { changeKey, deviceStateDoc } from "./state.js";

const t0 = Date.UTC(2026, 0, 1);
const stage = new BatteryStage({ deviceId: "pack", intervalMs: 1000 });
// The same BMS reply twice, a second apart: the counters move, the BMS data does not.
const bms = syntheticReading({ deviceId: "pack", time: t0 }).bms;
const at = (ms: number): Reading =>
  stage.apply({ ...syntheticReading({ deviceId: "pack", time: t0 + ms }), bms });

test("battery estimates that moved while the BMS reply did not leave the change key as it was", () => {
  const a = at(0);
  const b = at(1000);
  expect(b.bms?.battery?.whCharged).toBeGreaterThan(a.bms?.battery?.whCharged ?? 0);
  const da = deviceStateDoc(a);
  const db = deviceStateDoc(b);
  expect(changeKey(db)).toBe(changeKey(da));
  expect(changeKey(da)).not.toContain("battery");
  // The payload is still the whole reading, byte for byte as JSON.stringify writes it.
  const { deviceId, time, device, latencyMs } = b;
  expect(db.payload).toBe(JSON.stringify({ deviceId, time, device, bms: b.bms, latencyMs }));
  expect(JSON.parse(db.payload).bms.battery.whCharged).toBe(b.bms?.battery?.whCharged);
});

test("a changed BMS reply changes the key, with or without estimates", () => {
  const a = at(2000);
  const b = stage.apply(syntheticReading({ deviceId: "pack", time: t0 + 3000, step: 1 }));
  expect(changeKey(deviceStateDoc(b))).not.toBe(changeKey(deviceStateDoc(a)));
  const plain = syntheticReading({ deviceId: "pack", time: t0 });
  expect(JSON.parse(deviceStateDoc(plain).payload).bms).toEqual(JSON.parse(JSON.stringify(plain.bms)));
});

test("the split payload is the reading's JSON: battery last, a BMS of nothing but estimates, battery not last", () => {
  const r = at(4000);
  const { battery, ...own } = r.bms ?? { battery: undefined };
  const doc = (bms: unknown) => deviceStateDoc({ ...r, bms: bms as Reading["bms"] });
  const whole = (bms: unknown) =>
    JSON.stringify({ deviceId: r.deviceId, time: r.time, device: r.device, bms, latencyMs: r.latencyMs });
  // The estimates after a string that looks like their key: the split is still at the real one.
  const tricky = { ...own, note: ',"battery":{"x":1}', battery };
  expect(doc(tricky).payload).toBe(whole(tricky));
  expect(changeKey(doc(tricky))).toContain("note");
  expect(changeKey(doc(tricky))).not.toContain('"battery":{"socPercent"');
  const onlyBattery = { battery };
  expect(doc(onlyBattery).payload).toBe(whole(onlyBattery));
  expect(changeKey(doc(onlyBattery)).endsWith(',"bms":{')).toBe(true);
  // Estimates not last (a library caller's object): still published last, outside the key.
  const first = { battery, ...own };
  expect(doc(first).payload).toBe(doc(r.bms).payload);
});
