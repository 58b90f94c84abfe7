import { type Server, type Socket, createServer } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { hubTransport } from "./hub.js";
import { tcpTransport } from "./tcp.js";
import { type TransportError, isTransportError } from "./transport.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A loopback server whose connection handler the test chooses; returns its port. */
async function server(onConnection: (s: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    onConnection(s);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  );
  const address = srv.address();
  return typeof address === "object" && address ? address.port : 0;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const address = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  return typeof address === "object" && address ? address.port : 0;
}

describe("tcpTransport", () => {
  test("moves bytes both ways and reports a remote close as Closed", async () => {
    const port = await server((s) => s.on("data", (d) => s.end(Buffer.concat([Buffer.from("echo:"), d]))));
    const t = await tcpTransport({ host: "127.0.0.1", port })(new AbortController().signal);
    expect(t.url).toBe(`tcp://127.0.0.1:${port}`);
    const received: number[] = [];
    t.on("data", (c) => received.push(...c));
    const closed = new Promise<TransportError | undefined>((r) => t.once("close", r));
    await t.write(Uint8Array.of(1, 2, 3));
    const error = await closed;
    expect(Buffer.from(received).toString("latin1")).toBe("echo:\x01\x02\x03");
    expect(error?.code).toBe("Closed");
    await expect(t.write(Uint8Array.of(1))).rejects.toMatchObject({ code: "Closed" });
  });

  test("a refused connection rejects with ConnectFailed and a readable reason", async () => {
    const port = await freePort();
    const error = await tcpTransport({ host: "127.0.0.1", port })(new AbortController().signal).catch(
      (e: unknown) => e,
    );
    expect(isTransportError(error) && error.code).toBe("ConnectFailed");
    expect((error as Error).message).toBe(`cannot connect to tcp://127.0.0.1:${port}: connection refused`);
  });

  test("an aborted signal rejects before connecting", async () => {
    const abort = new AbortController();
    abort.abort();
    const error = await tcpTransport({ host: "127.0.0.1", port: 9 })(abort.signal).catch((e: unknown) => e);
    expect(isTransportError(error) && error.code).toBe("ConnectFailed");
  });

  test("close() is local: no error, idempotent, and the server sees the socket go", async () => {
    let serverSide: Socket | undefined;
    const port = await server((s) => {
      serverSide = s;
    });
    const t = await tcpTransport({ host: "127.0.0.1", port })(new AbortController().signal);
    const events: Array<TransportError | undefined> = [];
    t.on("close", (e) => events.push(e));
    await t.close();
    await t.close();
    expect(events).toEqual([undefined]);
    await new Promise<void>((r) => (serverSide?.closed ? r() : serverSide?.once("close", () => r())));
  });
});

describe("hubTransport", () => {
  test("sends the login line first, then frames", async () => {
    const seen: Buffer[] = [];
    const port = await server((s) => s.on("data", (d) => seen.push(d)));
    const t = await hubTransport({ host: "127.0.0.1", port, hubId: "dev1", password: "pw" })(
      new AbortController().signal,
    );
    cleanups.push(() => t.close());
    expect(t.url).toBe(`hub://127.0.0.1:${port}/dev1`);
    await t.write(Uint8Array.of(2, 1, 0, 0, 0, 3));
    await new Promise((r) => setTimeout(r, 50));
    expect(Buffer.concat(seen)).toEqual(
      Buffer.concat([Buffer.from("VESCTOOL:dev1:pw\n"), Buffer.of(2, 1, 0, 0, 0, 3)]),
    );
  });

  test("a hub that closes right after the login: LoginRejected, the password nowhere", async () => {
    const port = await server((s) => s.once("data", () => s.destroy()));
    const t = await hubTransport({ host: "127.0.0.1", port, hubId: "dev1", password: "top-secret" })(
      new AbortController().signal,
    );
    const error = await new Promise<TransportError | undefined>((r) => t.once("close", r));
    expect(error?.code).toBe("LoginRejected");
    expect(error?.message).toBe(
      `hub://127.0.0.1:${port}/dev1: hub closed the connection after login: wrong hub id/password or device offline`,
    );
    expect(JSON.stringify(error) + String(error?.stack)).not.toContain("top-secret");
  });

  test("a close after data is an ordinary Closed (the session was healthy)", async () => {
    const port = await server((s) => s.once("data", () => s.end(Buffer.of(0))));
    const t = await hubTransport({ host: "127.0.0.1", port, hubId: "dev1", password: "x" })(
      new AbortController().signal,
    );
    const error = await new Promise<TransportError | undefined>((r) => t.once("close", r));
    expect(error?.code).toBe("Closed");
  });

  test("an id or password with ':' is refused up front, without echoing the password", async () => {
    const error = await hubTransport({ host: "127.0.0.1", port: 9, hubId: "a", password: "p:w" })(
      new AbortController().signal,
    ).catch((e: unknown) => e);
    expect(isTransportError(error) && error.recoverable).toBe(false);
    expect((error as Error).message).not.toContain("p:w");
  });
});
