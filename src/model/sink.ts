/**
 * The base of every bus consumer (MQTT/HA, web, history, metrics, alerts): it owns the
 * sink's bus subscriptions, removes all of them on stop() before the sink's own teardown,
 * names them so a throwing listener is reported as this sink's (the others still run),
 * reports its timers' and callbacks' failures the same way (guarded), and gives every sink
 * the same complete logger.
 */
import type { Bus, BusEvents, Sink } from "./bus.js";
import { completeLog, type Log } from "./log.js";

export abstract class BusSink implements Sink {
  abstract readonly name: string;
  protected readonly log: Log;
  readonly #unlisten: (() => void)[] = [];
  #running = false;

  constructor(
    protected readonly bus: Bus,
    log?: Partial<Log>,
  ) {
    this.log = completeLog(log);
  }

  /** Subscribes for the life of the sink: stop() removes it. */
  protected listen<K extends keyof BusEvents>(event: K, listener: (...args: BusEvents[K]) => void): void {
    this.#unlisten.push(this.bus.listen(this.name, event, listener));
  }

  /** `fn` for a timer or a foreign emitter: what it throws (or rejects with) is reported as this sink's, never thrown. */
  protected guarded<A extends unknown[]>(what: string, fn: (...args: A) => unknown): (...args: A) => void {
    return (...args: A) => {
      try {
        const result = fn(...args);
        if (result instanceof Promise) result.catch((e: unknown) => this.report(what, e));
      } catch (e) {
        this.report(what, e);
      }
    };
  }

  /** Reports a failure as this sink's, where the bus reports its listeners' (the bridge logs it, rate-limited). */
  protected report(what: string, error: unknown): void {
    const handler = this.bus.onListenerError;
    if (handler) handler(this.name, what, error);
    else
      this.log.error(
        `sink ${this.name}: ${what} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
  }

  /** Subscriptions held now (0 once stopped). */
  get subscriptions(): number {
    return this.#unlisten.length;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await this.onStart();
    } catch (e) {
      this.#unlistenAll();
      this.#running = false;
      throw e;
    }
  }

  /** Unsubscribes first, so nothing arrives while the sink tears down. */
  async stop(): Promise<void> {
    this.#unlistenAll();
    if (!this.#running) return;
    this.#running = false;
    await this.onStop();
  }

  /** Subscribes (listen) and starts timers or servers. Constructors only assign. */
  protected abstract onStart(): Promise<void>;
  /** Flushes and closes what onStart opened; the subscriptions are gone already. */
  protected async onStop(): Promise<void> {}

  #unlistenAll(): void {
    for (const off of this.#unlisten.splice(0)) off();
  }
}
