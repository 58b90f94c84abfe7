/**
 * The HA sink's way out to the broker, shared by its publishers: retained QoS 1 sends that
 * are tracked (stop() waits for them, a republish paces itself on their acks) and
 * fire-and-forget retained QoS 0 state sends. Without a publisher everything is dropped.
 */
import type { DiscoveryMessage } from "./homeassistant/discovery.js";
import type { Publisher } from "./publisher.js";

export class MqttOutbox {
  /** Set by the sink while it runs; cleared first on stop, so a clean stop is no outage. */
  publisher: Publisher | undefined;
  readonly #pending = new Set<Promise<unknown>>();

  get connected(): boolean {
    return this.publisher?.connected ?? false;
  }

  /** Retained, QoS 1, tracked; undefined when there is no publisher. */
  send(topic: string, payload: string): Promise<boolean> | undefined {
    const p = this.publisher;
    return p ? this.track(p.publish(topic, payload, { retain: true, qos: 1 })) : undefined;
  }

  /** Retained, QoS 0, fire-and-forget; false when dropped (disconnected or congested). */
  sendState(topic: string, payload: string): boolean {
    return this.publisher?.send(topic, payload, { retain: true, qos: 0 }) ?? false;
  }

  /** Sends each message (see send) and adds its ack to `acks`. */
  sendAll(msgs: readonly DiscoveryMessage[], acks: Promise<unknown>[] = []): Promise<unknown>[] {
    for (const m of msgs) {
      const ack = this.send(m.topic, m.payload);
      if (ack) acks.push(ack);
    }
    return acks;
  }

  track<T>(done: Promise<T>): Promise<T> {
    this.#pending.add(done);
    const settled = () => this.#pending.delete(done);
    done.then(settled, settled); // a rejection is the caller's to handle, not a second unhandled one
    return done;
  }

  /** Waits for everything tracked, at most `timeoutMs` (acks of messages sent before an outage may never come). */
  async settle(timeoutMs: number): Promise<void> {
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      new Promise((resolve) => {
        giveUp = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(giveUp);
  }
}
