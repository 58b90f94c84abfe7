import fc from "fast-check";
import { afterEach, expect, test } from "vitest";
import {
  openPeer,
  type Peer,
  startTestHub,
  type TestHub,
  waitRegistered,
} from "../../test/helpers/hubPeers.js";
import { waitFor } from "../../test/helpers/waitFor.js";

let hub: TestHub | undefined;
const open: Peer[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
  await hub?.stop();
  hub = undefined;
});

async function pair(h: TestHub, id: string, pw: string): Promise<{ device: Peer; tool: Peer }> {
  // A raw device (no frame answering): the pipe must be transparent for any bytes at all.
  const device = await openPeer(h.port, Buffer.concat([Buffer.from(`VESC:${id}:${pw}\n`), Buffer.of(0)]));
  open.push(device);
  await waitRegistered(h.hub, id);
  const tool = await openPeer(h.port, `VESCTOOL:${id}:${pw}\n`);
  open.push(tool);
  await waitFor(() => h.hub.stats().deviceList.find((d) => d.id === id.toUpperCase())?.clientAttached);
  return { device, tool };
}

/** Writes the chunks one by one, letting the event loop run between some of them. */
async function send(peer: Peer, chunks: readonly Uint8Array[]): Promise<void> {
  for (const [i, c] of chunks.entries()) {
    peer.write(c);
    if (i % 3 === 0) await new Promise((r) => setImmediate(r));
  }
}

const stream = fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { minLength: 1, maxLength: 12 });

test("two devices, two clients: randomised byte streams never cross", async () => {
  await fc.assert(
    fc.asyncProperty(stream, stream, stream, stream, async (toA, fromA, toB, fromB) => {
      hub = await startTestHub({ loginTimeoutMs: 5000 });
      const a = await pair(hub, "alpha", "pw-a");
      const b = await pair(hub, "bravo", "pw-b");
      await Promise.all([send(a.tool, toA), send(a.device, fromA), send(b.tool, toB), send(b.device, fromB)]);
      const cat = (cs: readonly Uint8Array[]) => Buffer.concat(cs);
      const want = { aDev: cat(toA), aTool: cat(fromA), bDev: cat(toB), bTool: cat(fromB) };
      await waitFor(
        () =>
          a.device.bytes().length >= want.aDev.length &&
          a.tool.bytes().length >= want.aTool.length &&
          b.device.bytes().length >= want.bDev.length &&
          b.tool.bytes().length >= want.bTool.length,
        { what: "all bytes relayed" },
      );
      // A NUL as the very first device byte is taken for the Express's registration NUL only
      // once; we sent it right after the line, so every later byte is relayed verbatim.
      expect(a.device.bytes().equals(want.aDev)).toBe(true);
      expect(a.tool.bytes().equals(want.aTool)).toBe(true);
      expect(b.device.bytes().equals(want.bDev)).toBe(true);
      expect(b.tool.bytes().equals(want.bTool)).toBe(true);
      const s = hub.hub.stats();
      expect(s.bytesToDevices).toBe(want.aDev.length + want.bDev.length);
      expect(s.bytesToClients).toBe(want.aTool.length + want.bTool.length);
      await Promise.all(open.splice(0).map((p) => p.close()));
      await hub.stop();
      hub = undefined;
    }),
    { numRuns: 15, seed: 20261129 },
  );
});

test("a large transfer keeps its order under backpressure (and reports throughput)", async () => {
  hub = await startTestHub();
  const { device, tool } = await pair(hub, "bulk", "pw");
  const total = 16 * 1024 * 1024;
  const block = Buffer.alloc(64 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
  const started = process.hrtime.bigint();
  // Device → tool, respecting the socket's own backpressure like a real sender.
  let sent = 0;
  while (sent < total) {
    if (!device.socket.write(block)) await new Promise((r) => device.socket.once("drain", r));
    sent += block.length;
  }
  await waitFor(() => tool.received() >= total, { timeoutMs: 30_000, intervalMs: 5, what: "bulk bytes" });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const got = tool.bytes();
  expect(got.length).toBe(total);
  for (let off = 0; off < total; off += block.length) {
    if (!got.subarray(off, off + block.length).equals(block)) throw new Error(`corrupt block at ${off}`);
  }
  console.log(`hub relay throughput: ${(total / 1e6 / seconds).toFixed(1)} MB/s (16 MiB, loopback)`);
});

test("round trips through the hub (reports the added latency against a direct connection)", async () => {
  hub = await startTestHub();
  const { device, tool } = await pair(hub, "echo", "pw");
  device.socket.on("data", (c: Buffer) => device.socket.write(c)); // the device echoes
  const rounds = 300;
  const rtt = async (peer: Peer): Promise<number> => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) {
      const want = peer.received() + 6;
      const echoed = new Promise<void>((resolve) => {
        const check = () => {
          if (peer.received() < want) return;
          peer.socket.off("data", check);
          resolve();
        };
        peer.socket.on("data", check);
      });
      peer.write(Uint8Array.of(2, 1, i & 0xff, 0, 0, 3));
      await echoed;
    }
    return Number(process.hrtime.bigint() - started) / 1e6 / rounds;
  };
  const viaHub = await rtt(tool);
  // Direct: the same echo over one TCP hop (a plain server on loopback).
  const { createServer } = await import("node:net");
  const server = createServer((s) => s.on("data", (c) => s.write(c)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const direct = await openPeer(port);
  open.push(direct);
  const viaDirect = await rtt(direct);
  await direct.close();
  await new Promise((r) => server.close(r));
  expect(tool.received()).toBe(rounds * 6);
  console.log(
    `round trip: ${viaHub.toFixed(3)} ms through the hub, ${viaDirect.toFixed(3)} ms direct (${rounds} rounds, loopback)`,
  );
});
