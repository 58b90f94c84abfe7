/** A CAN BMS node's state document with the bridge's battery estimates: in the payload, outside the change key. */
import { expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import { BatteryStage } from "../bridge/batteryStage.js";
import type { CanNodeReading, Reading } from "../model/reading.js";
import { canStateDocs, changeKey } from "./state.js";

const t0 = Date.UTC(2026, 0, 1);
const stage = new BatteryStage({ deviceId: "pack", intervalMs: 1000 });
const nodeDevice = { firmware: "6.00", hardware: "VESC BMS", uuid: "112233445566778899aabbcc", canId: 10 };
/** A device that reads only its CAN BMS (id 10), whose reply is `step`'s synthetic BMS. */
const at = (ms: number, step = 0): Reading => {
  const { bms, ...rest } = syntheticReading({ deviceId: "pack", time: t0 + ms, step });
  return stage.apply({
    ...rest,
    can: { "10": { canId: 10, kind: "bms", device: nodeDevice, ...(bms ? { bms } : {}) } },
  });
};

test("estimates that moved while the CAN BMS reply did not leave the node's change key as it was", () => {
  const a = at(0);
  const b = at(1000);
  const nb = b.can?.["10"] as CanNodeReading;
  expect(nb.bms?.battery?.whCharged).toBeGreaterThan(a.can?.["10"]?.bms?.battery?.whCharged ?? 0);
  const [da] = canStateDocs(a);
  const [db] = canStateDocs(b);
  expect(changeKey(db!)).toBe(changeKey(da!));
  expect(changeKey(da!)).not.toContain("battery");
  // The payload is still the whole node plus the time, byte for byte as JSON.stringify writes it.
  expect(db!.payload).toBe(JSON.stringify({ ...nb, time: b.time }));
  // A changed reply changes the key.
  const [dc] = canStateDocs(at(2000, 1));
  expect(changeKey(dc!)).not.toBe(changeKey(db!));
});
