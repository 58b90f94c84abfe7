/**
 * The one fake MQTT client of the suite (everything else talks to a real Mosquitto or the
 * embedded broker): what Publisher needs of MQTT.js, with a socket that counts cork depth and
 * flushes, publishes recorded, and QoS 1 acknowledgements optionally held until ack().
 */
import { EventEmitter } from "node:events";
import type { MqttClientLike } from "../../src/mqtt/publisher.js";

/** Counts cork depth like a Writable: writes made while corked leave together at the last uncork. */
export class FakeStream {
  depth = 0;
  /** Bytes held while corked, as a Writable's writableLength. */
  writableLength = 0;
  readonly writableHighWaterMark = 1000;
  uncorks = 0;
  /** Publishes per flush to the "socket". */
  readonly flushes: number[] = [];
  #held = 0;
  cork(): void {
    this.depth++;
  }
  uncork(): void {
    this.depth--;
    this.uncorks++;
    if (this.depth === 0 && this.#held > 0) {
      this.flushes.push(this.#held);
      this.#held = 0;
      this.writableLength = 0;
    }
  }
  write(bytes: number): void {
    if (this.depth > 0) {
      this.#held++;
      this.writableLength += bytes;
    } else this.flushes.push(1);
  }
}

export class FakeMqttClient extends EventEmitter implements MqttClientLike {
  connected = false;
  stream = new FakeStream();
  failPublish = false;
  /** QoS 1 acknowledgements wait for ack() (a broker that has not answered yet). */
  holdAcks = false;
  /** Held acknowledgements, oldest first. */
  readonly unacked: (() => void)[] = [];
  readonly published: { topic: string; payload: string; qos: number; retain: boolean }[] = [];
  readonly subscribed: string[] = [];
  ended: boolean | undefined;
  publish(
    topic: string,
    payload: string,
    opts: { qos: 0 | 1; retain: boolean },
    callback: (error?: Error) => void,
  ): void {
    if (this.failPublish) {
      callback(new Error("publish failed"));
      return;
    }
    this.published.push({ topic, payload, ...opts });
    this.stream.write(payload.length);
    if (this.holdAcks && opts.qos === 1) this.unacked.push(() => callback());
    else callback();
  }
  /** The broker acknowledges everything held so far. */
  ack(): void {
    for (const done of this.unacked.splice(0)) done();
  }
  async subscribeAsync(topic: string): Promise<unknown> {
    this.subscribed.push(topic);
    return [];
  }
  async unsubscribeAsync(topic: string): Promise<unknown> {
    this.subscribed.splice(this.subscribed.indexOf(topic), 1);
    return undefined;
  }
  async endAsync(force?: boolean): Promise<void> {
    this.ended = force ?? false;
    this.connected = false;
  }
  up(): void {
    this.connected = true;
    this.emit("connect");
  }
  down(): void {
    this.connected = false;
    this.emit("close");
  }
}
