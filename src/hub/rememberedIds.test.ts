/**
 * Remembered ids of an unpinned hub: a unit test of the table with a fake clock, and the
 * throw-away registration attack over real loopback TCP (attacker hosts are other
 * 127.0.0.x source addresses).
 */
import { afterEach, describe, expect, test } from "vitest";
import { hubTestScope, registration, toolLogin } from "../../test/helpers/hubPeers.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { RememberedIds } from "./rememberedIds.js";

const PW = "owner-Secret-7";
const OWNER = "127.0.0.2";
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const attacker = (i: number) => `127.0.0.${10 + i}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const h32 = (n: number) => Buffer.alloc(32, n);

describe("RememberedIds", () => {
  test("an id no tool used is forgotten idleMs after its device left; online and tool-used ids stay", () => {
    let t = 0;
    const forgotten: string[] = [];
    const ids = new RememberedIds(
      100,
      1000,
      (id) => forgotten.push(id),
      () => t,
    );
    ids.add("JUNK", h32(1));
    ids.add("ONLINE", h32(2));
    ids.add("USED", h32(3));
    ids.toolAttached("USED");
    ids.offline("JUNK");
    ids.offline("USED");
    t = 999;
    expect(ids.hash("JUNK")).toEqual(h32(1));
    t = 1000;
    expect(ids.hash("JUNK")).toBeUndefined();
    expect(ids.hash("ONLINE")).toEqual(h32(2));
    expect(ids.hash("USED")).toEqual(h32(3));
    expect(forgotten).toEqual(["JUNK"]);
    t = 1_000_000;
    expect(ids.size).toBe(2);
  });

  test("a full table makes room by forgetting the oldest idle id; refuses when none is idle", () => {
    let t = 0;
    const ids = new RememberedIds(
      3,
      60_000,
      () => {},
      () => t,
    );
    for (const id of ["A", "B", "C"]) ids.add(id, h32(0));
    expect(ids.add("D", h32(0))).toBe(false); // all online
    ids.offline("B");
    t = 10;
    ids.offline("A");
    ids.online("A"); // back: no longer idle
    expect(ids.add("D", h32(0))).toBe(true);
    expect([ids.hash("A"), ids.hash("B")].map((x) => x !== undefined)).toEqual([true, false]);
    expect(ids.add("E", h32(0))).toBe(false);
  });
});

describe("unpinned hub", () => {
  const scope = hubTestScope();
  afterEach(async () => {
    expect((await scope.cleanup()).join("\n")).not.toContain(PW);
  });

  async function registerAndLeave(
    port: number,
    hub: Parameters<typeof registration>[0],
    id: string,
    pw: string,
    from: string,
  ) {
    const r = await registration(hub, port, id, pw, { localAddress: from });
    await r.device.close();
    await waitFor(() => !hub.isRegistered(id), { what: `${id} left` });
    return r.registered;
  }

  test("throw-away registrations cannot close the hub to a new device", async () => {
    const h = await scope.hub({ maxRememberedIds: 50 });
    let accepted = 0;
    await Promise.all(
      range(10).map(async (a) => {
        for (const n of range(10))
          if (await registerAndLeave(h.port, h.hub, `junk-${a}-${n}`, "throwaway", attacker(a))) accepted++;
      }),
    );
    expect(accepted).toBe(100);
    expect(h.hub.stats().rememberedIds).toBe(50);
    const fresh = await registration(h.hub, h.port, "fresh1", PW, { localAddress: OWNER });
    scope.track(fresh.device);
    expect(fresh.registered).toBe(true);
  });

  test("new ids are rate-limited per address; a known id and other addresses are not", async () => {
    const h = await scope.hub({ registrationsPerAddress: { max: 5, windowMs: 60_000 } });
    const outcomes: boolean[] = [];
    for (const n of range(8)) {
      const r = await registration(h.hub, h.port, `many-${n}`, "x1", { localAddress: attacker(0) });
      scope.track(r.device);
      outcomes.push(r.registered);
    }
    expect(outcomes).toEqual([true, true, true, true, true, false, false, false]);
    expect(h.hub.stats().devices).toBe(5);
    // many-0 again (a reconnecting device) is not a new id; another address has its own budget.
    const first = await registration(h.hub, h.port, "many-0", "x1", { localAddress: attacker(0) });
    scope.track(first.device);
    expect(first.registered).toBe(true);
    expect(await registerAndLeave(h.port, h.hub, "other-1", "x1", attacker(1))).toBe(true);
  });

  test("an id no tool used is forgotten after its device left; one a tool used is kept", async () => {
    const h = await scope.hub({ rememberedIdleMs: 300 });
    expect(await registerAndLeave(h.port, h.hub, "temp01", "first-pw", OWNER)).toBe(true);
    const used = await registration(h.hub, h.port, "used01", PW, { localAddress: OWNER });
    scope.track(used.device);
    const tool = await toolLogin(h.port, "used01", PW, { localAddress: "127.0.0.3" });
    scope.track(tool.peer);
    expect(tool.outcome).toBe("in");
    await used.device.close();
    await waitFor(() => !h.hub.isRegistered("used01"));
    await sleep(500);
    expect(await registerAndLeave(h.port, h.hub, "temp01", "second-pw", OWNER)).toBe(true);
    expect(await registerAndLeave(h.port, h.hub, "used01", "second-pw", OWNER)).toBe(false);
  });
});
