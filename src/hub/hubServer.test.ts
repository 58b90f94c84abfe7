import { afterEach, describe, expect, test } from "vitest";
import { encodeFrame } from "../protocol/frame.js";
import {
  framesIn,
  openPeer,
  type Peer,
  registerDevice,
  startTestHub,
  type TestHub,
  waitRegistered,
} from "../../test/helpers/hubPeers.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import type { HubServerOptions } from "./hubServer.js";

const FW_VERSION = Uint8Array.of(0);
const PW = "s3cret-Pass";

let hubs: TestHub[] = [];
let peers: Peer[] = [];

async function hubWith(options: HubServerOptions = {}): Promise<TestHub> {
  const h = await startTestHub({ loginTimeoutMs: 300, ...options });
  hubs.push(h);
  return h;
}

async function peer(port: number, first?: Uint8Array | string): Promise<Peer> {
  const p = await openPeer(port, first);
  peers.push(p);
  return p;
}

async function device(h: TestHub, id: string, pw = PW) {
  const d = await registerDevice(h.port, id, pw);
  peers.push(d);
  await waitRegistered(h.hub, id);
  return d;
}

/** Asserts the hub closes the peer without sending it a single byte. */
async function expectSilentClose(p: Peer): Promise<void> {
  await p.closed;
  expect(p.bytes().length).toBe(0);
}

afterEach(async () => {
  await Promise.all(peers.map((p) => p.close()));
  await Promise.all(hubs.map((h) => h.stop()));
  for (const h of hubs) expect(h.logs.join("\n")).not.toContain(PW);
  peers = [];
  hubs = [];
});

describe("login protocol", () => {
  test("a client with the right password gets the device's replies", async () => {
    const h = await hubWith();
    const dev = await device(h, "express1");
    const tool = await peer(h.port, `VESCTOOL:express1:${PW}\n`);
    tool.write(encodeFrame(FW_VERSION));
    const frames = await waitFor(() => framesIn(tool.bytes()).length > 0 && framesIn(tool.bytes()));
    expect(
      Buffer.from(frames[0] as Uint8Array)
        .subarray(1, 9)
        .toString(),
    ).toBe("EXPRESS1".toLowerCase());
    expect(dev.requests.map((r) => Buffer.from(r).toString("hex"))).toEqual(["00"]);
    expect(h.hub.stats().clients).toBe(1);
  });

  test("the NUL after the registration line is not relayed; earlier device bytes are", async () => {
    const h = await hubWith();
    const dev = await device(h, "nulcheck");
    dev.write(encodeFrame(Uint8Array.of(21, 0x41))); // an unsolicited COMM_PRINT while no tool is there
    await waitFor(() => h.hub.stats().deviceList[0]?.pendingBytes === 7);
    const tool = await peer(h.port, `VESCTOOL:nulcheck:${PW}\n`);
    await waitFor(() => tool.bytes().length >= 7);
    expect(tool.bytes().toString("hex")).toBe(
      Buffer.from(encodeFrame(Uint8Array.of(21, 0x41))).toString("hex"),
    );
  });

  test("ids are case-insensitive and spaces are removed", async () => {
    const h = await hubWith();
    await device(h, "My Board");
    const tool = await peer(h.port, `vesctool: myboard :${PW}\n`);
    tool.write(encodeFrame(FW_VERSION));
    await waitFor(() => framesIn(tool.bytes()).length > 0);
  });

  test("a wrong password closes the connection without a word", async () => {
    const h = await hubWith();
    await device(h, "express1");
    await expectSilentClose(await peer(h.port, "VESCTOOL:express1:wrong\n"));
    await expectSilentClose(await peer(h.port, `VESCTOOL:express1:${PW.toUpperCase()}\n`));
    expect(h.hub.stats().loginFailures).toBe(2);
    expect(
      h.logs.some((l) => l.includes("badPassword") && l.includes("EXPRESS1") && l.includes("127.0.0.1")),
    ).toBe(true);
  });

  test("an unknown id, a malformed line, a short id and an unknown type close silently", async () => {
    const h = await hubWith();
    await expectSilentClose(await peer(h.port, `VESCTOOL:nobody:${PW}\n`));
    await expectSilentClose(await peer(h.port, `VESCTOOL:a:b:${PW}\n`));
    await expectSilentClose(await peer(h.port, `VESC:ab:${PW}\n`));
    await expectSilentClose(await peer(h.port, `HELLO:abcd:${PW}\n`));
    expect(h.hub.stats().devices).toBe(0);
  });

  test("no login line within the timeout → closed", async () => {
    const h = await hubWith({ loginTimeoutMs: 300 });
    const p = await peer(h.port, "VESCTOOL:slow");
    await expectSilentClose(p);
    expect(h.logs.some((l) => l.includes("no login from"))).toBe(true);
  });

  test("an over-long login line → closed", async () => {
    const h = await hubWith({ maxLineBytes: 128 });
    const p = await peer(h.port, `VESCTOOL:${"x".repeat(200)}`);
    await expectSilentClose(p);
    expect(h.logs.some((l) => l.includes("tooLong"))).toBe(true);
  });

  test("PING answers PONG for a registered id and NULL otherwise, then closes", async () => {
    const h = await hubWith();
    await device(h, "pingme");
    const yes = await peer(h.port, "PING:PINGME:x\n");
    const no = await peer(h.port, "PING:nobody:x\n");
    await Promise.all([yes.closed, no.closed]);
    expect(yes.bytes().toString()).toBe("PONG\n");
    expect(no.bytes().toString()).toBe("NULL\n");
  });
});

