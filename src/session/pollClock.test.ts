import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ManualClock, PollClock, clockEntry } from "./pollClock.js";

const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("PollClock", () => {
  test("fires each entry once, at or after its due time, earliest first; no timer is left when none waits", async () => {
    const clock = new PollClock();
    const before = timers();
    const fired: [string, number][] = [];
    const start = Date.now();
    const done = new Promise<void>((resolve) => {
      const at = (name: string, delayMs: number) => {
        const due = start + delayMs;
        const e = clockEntry(() => {
          fired.push([name, Date.now() - due]);
          if (fired.length === 4) resolve();
        });
        clock.schedule(e, due);
      };
      at("c", 60);
      at("a", 10);
      at("d", 80);
      at("b", 30);
    });
    expect(clock.size).toBe(4);
    expect(timers()).toBe(before + 1); // one timer for all of them
    await done;
    expect(fired.map(([n]) => n)).toEqual(["a", "b", "c", "d"]);
    for (const [, lateMs] of fired) expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(clock.size).toBe(0);
    expect(timers()).toBe(before);
  });

  test("a cancelled entry never fires; a rescheduled one fires only at its new time", async () => {
    const clock = new PollClock();
    const fired: string[] = [];
    const a = clockEntry(() => fired.push("a"));
    const b = clockEntry(() => fired.push("b"));
    const c = clockEntry(() => fired.push("c"));
    const now = Date.now();
    clock.schedule(a, now + 10);
    clock.schedule(b, now + 20);
    clock.schedule(c, now + 30);
    clock.cancel(a);
    clock.schedule(b, now + 60); // moved, not duplicated
    await new Promise((r) => setTimeout(r, 40));
    expect(fired).toEqual(["c"]);
    await new Promise((r) => setTimeout(r, 40));
    expect(fired).toEqual(["c", "b"]);
    expect(clock.size).toBe(0);
  });

  test("after a hold-up, the wake-ups that are due go out 16 per turn of the event loop, in order", async () => {
    const clock = new PollClock();
    const batches: number[] = [];
    const order: number[] = [];
    let inBatch = false;
    const past = Date.now() - 500;
    await new Promise<void>((resolve) => {
      for (let i = 0; i < 40; i++) {
        clock.schedule(
          clockEntry(() => {
            order.push(i);
            if (!inBatch) {
              inBatch = true;
              batches.push(0);
              queueMicrotask(() => {
                inBatch = false;
              });
            }
            batches[batches.length - 1] = (batches.at(-1) ?? 0) + 1;
            if (order.length === 40) resolve();
          }),
          past + i,
        );
      }
    });
    expect(batches).toEqual([16, 16, 8]);
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  test("the heap hands out entries in due order whatever the order of schedules and cancels", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.boolean()), { minLength: 1, maxLength: 60 }),
        async (ops) => {
          // Due times in the past: one run of the timer fires them all, in order.
          const clock = new PollClock();
          const order: number[] = [];
          const entries = ops.map(([due], i) => ({ due, e: clockEntry(() => order.push(i)) }));
          const base = Date.now() - 1000;
          for (const { due, e } of entries) clock.schedule(e, base + due);
          const kept = entries.filter((_, i) => !ops[i]?.[1]);
          for (const [i, { e }] of entries.entries()) if (ops[i]?.[1]) clock.cancel(e);
          expect(clock.size).toBe(kept.length);
          await new Promise<void>((resolve) => setTimeout(resolve, 5));
          const dues = order.map((i) => entries[i]?.due ?? -1);
          expect(dues).toEqual(kept.map((k) => k.due).sort((x, y) => x - y));
          expect(clock.size).toBe(0);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe("ManualClock", () => {
  test("moves only on advance; fires what fell due, earliest first, each once; a cancelled entry never", () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    const a = clockEntry(() => fired.push("a"));
    const b = clockEntry(() => fired.push("b"));
    const c = clockEntry(() => fired.push("c"));
    clock.schedule(b, 1200);
    clock.schedule(a, 1100);
    clock.schedule(c, 1150);
    clock.cancel(c);
    expect(clock.now()).toBe(1000);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(200);
    expect(fired).toEqual(["a", "b"]);
    expect(clock.now()).toBe(1299);
    clock.advance(10_000);
    expect(fired).toEqual(["a", "b"]);
    expect(clock.size).toBe(0);
  });
});
