/**
 * Thin wrapper over the MQTT.js client: last will `offline` (retained) on the bridge
 * state topic, `online` after every (re)connect, automatic reconnects, counters.
 * While disconnected it drops publishes instead of queueing them: the owner re-publishes
 * everything that matters on `connect`, and a queue would grow without bound for a
 * fleet while the broker is down.
 */
import { EventEmitter } from "node:events";
import mqtt, { type IClientOptions } from "mqtt";

/** The part of MqttClient we use (so pure unit tests can pass a fake). */
export interface MqttClientLike {
  readonly connected: boolean;
  on(event: "connect", cb: () => void): unknown;
  on(event: "close", cb: () => void): unknown;
  on(event: "error", cb: (e: Error) => void): unknown;
  on(event: "message", cb: (topic: string, payload: Buffer) => void): unknown;
  publishAsync(topic: string, message: string, opts: { qos: 0 | 1; retain: boolean }): Promise<unknown>;
  subscribeAsync(topic: string, opts: { qos: 0 | 1 }): Promise<unknown>;
  unsubscribeAsync(topic: string): Promise<unknown>;
  endAsync(force?: boolean): Promise<void>;
  removeAllListeners(): unknown;
}

export type ConnectFn = (url: string, options: IClientOptions) => MqttClientLike;

export interface PublisherOptions {
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** `<base>/bridge/state`: LWT offline, online after connecting. */
  readonly stateTopic: string;
  readonly reconnectPeriodMs?: number;
  readonly connectTimeoutMs?: number;
  readonly connect?: ConnectFn;
}

export interface PublisherEvents {
  /** Every (re)connect, after `online` was published: re-publish now. */
  connect: [];
  disconnect: [];
  message: [topic: string, payload: Buffer];
  /** Connection-level errors (refused, not authorised); the client keeps retrying. */
  error: [error: Error];
}

export interface PublishOptions {
  readonly retain?: boolean;
  readonly qos?: 0 | 1;
}

export interface PublisherStats {
  readonly connects: number;
  readonly published: number;
  /** Publishes skipped while disconnected. */
  readonly dropped: number;
  readonly errors: number;
}

export class Publisher extends EventEmitter<PublisherEvents> {
  #client: MqttClientLike | undefined;
  #stats = { connects: 0, published: 0, dropped: 0, errors: 0 };
  readonly #subscriptions = new Set<string>();

  constructor(readonly options: PublisherOptions) {
    super();
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  get stats(): PublisherStats {
    return { ...this.#stats };
  }

  /** Starts connecting and returns at once; `connect` fires when the broker accepts us. */
  start(): void {
    if (this.#client) return;
    const o = this.options;
    const connect: ConnectFn = o.connect ?? ((url, opts) => mqtt.connect(url, opts));
    const client = connect(o.url, {
      clientId: o.clientId,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      will: { topic: o.stateTopic, payload: Buffer.from("offline"), retain: true, qos: 1 },
      reconnectPeriod: o.reconnectPeriodMs ?? 2000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      clean: true,
      queueQoSZero: false,
    });
    this.#client = client;
    client.on("connect", () => {
      this.#stats.connects++;
      void this.#onConnect(client);
    });
    client.on("close", () => this.emit("disconnect"));
    client.on("error", (e) => this.emit("error", e));
    client.on("message", (topic, payload) => this.emit("message", topic, payload));
  }

  async #onConnect(client: MqttClientLike): Promise<void> {
    // Subscriptions are re-made explicitly: a clean session forgets them on reconnect.
    for (const t of this.#subscriptions)
      await client.subscribeAsync(t, { qos: 1 }).catch(() => this.#stats.errors++);
    await this.publish(this.options.stateTopic, "online", { retain: true, qos: 1 });
    this.emit("connect");
  }

  /** Resolves true when handed to the broker, false when dropped (disconnected) or failed. */
  async publish(topic: string, payload: string, opts: PublishOptions = {}): Promise<boolean> {
    const client = this.#client;
    if (!client?.connected) {
      this.#stats.dropped++;
      return false;
    }
    try {
      await client.publishAsync(topic, payload, { qos: opts.qos ?? 0, retain: opts.retain ?? false });
      this.#stats.published++;
      return true;
    } catch {
      this.#stats.errors++;
      return false;
    }
  }

  async subscribe(topic: string): Promise<void> {
    this.#subscriptions.add(topic);
    const client = this.#client;
    if (client?.connected) await client.subscribeAsync(topic, { qos: 1 }).catch(() => this.#stats.errors++);
  }

  async unsubscribe(topic: string): Promise<void> {
    this.#subscriptions.delete(topic);
    const client = this.#client;
    if (client?.connected) await client.unsubscribeAsync(topic).catch(() => this.#stats.errors++);
  }

  /** Publishes `offline` (a clean stop does not fire the will) and disconnects. */
  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    if (client.connected) {
      await client
        .publishAsync(this.options.stateTopic, "offline", { qos: 1, retain: true })
        .catch(() => undefined);
      await client.endAsync();
    } else {
      await client.endAsync(true);
    }
    client.removeAllListeners();
  }
}
