/**
 * The in-process bus between the pollers and the sinks (MQTT/HA, web, history, metrics,
 * alerts). Data flows one way: pollers emit, sinks listen. A sink registers in start()
 * and removes its listeners in stop().
 */
import { EventEmitter } from "node:events";
import type { DeviceStatus, Reading } from "./reading.js";

export interface Alert {
  readonly deviceId: string;
  /** Set when the alert is a CAN BMS node's (that node's own rules and state), not the device's. */
  readonly canId?: number;
  /** Stable key, e.g. "cell_under_voltage", "cell_delta", "temperature_high", "soc_low", "stale". */
  readonly rule: string;
  readonly active: boolean;
  /** Human text naming cell/sensor and value, e.g. "cell 7 at 3.412 V, 54 mV below average". */
  readonly message: string;
  readonly time: string;
}

export interface BusEvents {
  reading: [reading: Reading];
  status: [status: DeviceStatus];
  alert: [alert: Alert];
}

/** Told about a listener that threw: `owner` is the sink that added it (see Bus.claim). */
export type ListenerErrorHandler = (owner: string, event: string, error: unknown) => void;

/**
 * Listeners are isolated: one that throws is reported to `onListenerError` and the others
 * still get the event. A plain EventEmitter stops at the first throwing listener and throws
 * into the emitter, i.e. into the poller, which took a sink's bug for a failed poll.
 */
export class Bus extends EventEmitter<BusEvents> {
  onListenerError: ListenerErrorHandler | undefined;
  readonly #owners = new WeakMap<object, string>();

  constructor() {
    super();
    // Thousands of devices share one bus; listeners are per sink, not per device.
    this.setMaxListeners(100);
  }

  /** Names every listener not yet claimed as `owner`'s (the bridge calls it after each sink's start()). */
  claim(owner: string): void {
    for (const event of this.eventNames())
      for (const l of this.rawListeners(event as keyof BusEvents))
        if (!this.#owners.has(l)) this.#owners.set(l, owner);
  }

  /** Adds `listener` as `owner`'s (its errors are reported under that name); returns its removal. */
  listen<K extends keyof BusEvents>(
    owner: string,
    event: K,
    listener: (...args: BusEvents[K]) => void,
  ): () => void {
    const l = listener as never;
    this.on(event, l);
    this.#owners.set(listener, owner);
    return () => this.off(event, l);
  }

  override emit<K>(event: keyof BusEvents | K, ...args: unknown[]): boolean {
    const listeners = this.rawListeners(event as keyof BusEvents) as ((...a: unknown[]) => void)[];
    for (const l of listeners) {
      try {
        const result = l.apply(this, args) as unknown;
        // An async listener's rejection is the same bug as a throw, not an unhandled rejection.
        if (result instanceof Promise) result.catch((e: unknown) => this.#report(l, event, e));
      } catch (e) {
        this.#report(l, event, e);
      }
    }
    return listeners.length > 0;
  }

  #report(listener: object, event: unknown, error: unknown): void {
    this.onListenerError?.(this.#owners.get(listener) ?? "unknown", String(event), error);
  }
}

/** A consumer of the bus with an explicit lifecycle. Constructors only assign. */
export interface Sink {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
