import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import { type StateDoc, canStateDocs, changeKey, deviceStateDoc } from "./state.js";
import { StateSlot } from "./stateSlot.js";

/** A document whose key is `key`, between an ASCII head and tail like the real ones. */
const doc = (time: string, key: string, latency: number): StateDoc => {
  const head = `{"time":"${time}"`;
  const tail = `,"latencyMs":${latency}}`;
  const payload = head + key + tail;
  return { topicKind: "device", payload, keyStart: head.length, keyEnd: payload.length - tail.length };
};

// Repeats from a small pool (so "unchanged" happens), or any text up to a few hundred graphemes.
const keyText = fc.oneof(fc.constantFrom("", "x", "ü€𝄞"), fc.string({ unit: "grapheme", maxLength: 400 }));

describe("StateSlot", () => {
  test("holds nothing until the first payload, which has nothing to equal", () => {
    const slot = new StateSlot();
    expect(slot.payload).toBeUndefined();
    expect(slot.unsent).toBe(true);
    const d = deviceStateDoc(syntheticReading({ time: 0, step: 1 }));
    expect(slot.replace(d)).toBe(false);
    expect(slot.payload).toBe(d.payload);
  });

  test("equal keys at another time and latency are unchanged; any other reading is a change", () => {
    const slot = new StateSlot();
    const a = syntheticReading({ time: 0, step: 1 });
    slot.replace(deviceStateDoc(a));
    const later = deviceStateDoc({ ...a, time: new Date(5000).toISOString(), latencyMs: 123.456 });
    expect(slot.replace(later)).toBe(true);
    expect(slot.payload).toBe(later.payload); // the newest is kept, unchanged or not
    expect(slot.replace(deviceStateDoc(syntheticReading({ time: 0, step: 2 })))).toBe(false);
    // CAN documents too (their key is everything but the trailing time).
    const can = new StateSlot();
    const m = syntheticReading({ time: 0, step: 1, withMotor: true });
    const [c0] = canStateDocs(m);
    const [c1] = canStateDocs({ ...m, time: new Date(9000).toISOString() });
    const [c2] = canStateDocs(syntheticReading({ time: 0, step: 2, withMotor: true }));
    if (!c0 || !c1 || !c2) throw new Error("no CAN state documents");
    expect(can.replace(c0)).toBe(false);
    expect(can.replace(c1)).toBe(true);
    expect(can.replace(c2)).toBe(false);
  });

  test("slots keep their own payloads (they share only the encoding scratch)", () => {
    const a = new StateSlot();
    const b = new StateSlot();
    const ra = syntheticReading({ time: 0, step: 1 });
    const rb = syntheticReading({ deviceId: "other", time: 0, step: 7, cells: 24 });
    a.replace(deviceStateDoc(ra));
    b.replace(deviceStateDoc(rb));
    expect(a.replace(deviceStateDoc({ ...ra, latencyMs: 1 }))).toBe(true);
    expect(b.payload).toBe(deviceStateDoc(rb).payload);
    expect(b.replace(deviceStateDoc({ ...rb, latencyMs: 2 }))).toBe(true);
    expect(a.payload).toBe(deviceStateDoc({ ...ra, latencyMs: 1 }).payload);
  });

  test("agrees with comparing the change keys as strings, whatever the text (multi-byte, growing, shrinking)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyText, fc.nat(99_999)), {
          minLength: 1,
          maxLength: 12,
        }),
        (steps) => {
          const slot = new StateSlot();
          let prev: StateDoc | undefined;
          for (const [i, [key, latency]] of steps.entries()) {
            const d = doc(`t${i}`, JSON.stringify(key), latency);
            expect(slot.replace(d)).toBe(prev !== undefined && changeKey(prev) === changeKey(d));
            expect(slot.payload).toBe(d.payload);
            prev = d;
          }
        },
      ),
    );
  });
});
