import { describe, expect, test } from "vitest";
import { FailureLimiter, WindowCounter } from "./security.js";

/** A clock the test moves by hand. */
function fakeClock(start = 1_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe("FailureLimiter", () => {
  test("blocks at the limit within the window, and only for the block time", () => {
    const clock = fakeClock();
    const l = new FailureLimiter({ max: 3, windowMs: 1000, blockMs: 5000 }, clock.now);
    expect(l.fail("a")).toBe(false);
    clock.advance(1000); // the first failure has left the window
    expect(l.fail("a")).toBe(false);
    expect(l.fail("a")).toBe(false);
    expect(l.isBlocked("a")).toBe(false);
    expect(l.fail("a")).toBe(true);
    expect(l.isBlocked("a")).toBe(true);
    expect(l.isBlocked("b")).toBe(false);
    expect(l.fail("a")).toBe(false); // already blocked: not blocked again, not extended
    clock.advance(4999);
    expect(l.isBlocked("a")).toBe(true);
    clock.advance(1);
    expect(l.isBlocked("a")).toBe(false);
  });

  test("forgets expired blocks and run-out failure windows of addresses never seen again", () => {
    const clock = fakeClock();
    const l = new FailureLimiter({ max: 1, windowMs: 60_000, blockMs: 300_000 }, clock.now);
    const sprayed = 20_000;
    for (let i = 0; i < sprayed; i++) l.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(l.blockedCount()).toBe(sprayed);
    expect(l.trackedKeys()).toBe(sprayed);
    clock.advance(300_000);
    // Nothing else touched those addresses; one call on another address is enough to forget them.
    l.isBlocked("192.0.2.1");
    expect(l.trackedKeys()).toBe(0);

    const counting = new FailureLimiter({ max: 10, windowMs: 60_000, blockMs: 300_000 }, clock.now);
    for (let i = 0; i < 5000; i++) counting.fail(`10.1.${(i >> 8) & 255}.${i & 255}`);
    expect(counting.trackedKeys()).toBe(5000);
    clock.advance(60_000);
    expect(counting.trackedKeys()).toBe(0);
  });
});

describe("WindowCounter", () => {
  test("counts events per key within the window", () => {
    const clock = fakeClock();
    const c = new WindowCounter(1000, clock.now);
    expect(c.add("x")).toBe(1);
    clock.advance(500);
    expect(c.add("x")).toBe(2);
    expect(c.add("y")).toBe(1);
    expect(c.count("x")).toBe(2);
    clock.advance(500); // the first "x" is out
    expect(c.count("x")).toBe(1);
    expect(c.size).toBe(2);
    clock.advance(500);
    expect(c.count("x")).toBe(0);
    expect(c.size).toBe(0);
  });
});
