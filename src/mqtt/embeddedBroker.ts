/**
 * An embedded MQTT broker (aedes over a node:net server) for `demo` and for
 * `mqtt.embedded: true`: zero-install setups where no Mosquitto exists yet.
 * In-memory persistence, so retained discovery lives as long as the process.
 */
import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import { Aedes } from "aedes";

export interface EmbeddedBrokerOptions {
  readonly host: string;
  /** 0 = any free port; read the chosen one from `port` after start(). */
  readonly port: number;
}

export class EmbeddedBroker {
  #broker: Aedes | undefined;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  constructor(readonly options: EmbeddedBrokerOptions) {}

  /** The port actually listened on (after start()). */
  get port(): number {
    return this.#port;
  }

  get url(): string {
    const host = this.options.host.includes(":") ? `[${this.options.host}]` : this.options.host;
    return `mqtt://${host}:${this.#port}`;
  }

  /** Rejects with the listen error (e.g. EADDRINUSE) and leaves nothing behind. */
  async start(): Promise<void> {
    const broker = await Aedes.createBroker();
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      broker.handle(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(this.options.port, this.options.host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (e) {
      await new Promise<void>((r) => broker.close(() => r()));
      throw e;
    }
    this.#broker = broker;
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const broker = this.#broker;
    this.#server = undefined;
    this.#broker = undefined;
    if (broker) await new Promise<void>((r) => broker.close(() => r()));
    // Clients that keep their connection open would hold server.close() forever.
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
