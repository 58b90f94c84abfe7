/**
 * A real Mosquitto for integration tests and benchmarks: started on a free loopback port
 * from a temp config, restartable on the same port (to test broker restarts), and a
 * recording MQTT client that subscribes to `#` and keeps every message and the retained
 * view. No vitest import here, so plain `node` benchmark runs can use it too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { MOSQUITTO } from "./binaries.js";
import { waitFor } from "./waitFor.js";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: "127.0.0.1", port });
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

export class Mosquitto {
  #proc: ChildProcess | undefined;
  readonly #dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-mosq-"));
  port = 0;

  /** `extraConfig`: more mosquitto.conf lines (benchmarks raise queue limits). */
  constructor(private readonly extraConfig: readonly string[] = []) {}

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const conf = join(this.#dir, "mosquitto.conf");
    // No persistence: a restart loses every retained message, so recovery must re-publish.
    writeFileSync(
      conf,
      [
        `listener ${this.port} 127.0.0.1`,
        "allow_anonymous true",
        "persistence false",
        "log_dest none",
        ...this.extraConfig,
        "",
      ].join("\n"),
    );
    const proc = spawn(MOSQUITTO, ["-c", conf], { stdio: "ignore" });
    this.#proc = proc;
    await waitFor(async () => proc.exitCode === null && (await canConnect(this.port)), {
      timeoutMs: 10_000,
      what: "mosquitto to listen",
    });
  }

  async stop(): Promise<void> {
    await this.#kill();
  }

  async #kill(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.#kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

export interface Recorded {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
  readonly at: number;
}

/** Subscribes to `#` and records everything (reconnects with the broker on its own). */
export class Recorder {
  readonly messages: Recorded[] = [];
  /** topic → last payload (empty payload deletes, like a broker's retained store). */
  readonly latest = new Map<string, Buffer>();
  client: MqttClient | undefined;

  async start(url: string): Promise<void> {
    const client = await mqtt.connectAsync(url, {
      clientId: `recorder-${process.pid}-${Date.now()}`,
      reconnectPeriod: 200,
    });
    this.client = client;
    client.on("message", (topic, payload, packet) => {
      this.messages.push({ topic, payload, retain: packet.retain, at: Date.now() });
      if (payload.length === 0) this.latest.delete(topic);
      else this.latest.set(topic, payload);
    });
    await client.subscribeAsync("#", { qos: 1 });
  }

  json<T = unknown>(topic: string): T | undefined {
    const p = this.latest.get(topic);
    return p ? (JSON.parse(p.toString()) as T) : undefined;
  }

  /** Every non-empty payload on `topic` as JSON, in arrival order, from message index `from`. */
  jsonSeries<T = unknown>(topic: string, from = 0): T[] {
    return this.messages
      .slice(from)
      .filter((m) => m.topic === topic && m.payload.length > 0)
      .map((m) => JSON.parse(m.payload.toString()) as T);
  }

  text(topic: string): string | undefined {
    return this.latest.get(topic)?.toString();
  }

  async publish(topic: string, payload: string): Promise<void> {
    await this.client?.publishAsync(topic, payload, { qos: 1 });
  }

  /** What a newly connecting client gets as retained on `topic` (undefined: nothing within waitMs). */
  static async retained(
    url: string,
    topic: string,
    waitMs = 1000,
  ): Promise<{ payload: Buffer; retain: boolean } | undefined> {
    const client = await mqtt.connectAsync(url, {
      clientId: `retained-${process.pid}-${Date.now()}`,
      reconnectPeriod: 0,
    });
    try {
      const got = new Promise<{ payload: Buffer; retain: boolean }>((resolve) => {
        client.on("message", (_t, payload, packet) => resolve({ payload, retain: packet.retain }));
      });
      await client.subscribeAsync(topic, { qos: 1 });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), waitMs);
      });
      const result = await Promise.race([got, timeout]);
      clearTimeout(timer);
      return result;
    } finally {
      await client.endAsync(true);
    }
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
    this.client = undefined;
  }
}
