/** The poll grid: every poll of a device falls on anchor + k × interval, whatever the connection did. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { nextSlot } from "./poller.js";

describe("nextSlot", () => {
  test("the next grid slot at least half an interval away", () => {
    expect(nextSlot(0, 1000, 0)).toBe(1000);
    expect(nextSlot(0, 1000, 10)).toBe(1000);
    expect(nextSlot(0, 1000, 600)).toBe(2000); // 1000 would follow a poll at 600 too closely
    expect(nextSlot(250, 1000, 3300)).toBe(4250);
    expect(nextSlot(5000, 1000, 4200)).toBe(5000); // still inside the start delay
  });

  test("a poll that overran its interval skips the missed slots instead of catching up", () => {
    expect(nextSlot(0, 1000, 3100)).toBe(4000);
  });

  test("always on the grid, in the future, between half and one and a half intervals away", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 100, max: 3_600_000 }),
        fc.integer({ min: -10_000_000, max: 10_000_000 }),
        (anchor, interval, offset) => {
          const now = anchor + offset;
          const slot = nextSlot(anchor, interval, now);
          expect(Math.abs((slot - anchor) % interval)).toBe(0);
          expect(slot - now).toBeGreaterThanOrEqual(interval / 2);
          expect(slot - now).toBeLessThan(interval * 1.5);
        },
      ),
    );
  });

  test("pollers whose connections complete in the same instant keep their own spread-out slots", () => {
    const anchors = Array.from({ length: 10 }, (_, i) => 1_000_000 + i * 100);
    const connectedAt = 1_000_950; // all ten connect in the same turn of the event loop
    const slots = anchors.map((a) => nextSlot(a, 1000, connectedAt) % 1000);
    expect(new Set(slots).size).toBe(10);
  });
});