describe("one client per device", () => {
  test("the newest client wins and the older one is closed", async () => {
    const h = await hubWith();
    await device(h, "shared");
    const first = await peer(h.port, `VESCTOOL:shared:${PW}\n`);
    await waitFor(() => h.hub.stats().clients === 1);
    const second = await peer(h.port, `VESCTOOL:shared:${PW}\n`);
    await first.closed;
    second.write(encodeFrame(FW_VERSION));
    await waitFor(() => framesIn(second.bytes()).length === 1);
    expect(second.isClosed()).toBe(false);
  });

  test("onConflict refuse keeps the attached client and closes the newcomer", async () => {
    const h = await hubWith({ onConflict: "refuse" });
    await device(h, "shared");
    const first = await peer(h.port, `VESCTOOL:shared:${PW}\n`);
    await waitFor(() => h.hub.stats().clients === 1);
    const second = await peer(h.port, `VESCTOOL:shared:${PW}\n`);
    await expectSilentClose(second);
    first.write(encodeFrame(FW_VERSION));
    await waitFor(() => framesIn(first.bytes()).length === 1);
    expect(first.isClosed()).toBe(false);
  });

  test("a device registering again replaces the old device socket", async () => {
    const h = await hubWith();
    const old = await device(h, "again");
    const tool = await peer(h.port, `VESCTOOL:again:${PW}\n`);
    await waitFor(() => h.hub.stats().clients === 1);
    const fresh = await registerDevice(h.port, "again", PW, () => Uint8Array.of(0, 0x99));
    peers.push(fresh);
    await old.closed;
    await tool.closed; // the tool of the old registration goes with it, as in the reference hub
    await waitRegistered(h.hub, "again");
    const tool2 = await peer(h.port, `VESCTOOL:again:${PW}\n`);
    tool2.write(encodeFrame(FW_VERSION));
    const frames = await waitFor(() => framesIn(tool2.bytes()).length > 0 && framesIn(tool2.bytes()));
    expect(Array.from(frames[0] as Uint8Array)).toEqual([0, 0x99]);
  });
});

describe("security", () => {
  test("the first registration sets the password; a hijack with another password fails", async () => {
    const h = await hubWith();
    const dev = await device(h, "mine");
    await expectSilentClose(await peer(h.port, "VESC:mine:attacker\n"));
    expect(dev.isClosed()).toBe(false);
    expect(h.hub.stats().devices).toBe(1);
  });

  test("pinned devices: only listed ids with their password may register", async () => {
    const h = await hubWith({ devices: [{ id: "Pinned1", password: PW }] });
    await expectSilentClose(await peer(h.port, `VESC:other:${PW}\n`));
    await expectSilentClose(await peer(h.port, "VESC:pinned1:nope\n"));
    await device(h, "PINNED1");
    expect(h.hub.stats().devices).toBe(1);
    expect(h.logs.some((l) => l.includes("notAllowed") && l.includes("OTHER"))).toBe(true);
  });

  test("repeated failed logins block the address, even for a correct login", async () => {
    const h = await hubWith({ failedLogins: { max: 3, windowMs: 60_000, blockMs: 60_000 } });
    await device(h, "target");
    for (let i = 0; i < 3; i++) await expectSilentClose(await peer(h.port, `VESCTOOL:target:guess${i}\n`));
    const good = await peer(h.port, `VESCTOOL:target:${PW}\n`);
    await expectSilentClose(good);
    expect(h.hub.stats().rejectedConnections).toBeGreaterThanOrEqual(1);
    expect(h.hub.stats().blockedAddresses).toBe(1);
  });

  test("connections are capped per address and in total", async () => {
    const perIp = await hubWith({ maxConnectionsPerIp: 3, loginTimeoutMs: 10_000 });
    const held = await Promise.all([0, 1, 2].map(() => peer(perIp.port)));
    await waitFor(() => perIp.hub.stats().connections === 3);
    await expectSilentClose(await peer(perIp.port));
    expect(held.every((p) => !p.isClosed())).toBe(true);
    await held[0]?.close();
    await waitFor(() => perIp.hub.stats().connections === 2);
    const again = await peer(perIp.port);
    await waitFor(() => perIp.hub.stats().connections === 3);
    expect(again.isClosed()).toBe(false);

    // At the total cap a newcomer takes the slot of the oldest connection not logged in …
    const total = await hubWith({ maxConnections: 2, loginTimeoutMs: 10_000 });
    const first = await peer(total.port);
    await waitFor(() => total.hub.stats().connections === 1);
    const second = await peer(total.port);
    await waitFor(() => total.hub.stats().connections === 2);
    const third = await peer(total.port);
    await expectSilentClose(first);
    expect(total.hub.stats()).toMatchObject({ connections: 2, evictedConnections: 1 });
    expect(second.isClosed() || third.isClosed()).toBe(false);
    // … but attached devices are never evicted: with every slot attached, the newcomer goes.
    await Promise.all([second.close(), third.close()]);
    await device(total, "dev1");
    await device(total, "dev2");
    await expectSilentClose(await peer(total.port));
    expect(total.hub.stats()).toMatchObject({ devices: 2, rejectedConnections: 1 });
  });
});
