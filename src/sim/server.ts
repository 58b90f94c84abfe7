/**
 * The simulated Express's TCP server (like its own server on port 65102, or a hub session
 * when `hubLogin` is set) and fleets of them. Loopback by default; `close()` leaves no
 * handle behind: server closed, every socket destroyed, every pending timer cleared.
 */
import { createServer, type Server, type Socket } from "node:net";
import { SimDevice, type SimDeviceOptions } from "./device.js";
import type { SimConnection } from "./connection.js";

export interface SimulatorOptions extends SimDeviceOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 65102; 0 = pick a free port. */
  port?: number;
  /** Expect `VESCTOOL:<id>:<password>\n` first on every connection; close on a wrong line. */
  hubLogin?: { id: string; password: string };
}

export interface Simulator {
  readonly host: string;
  readonly port: number;
  readonly device: SimDevice;
  /** "tcp://127.0.0.1:65102" */
  readonly url: string;
  /** Connections open right now. */
  readonly connections: number;
  /** Resets every open connection (a device reboot / WiFi drop). The server keeps listening. */
  dropConnections(): void;
  /** Closes the server and all sockets. */
  close(): Promise<void>;
}

export const DEFAULT_SIM_PORT = 65102;

class TcpSimulator implements Simulator {
  private readonly sockets = new Map<Socket, SimConnection>();
  private closing: Promise<void> | undefined;

  constructor(
    readonly device: SimDevice,
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `tcp://${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get connections(): number {
    return this.sockets.size;
  }

  accept(socket: Socket, hubLogin: SimulatorOptions["hubLogin"]): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    // Like the Express (comm_wifi.c set_socket_options): no Nagle, keepalive.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5000);
    const conn = this.device.serve(socket, {
      label: `tcp ${socket.remoteAddress}:${socket.remotePort}`,
      ...(hubLogin ? { hubLogin } : {}),
      onClose: () => this.sockets.delete(socket),
    });
    if (conn.isOpen) this.sockets.set(socket, conn);
  }

  dropConnections(): void {
    for (const conn of [...this.sockets.values()]) conn.reset();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const sockets = [...this.sockets.keys()];
      const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      const socketsClosed = sockets.map((s) =>
        s.closed ? Promise.resolve() : new Promise<void>((resolve) => s.once("close", () => resolve())),
      );
      for (const conn of [...this.sockets.values()]) conn.close();
      await Promise.all([serverClosed, ...socketsClosed]);
      // The server's libuv handle is released in this loop iteration's close phase; a timer
      // fires after it, so callers comparing getActiveResourcesInfo() see it gone.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    })();
    return this.closing;
  }
}

/** Starts one simulated Express listening on TCP. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? "127.0.0.1";
  const device = new SimDevice(options);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: options.port ?? DEFAULT_SIM_PORT, backlog: 64 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? DEFAULT_SIM_PORT);
  const sim = new TcpSimulator(device, server, host, port);
  server.on("connection", (socket) => sim.accept(socket, options.hubLogin));
  // A listening server must not crash the process on a late error (e.g. EMFILE under a fleet).
  server.on("error", () => undefined);
  return sim;
}

export interface SimulatorFleet {
  readonly sims: Simulator[];
  close(): Promise<void>;
}

/**
 * Starts `n` devices in this process, each on its own port: consecutive ports from
 * `options.port` when it is given and non-zero, otherwise free ports. Device i gets seed
 * `seed + i` (so all differ but are reproducible) and its own uuid.
 */
export async function startSimulatorFleet(
  n: number,
  options: SimulatorOptions = {},
): Promise<SimulatorFleet> {
  const sims: Simulator[] = [];
  const baseSeed = options.seed;
  const basePort = options.port ?? 0;
  const close = async (): Promise<void> => {
    await Promise.all(sims.map((s) => s.close()));
  };
  try {
    // Batches keep the number of concurrent listen() calls modest.
    for (let i = 0; i < n; i += 100) {
      const batch = [];
      for (let j = i; j < Math.min(n, i + 100); j++) {
        const { uuid, ...rest } = options;
        batch.push(
          startSimulator({
            ...rest,
            ...(baseSeed === undefined ? {} : { seed: (baseSeed + j) >>> 0 }),
            ...(uuid !== undefined && j === 0 ? { uuid } : {}),
            port: basePort === 0 ? 0 : basePort + j,
          }),
        );
      }
      const settled = await Promise.allSettled(batch);
      for (const r of settled) if (r.status === "fulfilled") sims.push(r.value);
      const failed = settled.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { sims, close };
}
