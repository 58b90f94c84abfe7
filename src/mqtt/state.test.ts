/** State documents: the payload is exactly the reading's JSON, and the change key spans device + bms. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import type { Reading } from "../model/reading.js";
import { canStateDocs, changeKey, deviceStateDoc } from "./state.js";

const reading = (over: Partial<Reading>): Reading => ({
  ...syntheticReading({ time: 1_700_000_000_000, withMotor: true }),
  ...over,
});

describe("state documents", () => {
  test("device document: JSON.stringify's bytes; the key excludes time and latency", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9_-]{1,20}$/),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.option(fc.double({ noNaN: false }), { nil: undefined }),
        fc.string({ unit: "binary" }),
        (deviceId, ms, latencyMs, hardware) => {
          const base = reading({});
          const r = reading({
            deviceId,
            time: new Date(ms).toISOString(),
            latencyMs,
            device: { ...base.device, hardware },
          });
          const doc = deviceStateDoc(r);
          const { can: _can, ...rest } = r;
          expect(doc.payload).toBe(
            JSON.stringify({ deviceId, time: r.time, device: r.device, bms: r.bms, latencyMs }),
          );
          expect(JSON.parse(`{${changeKey(doc).slice(1)}}`)).toEqual(
            JSON.parse(JSON.stringify({ device: rest.device, bms: rest.bms })),
          );
          // Same values at another time and latency: the same key.
          const later = deviceStateDoc({ ...r, time: new Date(ms + 1000).toISOString(), latencyMs: 3 });
          expect(changeKey(later)).toBe(changeKey(doc));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("CAN documents: the node's JSON with the time last; the key is all but the time", () => {
    const r = reading({});
    const [doc] = canStateDocs(r);
    const node = r.can?.["84"];
    expect(doc?.payload).toBe(JSON.stringify({ ...node, time: r.time }));
    expect(changeKey(doc as never)).toBe(JSON.stringify(node).slice(0, -1));
    expect(canStateDocs(reading({ can: { "5": { canId: 5, kind: "motor", error: "timeout" } } }))).toEqual(
      [],
    );
  });
});
