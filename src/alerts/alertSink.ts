/**
 * AlertSink: runs the pure rules of alerts.ts on every reading and status from the bus and
 * emits an `alert` on the same bus when a rule turns on or off. Everyone else (MQTT/HA,
 * dashboard, history, metrics) learns about alerts from the bus, not from this class.
 */
import type { Alert, Bus } from "../model/bus.js";
import type { Log } from "../model/log.js";
import type { DeviceStatus, Reading } from "../model/reading.js";
import { BusSink } from "../model/sink.js";
import {
  type ActiveRule,
  type AlertOverride,
  type AlertRule,
  type AlertState,
  type AlertThresholds,
  DEFAULT_ALERT_THRESHOLDS,
  type Evaluation,
  evaluateReading,
  evaluateStatus,
  mergeThresholds,
} from "./alerts.js";

export interface AlertSinkOptions {
  readonly bus: Bus;
  /** Top-level thresholds (config `alerts`); defaults when absent. */
  readonly thresholds?: AlertThresholds;
  /** Per device id: overrides (config `devices[i].alerts`). */
  readonly overrides?: Readonly<Record<string, AlertOverride | undefined>>;
  readonly logger?: Partial<Log>;
  /** Clock for status-driven alerts; tests pass a fixed one. */
  readonly now?: () => Date;
}

export class AlertSink extends BusSink {
  readonly name = "alerts";
  private readonly states = new Map<string, AlertState>();
  private readonly thresholdCache = new Map<string, AlertThresholds>();

  constructor(private readonly options: AlertSinkOptions) {
    super(options.bus, options.logger);
  }

  protected async onStart(): Promise<void> {
    this.listen("reading", (r: Reading) =>
      this.commit(r.deviceId, evaluateReading(r, this.for(r.deviceId), this.state(r.deviceId))),
    );
    this.listen("status", (s: DeviceStatus) =>
      this.commit(
        s.deviceId,
        evaluateStatus(s, this.for(s.deviceId), this.state(s.deviceId), this.clock().toISOString()),
      ),
    );
  }

  /** Currently active alerts, all devices or one. */
  active(deviceId?: string): Alert[] {
    const out: Alert[] = [];
    for (const [id, state] of this.states) {
      if (deviceId !== undefined && id !== deviceId) continue;
      for (const [rule, a] of Object.entries(state) as Array<[AlertRule, ActiveRule]>) {
        out.push({ deviceId: id, rule, active: true, message: a.message, time: a.since });
      }
    }
    return out;
  }

  /** Effective thresholds of one device (defaults ← top-level ← per-device). */
  thresholdsFor(deviceId: string): AlertThresholds {
    return this.for(deviceId);
  }

  private for(deviceId: string): AlertThresholds {
    let t = this.thresholdCache.get(deviceId);
    if (!t) {
      t = mergeThresholds(
        this.options.thresholds ?? DEFAULT_ALERT_THRESHOLDS,
        this.options.overrides?.[deviceId],
      );
      this.thresholdCache.set(deviceId, t);
    }
    return t;
  }

  private state(deviceId: string): AlertState {
    return this.states.get(deviceId) ?? {};
  }

  private clock(): Date {
    return this.options.now ? this.options.now() : new Date();
  }

  private commit(deviceId: string, evaluation: Evaluation): void {
    this.states.set(deviceId, evaluation.state);
    for (const alert of evaluation.changed) {
      const line = `alert ${alert.active ? "ON" : "off"} ${deviceId} ${alert.rule}: ${alert.message}`;
      if (alert.active) this.log.warn(line);
      else this.log.info(line);
      this.bus.emit("alert", alert);
    }
  }
}
