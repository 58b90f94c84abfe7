/**
 * Holding connections must not lock the owner out: over real loopback TCP, attacker hosts
 * are other 127.0.0.x source addresses (Linux routes all of 127.0.0.0/8 to lo). The cap is
 * 400 here instead of 10,000 to stay far inside the file descriptor limit (both ends of
 * every connection live in this process); the mechanism does not depend on the number.
 */
import { readdirSync } from "node:fs";
import { afterEach, describe, expect, test } from "vitest";
import {
  hubTestScope,
  openPeer,
  type Peer,
  registration,
  type TestHub,
  toolLogin,
} from "../../test/helpers/hubPeers.js";
import { waitFor } from "../../test/helpers/waitFor.js";

const PW = "owner-Secret-7";
const OWNER_DEVICE = "127.0.0.2";
const OWNER_TOOL = "127.0.0.3";
const ADDRESSES = 40;
const PER_ADDRESS = 10;
const CAP = ADDRESSES * PER_ADDRESS;

const scope = hubTestScope();
afterEach(async () => {
  expect((await scope.cleanup()).join("\n")).not.toContain(PW);
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** Attacker host i → 127.0.0.10 and up. */
const attacker = (i: number) => `127.0.0.${10 + (i % ADDRESSES)}`;
/** File descriptors open in this process (hub and peers alike). */
const openFds = () => readdirSync("/proc/self/fd").length;

/** The owner's device and VESC Tool retrying (as the Express and a user would) until both are in. */
async function ownerGetsIn(h: TestHub, deadline: number): Promise<boolean> {
  let device = false;
  while (!device && Date.now() < deadline) {
    const r = await registration(h.hub, h.port, "owner1", PW, { localAddress: OWNER_DEVICE }, 1000);
    scope.track(r.device);
    device = r.registered;
    if (!device) {
      await r.device.close();
      await sleep(50);
    }
  }
  while (device && Date.now() < deadline) {
    const t = await toolLogin(h.port, "owner1", PW, { localAddress: OWNER_TOOL }, 1000);
    scope.track(t.peer);
    if (t.outcome === "in") return true;
    await t.peer.close();
    await sleep(50);
  }
  return false;
}

describe("lock-out by held connections", () => {
  test("half-open PING sockets are closed at once: the owner gets in, slots and fds are freed", async () => {
    // The default 5 s login deadline: the owner must be in within 6 s whatever the attacker holds.
    const h = await scope.hub({
      maxConnections: CAP,
      maxConnectionsPerIp: PER_ADDRESS,
      devices: [{ id: "owner1", password: PW }],
    });
    const fdsBefore = openFds();
    let most = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, h.hub.stats().connections);
    }, 5);
    try {
      // Each one: PING, read the NULL, never close our side.
      const pings = await Promise.all(
        range(CAP).map(async (i) =>
          scope.track(
            await openPeer(h.port, "PING:nobody:x\n", { localAddress: attacker(i), allowHalfOpen: true }),
          ),
        ),
      );
      await waitFor(() => pings.every((p) => p.bytes().toString() === "NULL\n"), { what: "every NULL" });

      const start = Date.now();
      expect(await ownerGetsIn(h, start + 6000)).toBe(true);
      expect(Date.now() - start).toBeLessThan(6000);

      // The attacker still holds every socket; the hub holds none of them.
      expect(pings.filter((p) => !p.isClosed()).length).toBe(CAP);
      await waitFor(() => h.hub.stats().connections === 2, { what: "only the owner's connections" });
      // CAP attacker ends + 2×2 of the owner; holding the hub ends too would be 2×CAP.
      expect(openFds() - fdsBefore).toBeLessThan(CAP + 50);
      expect(most).toBeLessThanOrEqual(CAP);
    } finally {
      clearInterval(sampler);
    }
  });

  test("a cap full of silent connections: the owner gets in at once and the oldest silent ones go", async () => {
    const h = await scope.hub({
      maxConnections: CAP,
      maxConnectionsPerIp: PER_ADDRESS,
      loginTimeoutMs: 5000,
      devices: [{ id: "owner1", password: PW }],
    });
    const silent: Peer[] = [];
    for (const i of range(CAP))
      silent.push(scope.track(await openPeer(h.port, undefined, { localAddress: attacker(i) })));
    await waitFor(() => h.hub.stats().connections === CAP, { what: "cap full" });

    const start = Date.now();
    // Well inside the silent ones' 5 s: the owner does not wait for the login deadline.
    expect(await ownerGetsIn(h, start + 2000)).toBe(true);
    expect(Date.now() - start).toBeLessThan(2000);
    // One eviction per owner connection (two, unless a retry was needed), oldest first.
    const evicted = h.hub.stats().evictedConnections;
    expect(evicted).toBeGreaterThanOrEqual(2);
    await waitFor(() => silent.filter((p) => p.isClosed()).length === evicted, {
      what: "evicted ones closed",
    });
    expect(silent.slice(0, evicted).every((p) => p.isClosed())).toBe(true);
    // Nothing else gave way: the cap holds the rest of the silent ones and the owner.
    await waitFor(() => h.hub.stats().connections === CAP - evicted + 2, { what: "cap still full" });
  });

  test("an address at its own cap cannot make room by evicting another's connection", async () => {
    const h = await scope.hub({ maxConnections: 2, maxConnectionsPerIp: 1, loginTimeoutMs: 10_000 });
    const a = scope.track(await openPeer(h.port, undefined, { localAddress: attacker(0) }));
    const b = scope.track(await openPeer(h.port, undefined, { localAddress: attacker(1) }));
    await waitFor(() => h.hub.stats().connections === 2);
    await scope.track(await openPeer(h.port, undefined, { localAddress: attacker(0) })).closed;
    expect([a.isClosed(), b.isClosed()]).toEqual([false, false]);
    expect(h.hub.stats().evictedConnections).toBe(0);
  });
});
