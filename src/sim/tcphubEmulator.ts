/**
 * A small TCP relay that behaves like VESC Tool's hub server (vesc_tool `tcphub.cpp`) where
 * it matters to a client, for tests and `vesc2mqtt sim --hub-swallow`:
 * - the login line is read like `Utility::waitForLine`: every byte of the read that holds the
 *   `\n` is consumed, and what came after the `\n` in that read is lost (Qt5's
 *   `QString::fromLocal8Bit` stops at the NUL it appends). A FW_VERSION written in the same
 *   segment as the login never reaches the device; the Express's trailing 0x00 is lost too.
 * - `VESC:<id>:<pass>` registers a device, `VESCTOOL:<id>:<pass>` attaches a tool (the newest
 *   wins, the previous tool is closed), `PING:<id>:x` answers PONG/NULL; ids are
 *   case-insensitive, spaces removed; a bad line or password closes without a byte.
 * - device bytes are forwarded only while a tool is attached; what the device sent meanwhile
 *   stays buffered and goes out ahead of the next bytes the device sends to a tool (Qt reads
 *   it into the socket's buffer and `readAll()` only runs on the next readyRead).
 * Loopback only by default; bounded in sockets and line length.
 */
import { createServer, type Server, type Socket } from "node:net";

export interface TcphubEmulatorOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  /** Lose what follows the login line in its read, as tcphub does (default true). */
  readonly swallow?: boolean;
  /** tcphub waits 5 s for the login line. */
  readonly loginTimeoutMs?: number;
}

export interface TcphubStats {
  deviceRegistrations: number;
  toolLogins: number;
  rejected: number;
  /** Bytes lost because they followed a login line in the same read. */
  swallowedBytes: number;
  /** Device bytes that waited for a tool and were flushed ahead of a later write. */
  bufferedBytesFlushed: number;
}

export interface TcphubEmulator {
  readonly host: string;
  readonly port: number;
  readonly stats: TcphubStats;
  /** Registered device ids (upper-case). */
  devices(): string[];
  close(): Promise<void>;
}

const MAX_LINE_BYTES = 256;
const MAX_SOCKETS = 1024;

interface DeviceEntry {
  readonly socket: Socket;
  readonly pass: string;
  tool: Socket | undefined;
  buffered: Buffer[];
}

const normaliseId = (s: string): string => s.toUpperCase().replaceAll(" ", "");

export async function startTcphubEmulator(options: TcphubEmulatorOptions = {}): Promise<TcphubEmulator> {
  const host = options.host ?? "127.0.0.1";
  const swallow = options.swallow ?? true;
  const loginTimeoutMs = options.loginTimeoutMs ?? 5000;
  const stats: TcphubStats = {
    deviceRegistrations: 0,
    toolLogins: 0,
    rejected: 0,
    swallowedBytes: 0,
    bufferedBytesFlushed: 0,
  };
  const devices = new Map<string, DeviceEntry>();
  const sockets = new Set<Socket>();

  const attachDevice = (uuid: string, socket: Socket, pass: string, rest: Buffer): void => {
    devices.get(uuid)?.socket.destroy();
    const entry: DeviceEntry = { socket, pass, tool: undefined, buffered: [] };
    devices.set(uuid, entry);
    stats.deviceRegistrations++;
    const fromDevice = (chunk: Buffer): void => {
      const tool = entry.tool;
      if (!tool || tool.destroyed) {
        entry.buffered.push(chunk);
        return;
      }
      if (entry.buffered.length > 0) {
        const held = Buffer.concat(entry.buffered);
        entry.buffered = [];
        stats.bufferedBytesFlushed += held.length;
        tool.write(Buffer.concat([held, chunk]));
      } else tool.write(chunk);
    };
    if (rest.length > 0) fromDevice(rest);
    socket.on("data", fromDevice);
    socket.once("close", () => {
      if (devices.get(uuid) === entry) devices.delete(uuid);
      entry.tool?.destroy();
    });
  };

  const attachTool = (entry: DeviceEntry, socket: Socket, rest: Buffer): void => {
    entry.tool?.destroy();
    entry.tool = socket;
    stats.toolLogins++;
    const toDevice = (chunk: Buffer): void => {
      if (!entry.socket.destroyed) entry.socket.write(chunk);
    };
    if (rest.length > 0) toDevice(rest);
    socket.on("data", toDevice);
    socket.once("close", () => {
      if (entry.tool === socket) entry.tool = undefined;
    });
  };

  const onLine = (socket: Socket, line: string, rest: Buffer): void => {
    const tokens = line.split(":");
    const type = normaliseId(tokens[0] ?? "");
    const uuid = normaliseId(tokens[1] ?? "");
    const pass = tokens[2] ?? "";
    const entry = devices.get(uuid);
    if (tokens.length === 3 && uuid.length >= 3) {
      if (type === "VESC") {
        attachDevice(uuid, socket, pass, rest);
        return;
      }
      if (type === "VESCTOOL" && entry && entry.pass === pass) {
        attachTool(entry, socket, rest);
        return;
      }
      if (type === "PING") {
        socket.end(entry ? "PONG\n" : "NULL\n");
        setTimeout(() => socket.destroy(), 100).unref();
        return;
      }
    }
    stats.rejected++;
    socket.destroy();
  };

  const onConnection = (socket: Socket): void => {
    if (sockets.size >= MAX_SOCKETS) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    const line: number[] = [];
    const timer = setTimeout(() => socket.destroy(), loginTimeoutMs);
    const onLoginData = (chunk: Buffer): void => {
      const nl = chunk.indexOf(0x0a);
      const head = nl < 0 ? chunk : chunk.subarray(0, nl);
      if (line.length + head.length > MAX_LINE_BYTES) {
        clearTimeout(timer);
        socket.destroy();
        return;
      }
      for (const b of head) line.push(b);
      if (nl < 0) return;
      clearTimeout(timer);
      socket.off("data", onLoginData);
      let rest = chunk.subarray(nl + 1);
      if (swallow) {
        stats.swallowedBytes += rest.length;
        rest = Buffer.alloc(0);
      }
      onLine(socket, Buffer.from(line).toString("latin1"), Buffer.from(rest));
    };
    socket.on("data", onLoginData);
    socket.once("close", () => clearTimeout(timer));
  };

  const server: Server = createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: options.port ?? 0 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", () => undefined);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? 0);
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    stats,
    devices: () => [...devices.keys()],
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const gone = [...sockets].map((s) =>
          s.closed ? Promise.resolve() : new Promise<void>((r) => s.once("close", () => r())),
        );
        for (const s of sockets) s.destroy();
        await Promise.all([closed, ...gone]);
      })();
      return closing;
    },
  };
}
