/**
 * At the first connect: collect the retained discovery configs out there for a moment,
 * remove those of devices and CAN nodes no longer configured (cleanup.ts plans it) and
 * hand back what is still ours, so discovery knows what it replaces.
 */
import type { Log } from "../model/log.js";
import {
  type ConfiguredDevice,
  planCleanup,
  type RetainedConfig,
  scanTopics,
} from "./homeassistant/cleanup.js";
import type { DiscoveryMode, PublishedComponents } from "./homeassistant/discovery.js";
import type { MqttOutbox } from "./outbox.js";
import type { Publisher } from "./publisher.js";

export interface RetainedScanOptions {
  readonly prefix: string;
  readonly baseTopic: string;
  readonly mode: DiscoveryMode;
  readonly log: Log;
}

export class RetainedScan {
  /** Until it is "done", discovery waits: it needs to know what is out there. */
  state: "pending" | "running" | "done" = "pending";
  readonly #retained: RetainedConfig[] = [];

  constructor(
    private readonly out: MqttOutbox,
    private readonly options: RetainedScanOptions,
  ) {}

  /** A message on a scanned topic (kept only while the scan runs). */
  offer(topic: string, payload: Buffer): void {
    if (this.state === "running") this.#retained.push({ topic, payload: payload.toString() });
  }

  /**
   * Subscribes, waits (`wait`), unsubscribes and removes the stale configs. Returns what is
   * ours and retained (objectId → components), or undefined when `pub` was let go meanwhile.
   */
  async run(
    pub: Publisher,
    wait: () => Promise<void>,
    configured: () => readonly ConfiguredDevice[],
  ): Promise<ReadonlyMap<string, PublishedComponents> | undefined> {
    this.state = "running";
    const o = this.options;
    const topics = scanTopics(o.prefix);
    for (const t of topics) await pub.subscribe(t);
    await wait();
    if (this.out.publisher !== pub) return undefined; // stopped meanwhile
    for (const t of topics) await pub.unsubscribe(t);
    const plan = planCleanup(o.prefix, o.baseTopic, o.mode, configured(), this.#retained.splice(0));
    if (plan.removals.length > 0)
      o.log.info(`home assistant: removing ${plan.removals.length} stale discovery config(s)`);
    this.out.sendAll(plan.removals);
    return plan.published;
  }
}
