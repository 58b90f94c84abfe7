/**
 * The poll grid, and the poller's connection decisions (backoff, yielding, giving up) driven
 * on a manual clock: no real timer, no waiting.
 */
import fc from "fast-check";
import { afterEach, describe, expect, test } from "vitest";
import { HUB_LINK } from "../transport/hub.js";
import { createTransportFactory } from "../transport/kinds.js";
import { TCP_LINK } from "../transport/tcp.js";
import { type LinkPolicy, PLAIN_LINK, TransportError, withPolicy } from "../transport/transport.js";
import { ManualClock } from "./pollClock.js";
import { Poller, TAKEN_MESSAGE, nextSlot } from "./poller.js";
import type { PollerOptions } from "./types.js";

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

/** Lets the poller's loop run to its next sleep (it only awaits promises between sleeps). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** A factory that records each attempt and fails it with `error()`. */
function failingFactory(error: () => TransportError, policy: LinkPolicy = PLAIN_LINK) {
  const attempts: number[] = [];
  const factory = withPolicy(() => {
    attempts.push(attempts.length);
    return Promise.reject(error());
  }, policy);
  return { attempts, factory };
}

const refused = () =>
  new TransportError("ConnectFailed", "cannot connect to tcp://127.0.0.1:9: connection refused", true, {
    cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
  });

function manualPoller(options: Partial<PollerOptions> & Pick<PollerOptions, "transport">) {
  const clock = new ManualClock(1_000_000);
  const poller = new Poller({
    deviceId: "pack",
    url: "tcp://127.0.0.1:9",
    clock,
    backoffInitialMs: 1000,
    backoffMaxMs: 1000,
    ...options,
  });
  const logs: Array<[string, string]> = [];
  const links: string[] = [];
  poller.on("log", (level, message) => logs.push([level, message]));
  poller.on("status", (s) => links.push(s.link));
  poller.on("error", () => undefined);
  return { clock, poller, logs, links };
}

describe("Poller on an injected clock", () => {
  const pollers: Poller[] = [];
  afterEach(async () => {
    for (const p of pollers.splice(0)) await p.stop();
  });

  test("startDelayMs holds the first connection back until the clock gets there", async () => {
    const { attempts, factory } = failingFactory(refused);
    const { clock, poller } = manualPoller({ transport: factory, startDelayMs: 60_000 });
    pollers.push(poller);
    poller.start();
    await settle();
    clock.advance(59_999);
    await settle();
    expect(attempts).toHaveLength(0);
    clock.advance(1);
    await settle();
    expect(attempts).toHaveLength(1);
  });

  test("a reconnect waits for its backoff delay (±20 % of 1 s) on the clock, not a timer", async () => {
    const { attempts, factory } = failingFactory(refused);
    const { clock, poller } = manualPoller({ transport: factory });
    pollers.push(poller);
    poller.start();
    await settle();
    expect(attempts).toHaveLength(1);
    clock.advance(799);
    await settle();
    expect(attempts).toHaveLength(1);
    clock.advance(201);
    await settle();
    expect(attempts).toHaveLength(2);
    expect(poller.status().reconnects).toBe(1);
  });

  test("a TCP link refused three times yields for yieldMs, then tries again", async () => {
    const { attempts, factory } = failingFactory(refused, TCP_LINK);
    const { clock, poller, links } = manualPoller({ transport: factory, yieldMs: 600_000 });
    pollers.push(poller);
    poller.start();
    for (let i = 0; i < 2; i++) {
      await settle();
      clock.advance(1000); // the backoff delay of each retry is at most 1 s
    }
    await settle();
    expect(attempts).toHaveLength(3);
    expect(poller.status().link).toBe("yielded");
    expect(poller.status().lastError).toBe(TAKEN_MESSAGE);
    clock.advance(599_999);
    await settle();
    expect(attempts).toHaveLength(3); // stays away for the whole yield
    clock.advance(1);
    await settle();
    expect(attempts).toHaveLength(4);
    expect(links).toContain("yielded");
  });

  test("the policy comes from the factory, never the URL: a plain link behind a tcp:// URL never yields", async () => {
    const { attempts, factory } = failingFactory(refused, PLAIN_LINK);
    const { clock, poller, links } = manualPoller({ transport: factory, url: "tcp://127.0.0.1:9" });
    pollers.push(poller);
    poller.start();
    for (let i = 0; i < 6; i++) {
      await settle();
      clock.advance(1000);
    }
    await settle();
    expect(attempts.length).toBeGreaterThanOrEqual(6);
    expect(links).not.toContain("yielded");
  });
});

describe("Poller and non-recoverable errors", () => {
  const pollers: Poller[] = [];
  afterEach(async () => {
    for (const p of pollers.splice(0)) await p.stop();
  });

  test("a hub id with ':' is tried once: one error line, link offline, no retry however long", async () => {
    // The real path of a configured device: the transport table's factory.
    const inner = createTransportFactory({
      type: "hub",
      host: "127.0.0.1",
      port: 9,
      hubId: "garage:1",
      password: "pw",
    });
    let attempts = 0;
    const factory = withPolicy((signal) => {
      attempts++;
      return inner(signal);
    }, inner.policy ?? PLAIN_LINK);
    const { clock, poller, logs, links } = manualPoller({
      transport: factory,
      url: "hub://127.0.0.1:9/garage%3A1",
    });
    pollers.push(poller);
    poller.start();
    await settle();
    for (let i = 0; i < 10; i++) {
      clock.advance(60_000);
      await settle();
    }
    expect(attempts).toBe(1);
    expect(clock.size).toBe(0); // nothing left waiting on the clock
    expect(poller.status()).toMatchObject({ link: "offline", reconnects: 0 });
    expect(poller.status().lastError).toMatch(/must not contain ':'/);
    const errors = logs.filter(([level]) => level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[1]).toMatch(/^not retrying: hub:\/\/127\.0\.0\.1:9\/garage%3A1: hub id and password/);
    expect(links.at(-1)).toBe("offline");
  });

  test("a rejected hub login stays recoverable (wrong password and device offline look the same)", async () => {
    const { attempts, factory } = failingFactory(
      () => new TransportError("LoginRejected", "hub closed the connection after login"),
      HUB_LINK,
    );
    const { clock, poller, logs } = manualPoller({ transport: factory });
    pollers.push(poller);
    poller.start();
    for (let i = 0; i < 3; i++) {
      await settle();
      clock.advance(1000);
    }
    await settle();
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(logs.filter(([level]) => level === "error")).toHaveLength(0);
  });
});
