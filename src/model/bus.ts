/**
 * The in-process bus between the pollers and the sinks (MQTT/HA, web, history, metrics,
 * alerts). Data flows one way: pollers emit, sinks listen. A sink registers in start()
 * and removes its listeners in stop().
 */
import { EventEmitter } from "node:events";
import type { DeviceStatus, Reading } from "./reading.js";

export interface Alert {
  readonly deviceId: string;
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
  /** A configured device was removed (config reload) or a device's entity set shrank. */
  deviceRemoved: [deviceId: string];
}

export class Bus extends EventEmitter<BusEvents> {
  constructor() {
    super();
    // Thousands of devices share one bus; listeners are per sink, not per device.
    this.setMaxListeners(100);
  }
}

/** A consumer of the bus with an explicit lifecycle. Constructors only assign. */
export interface Sink {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
