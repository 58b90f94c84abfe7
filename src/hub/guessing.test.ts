/**
 * Password guessing against the hub over real loopback TCP; attacker hosts are other
 * 127.0.0.x source addresses. The per-address limit (10 failures a minute → 5 min block)
 * must hold however many connections are opened first, and the per-id budget however
 * many addresses take turns.
 */
import { afterEach, expect, test } from "vitest";
import { framesIn, hubTestScope, openPeer, registration, toolLogin } from "../../test/helpers/hubPeers.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { encodeFrame } from "../protocol/frame.js";

const PW = "owner-Secret-7";
const OWNER_DEVICE = "127.0.0.2";
const OWNER_TOOL = "127.0.0.3";

const scope = hubTestScope();
afterEach(async () => {
  expect((await scope.cleanup()).join("\n")).not.toContain(PW);
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const attacker = (i: number) => `127.0.0.${10 + i}`;
const checked = (logs: readonly string[]) => logs.filter((l) => l.includes("(badPassword)")).length;

async function tool(port: number, password: string, localAddress: string) {
  const t = await toolLogin(port, "target", password, { localAddress });
  scope.track(t.peer);
  return t.outcome;
}

test("200 connections opened first: at most 10 passwords are checked, then every pending one closes", async () => {
  const h = await scope.hub({ loginTimeoutMs: 20_000, devices: [{ id: "target", password: PW }] });
  const dev = await registration(h.hub, h.port, "target", PW, { localAddress: OWNER_DEVICE });
  scope.track(dev.device);
  expect(dev.registered).toBe(true);
  const conns = await Promise.all(
    range(200).map(async () => scope.track(await openPeer(h.port, undefined, { localAddress: attacker(0) }))),
  );
  await waitFor(() => h.hub.stats().connections === 201, { what: "200 connections open" });

  for (const i of range(199)) conns[i]?.write(`VESCTOOL:target:guess${i}\n`);
  await waitFor(() => h.hub.stats().blockedAddresses === 1, { what: "address blocked" });
  const last = conns[199];
  if (last !== undefined && !last.isClosed()) {
    last.write(`VESCTOOL:target:${PW}\n`);
    last.write(encodeFrame(Uint8Array.of(0)));
  }
  // A blocked address's pending logins fail: all closed long before their 20 s deadline.
  await waitFor(() => conns.every((c) => c.isClosed()), { timeoutMs: 3000, what: "all 200 closed" });
  expect(framesIn(last?.bytes() ?? Buffer.alloc(0)).length).toBe(0);
  expect(h.hub.stats().clients).toBe(0);
  expect(checked(h.logs)).toBeLessThanOrEqual(10);
  // Per address: the owner elsewhere still gets in.
  expect(await tool(h.port, PW, OWNER_TOOL)).toBe("in");
});

test("50 addresses taking turns: the per-id budget caps the guesses; the owner's addresses still get in", async () => {
  const h = await scope.hub({
    devices: [{ id: "target", password: PW }],
    failedLoginsPerId: { max: 30, windowMs: 60_000, blockMs: 300_000 },
  });
  const dev = await registration(h.hub, h.port, "target", PW, { localAddress: OWNER_DEVICE });
  scope.track(dev.device);
  expect(await tool(h.port, PW, OWNER_TOOL)).toBe("in"); // the owner, before the attack

  // 9 guesses per address, under the per-address limit of 10: 450 in all.
  await Promise.all(
    range(50).map(async (a) => {
      for (const g of range(9))
        await scope.track(
          await openPeer(h.port, `VESCTOOL:target:a${a}g${g}\n`, { localAddress: attacker(a) }),
        ).closed;
    }),
  );
  expect(checked(h.logs)).toBeLessThanOrEqual(30);
  expect(h.hub.stats()).toMatchObject({ blockedAddresses: 0, lockedIds: 1 });
  // Locked: even the right password from an address the id has not seen is refused …
  expect(await tool(h.port, PW, attacker(60))).toBe("closed");
  // … but not from the owner's address that logged in before, nor the device's own.
  expect(await tool(h.port, PW, OWNER_TOOL)).toBe("in");
  const again = await registration(h.hub, h.port, "target", PW, { localAddress: OWNER_DEVICE });
  scope.track(again.device);
  expect(again.registered).toBe(true);
  await dev.device.closed; // replaced by the new registration
});
