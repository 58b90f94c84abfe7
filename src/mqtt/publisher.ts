/**
 * Thin wrapper over the MQTT.js client: last will `offline` (retained) on the bridge
 * state topic, `online` after every (re)connect, automatic reconnects, counters.
 * While disconnected it drops publishes instead of queueing them: the owner re-publishes
 * everything that matters on `connect`, and a queue would grow without bound for a
 * fleet while the broker is down.
 */
import { EventEmitter } from "node:events";
import mqtt, { type IClientOptions } from "mqtt";
import { mqttPublishErrors } from "../metrics/metrics.js";

/** What of the socket under the client we touch: cork/uncork to batch writes. */
export interface CorkableStream {
  cork(): void;
  uncork(): void;
  readonly writableLength?: number;
  readonly writableHighWaterMark?: number;
}

/** The part of MqttClient we use (so pure unit tests can pass a fake). */
export interface MqttClientLike {
  readonly connected: boolean;
  /** The connection to the broker (MQTT.js replaces it on every reconnect). */
  readonly stream?: CorkableStream | undefined;
  on(event: "connect", cb: () => void): unknown;
  on(event: "close", cb: () => void): unknown;
  on(event: "error", cb: (e: Error) => void): unknown;
  on(event: "message", cb: (topic: string, payload: Buffer) => void): unknown;
  publish(
    topic: string,
    message: string,
    opts: { qos: 0 | 1; retain: boolean },
    callback: (error?: Error) => void,
  ): unknown;
  subscribeAsync(topic: string, opts: { qos: 0 | 1 }): Promise<unknown>;
  unsubscribeAsync(topic: string): Promise<unknown>;
  endAsync(force?: boolean): Promise<void>;
  removeAllListeners(): unknown;
}

const noLog = (): void => undefined;
export const DEFAULT_BATCH_MS = 5;
export const DEFAULT_CONGESTION_BYTES = 256 * 1024;

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
  /** How long publishes are held to leave together, ms (default 5; 0 = until the loop's check phase). */
  readonly batchMs?: number;
  /** Bytes waiting for the broker above which QoS 0 publishes are dropped (default 256 KiB). */
  readonly congestionBytes?: number;
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
  /** Publishes skipped while disconnected, or (QoS 0) while the broker was not keeping up. */
  readonly dropped: number;
  readonly errors: number;
}

export class Publisher extends EventEmitter<PublisherEvents> {
  #client: MqttClientLike | undefined;
  /** The stream held corked while a batch collects (see #batch). */
  #cork: { readonly stream: CorkableStream } | undefined;
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
      // MQTT.js traces every packet through `debug`, building the argument lists even when
      // tracing is off: a tenth of the bridge's allocations at fleet scale. DEBUG=mqttjs* still works.
      ...(/mqttjs/.test(process.env.DEBUG ?? "") ? {} : { log: noLog }),
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

  /** Resolves true when handed to the broker (QoS 1: acknowledged), false when dropped (disconnected) or failed. */
  publish(topic: string, payload: string, opts: PublishOptions = {}): Promise<boolean> {
    return new Promise((resolve) => this.send(topic, payload, opts, resolve));
  }

  /**
   * publish() without a promise, for the per-reading path (`done` gets the same answer). False
   * when dropped at once: disconnected, or QoS 0 while more than `congestionBytes` wait
   * (a state is worthless once the next replaces it; docs/performance.md, "MQTT writes").
   */
  send(topic: string, payload: string, opts: PublishOptions = {}, done?: (ok: boolean) => void): boolean {
    const client = this.#client;
    const qos = opts.qos ?? 0;
    const waiting = client?.stream?.writableLength ?? 0;
    if (
      !client?.connected ||
      (qos === 0 && waiting > (this.options.congestionBytes ?? DEFAULT_CONGESTION_BYTES))
    ) {
      this.#stats.dropped++;
      done?.(false);
      return false;
    }
    this.#batch(client);
    client.publish(topic, payload, { qos, retain: opts.retain ?? false }, (e) => {
      if (e) {
        this.#stats.errors++;
        mqttPublishErrors.inc();
      } else this.#stats.published++;
      done?.(!e);
    });
    this.#flushIfFull();
    return true;
  }

  /** Corks the socket for `batchMs`, so the publishes of that moment leave in one write (docs/performance.md). */
  #batch(client: MqttClientLike): void {
    const stream = client.stream;
    if (!stream || this.#cork?.stream === stream) return;
    const cork = { stream };
    this.#cork = cork;
    stream.cork();
    const batchMs = this.options.batchMs ?? DEFAULT_BATCH_MS;
    if (batchMs > 0) setTimeout(() => this.#uncork(cork), batchMs);
    else setImmediate(() => this.#uncork(cork));
  }

  #uncork(cork: { readonly stream: CorkableStream }): void {
    if (this.#cork !== cork) return;
    this.#cork = undefined;
    cork.stream.uncork();
  }

  /**
   * A batch goes out early once it fills the stream's buffer: past that, MQTT.js waits for
   * `drain` with a listener per publish (and a burst of discovery would add thousands).
   */
  #flushIfFull(): void {
    const cork = this.#cork;
    const length = cork?.stream.writableLength;
    const highWaterMark = cork?.stream.writableHighWaterMark;
    if (cork && length !== undefined && highWaterMark !== undefined && length >= highWaterMark)
      this.#uncork(cork);
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
    if (this.#cork) this.#uncork(this.#cork);
    if (client.connected) {
      await new Promise<void>((resolve) =>
        client.publish(this.options.stateTopic, "offline", { qos: 1, retain: true }, () => resolve()),
      );
      await client.endAsync();
    } else {
      await client.endAsync(true);
    }
    client.removeAllListeners();
  }
}
