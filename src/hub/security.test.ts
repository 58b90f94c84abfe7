import { describe, expect, test } from "vitest";
import { addressGroup, FailureLimiter, WindowCounter } from "./security.js";

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

describe("addressGroup", () => {
  test("IPv4 and IPv4-mapped IPv6 are one address each", () => {
    expect(addressGroup("127.0.0.10")).toBe("127.0.0.10");
    expect(addressGroup("::ffff:127.0.0.10")).toBe("127.0.0.10");
    expect(addressGroup("127.0.0.11")).not.toBe(addressGroup("127.0.0.10"));
    expect(addressGroup(undefined)).toBe("unknown");
  });

  test("IPv6 addresses are grouped by their /64", () => {
    const g = addressGroup("2001:db8:1:2::1");
    expect(g).toBe("2001:db8:1:2::/64");
    for (const same of [
      "2001:db8:1:2:ffff:ffff:ffff:ffff",
      "2001:0db8:0001:0002:0:0:0:2",
      "2001:DB8:1:2:a:b:c:d",
      "2001:db8:1:2::",
      "2001:db8:1:2:0:0:192.0.2.1",
    ])
      expect(addressGroup(same), same).toBe(g);
    for (const other of ["2001:db8:1:3::1", "2001:db8::2:1", "2001:db9:1:2::1"])
      expect(addressGroup(other), other).not.toBe(g);
    expect(addressGroup("::1")).toBe("0:0:0:0::/64");
    expect(addressGroup("::2")).toBe(addressGroup("::1"));
    expect(addressGroup("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });

  test("malformed IPv6 text is its own group, never merged with a real one", () => {
    for (const bad of ["1::2::3", "1:2:3:4:5:6:7:8:9", "12345::1", "g::1", "1:2:3:4:5:6:7"])
      expect(addressGroup(bad), bad).toBe(bad);
  });

  test("failures from one /64 add up to one block", () => {
    const l = new FailureLimiter({ max: 3, windowMs: 60_000, blockMs: 60_000 }, fakeClock().now);
    l.fail(addressGroup("2001:db8:5:6::a"));
    l.fail(addressGroup("2001:db8:5:6::b"));
    expect(l.fail(addressGroup("2001:db8:5:6:1:2:3:4"))).toBe(true);
    expect(l.isBlocked(addressGroup("2001:db8:5:6::ffff"))).toBe(true);
    expect(l.isBlocked(addressGroup("2001:db8:5:7::a"))).toBe(false);
  });
});
