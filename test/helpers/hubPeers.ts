/**
 * Real TCP peers for hub tests: a device that registers like a VESC Express (line + NUL)
 * and answers framed requests, and a client that logs in like VESC Tool. Loopback only.
 */
import { connect, type Socket } from "node:net";
import { HubServer, type HubServerOptions } from "../../src/hub/hubServer.js";
import { normaliseHubId } from "../../src/hub/loginLine.js";
import { encodeFrame, FrameDecoder } from "../../src/protocol/frame.js";
import { waitFor } from "./waitFor.js";

export interface TestHub {
  readonly hub: HubServer;
  readonly port: number;
  readonly logs: string[];
  stop(): Promise<void>;
}

export async function startTestHub(options: HubServerOptions = {}): Promise<TestHub> {
  const logs: string[] = [];
  const hub = new HubServer({
    host: "127.0.0.1",
    port: 0,
    logger: (level, message) => logs.push(`${level}: ${message}`),
    ...options,
  });
  const { port } = await hub.start();
  return { hub, port, logs, stop: () => hub.stop() };
}

export interface Peer {
  readonly socket: Socket;
  /** Every byte received so far. */
  bytes(): Buffer;
  /** How many bytes were received (cheap, for polling big transfers). */
  received(): number;
  readonly closed: Promise<void>;
  isClosed(): boolean;
  write(bytes: Uint8Array | string): void;
  close(): Promise<void>;
}

export interface PeerOptions {
  /** Source address, e.g. another 127.0.0.x, to act as a different client. */
  readonly localAddress?: string;
  /** Keep our side open after the hub's FIN (a peer that never closes). */
  readonly allowHalfOpen?: boolean;
  /** Hub address (default 127.0.0.1). */
  readonly host?: string;
}

/** Opens a socket, sends `first` (if any) and records what comes back. */
export async function openPeer(
  port: number,
  first?: Uint8Array | string,
  options: PeerOptions = {},
): Promise<Peer> {
  const socket = connect({
    host: options.host ?? "127.0.0.1",
    port,
    ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    allowHalfOpen: options.allowHalfOpen ?? false,
  });
  socket.on("error", () => {}); // a hub closing on us may surface as ECONNRESET
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  const chunks: Buffer[] = [];
  let size = 0;
  let closed = false;
  socket.on("data", (c: Buffer) => {
    chunks.push(c);
    size += c.length;
  });
  const closedP = new Promise<void>((resolve) =>
    socket.once("close", () => {
      closed = true;
      resolve();
    }),
  );
  if (first !== undefined) socket.write(first);
  return {
    socket,
    bytes: () => Buffer.concat(chunks),
    received: () => size,
    closed: closedP,
    isClosed: () => closed,
    write: (b) => {
      socket.write(b);
    },
    close: async () => {
      socket.destroy();
      await closedP;
    },
  };
}

export interface TestDevice extends Peer {
  /** Request payloads the device has decoded. */
  readonly requests: Uint8Array[];
}

/** Reply payload for a request: default echoes the command id, then `tag`, then a counter. */
export type Answer = (request: Uint8Array, n: number) => Uint8Array | undefined;

export function tagAnswer(tag: string): Answer {
  return (req, n) => Uint8Array.from([req[0] ?? 0, ...Buffer.from(tag), n & 0xff]);
}

/** A device that registers with `VESC:<id>:<pw>\n\0` and answers frames with `answer`. */
export async function registerDevice(
  hubPort: number,
  id: string,
  password: string,
  answer: Answer = tagAnswer(id),
  options: PeerOptions = {},
): Promise<TestDevice> {
  const peer = await openPeer(
    hubPort,
    Buffer.concat([Buffer.from(`VESC:${id}:${password}\n`), Buffer.of(0)]),
    options,
  );
  const requests: Uint8Array[] = [];
  const decoder = new FrameDecoder();
  peer.socket.on("data", (chunk: Buffer) => {
    for (const ev of decoder.push(chunk)) {
      if (ev.kind !== "frame") continue;
      requests.push(ev.payload);
      const reply = answer(ev.payload, requests.length);
      if (reply !== undefined && !peer.socket.destroyed) peer.socket.write(encodeFrame(reply));
    }
  });
  return { ...peer, requests };
}

/** Waits until the hub lists `id` as registered. */
export async function waitRegistered(hub: HubServer, id: string): Promise<void> {
  await waitFor(() => hub.isRegistered(id), { what: `device ${id} registered` });
}

/** Decodes all frames in a byte buffer (payloads only). */
export function framesIn(bytes: Uint8Array): Uint8Array[] {
  return new FrameDecoder().push(bytes).flatMap((ev) => (ev.kind === "frame" ? [ev.payload] : []));
}

/** Where a tool login ended: the device answered, the hub closed it, or neither in time. */
export type ToolOutcome = "in" | "closed" | "silent";

/** Logs in like VESC Tool, sends FW_VERSION and waits up to `timeoutMs` for the outcome. */
export async function toolLogin(
  port: number,
  id: string,
  password: string,
  options: PeerOptions = {},
  timeoutMs = 3000,
): Promise<{ readonly peer: Peer; readonly outcome: ToolOutcome }> {
  const peer = await openPeer(port, `VESCTOOL:${id}:${password}\n`, options);
  peer.write(encodeFrame(Uint8Array.of(0)));
  const outcome = await waitFor<ToolOutcome>(
    () => (framesIn(peer.bytes()).length > 0 ? "in" : peer.isClosed() && "closed"),
    { timeoutMs },
  ).catch((): ToolOutcome => "silent");
  return { peer, outcome };
}

/** Registers `id` and waits until the hub registers it (true) or closes the device (false). */
export async function registration(
  hub: HubServer,
  port: number,
  id: string,
  password: string,
  options: PeerOptions = {},
  timeoutMs = 3000,
): Promise<{ readonly device: TestDevice; readonly registered: boolean }> {
  const key = normaliseHubId(id);
  let seen = false;
  const onRegistered = (registered: string) => {
    if (registered === key) seen = true;
  };
  hub.on("deviceRegistered", onRegistered);
  try {
    const device = await registerDevice(port, id, password, tagAnswer(id), options);
    await waitFor(() => seen || device.isClosed(), { timeoutMs }).catch(() => false);
    return { device, registered: seen && !device.isClosed() };
  } finally {
    hub.off("deviceRegistered", onRegistered);
  }
}

/** Hubs and peers of one test, all closed by `cleanup()` (call it in afterEach). */
export function hubTestScope() {
  const hubs: TestHub[] = [];
  const peers: Peer[] = [];
  return {
    async hub(options: HubServerOptions = {}): Promise<TestHub> {
      const h = await startTestHub(options);
      hubs.push(h);
      return h;
    },
    track<P extends Peer>(p: P): P {
      peers.push(p);
      return p;
    },
    /** Closes everything; returns every hub's log lines (to check no password leaked). */
    async cleanup(): Promise<string[]> {
      await Promise.all(peers.splice(0).map((p) => p.close()));
      const stopped = hubs.splice(0);
      await Promise.all(stopped.map((h) => h.stop()));
      return stopped.flatMap((h) => h.logs);
    },
  };
}
