/**
 * AlertSink: runs the pure rules of alerts.ts on every reading and status from the bus and
 * emits an `alert` on the same bus when a rule turns on or off. Each CAN BMS node of a
 * reading is evaluated like the device's own BMS, with its own state, under the device's
 * thresholds; its alerts carry `canId`. A node that stops answering goes "stale" after the
 * device's own stale time (`staleAfterMs`). Everyone else (MQTT/HA,
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
  evaluateCanBms,
  evaluateCanSilence,
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
  /**
   * Per device id: how long its link takes to go stale (stale_after_intervals × interval, ms);
   * a CAN BMS node silent that long is stale. Default: the config defaults, 3 × 5 s.
   */
  readonly staleAfterMs?: Readonly<Record<string, number | undefined>>;
  readonly logger?: Partial<Log>;
  /** Clock for status-driven alerts; tests pass a fixed one. */
  readonly now?: () => Date;
}

/** A device's state key is its id; a CAN BMS node's is `<id>/can/<canId>`. */
const stateKey = (deviceId: string, canId?: number): string =>
  canId === undefined ? deviceId : `${deviceId}/can/${canId}`;

interface Subject {
  readonly deviceId: string;
  readonly canId?: number;
}

/** The device's stale time when none is given: 3 intervals of 5 s (the config defaults). */
const DEFAULT_STALE_AFTER_MS = 15_000;

/** When a CAN BMS node last answered, or (never answered) when it was first polled. */
interface NodeSeen {
  lastAnswerTime: string | undefined;
  firstPollTime: string;
}

export class AlertSink extends BusSink {
  readonly name = "alerts";
  private readonly states = new Map<string, AlertState>();
  /** Who each state key belongs to, for active(). */
  private readonly subjects = new Map<string, Subject>();
  private readonly thresholdCache = new Map<string, AlertThresholds>();
  private readonly nodesSeen = new Map<string, NodeSeen>();

  constructor(private readonly options: AlertSinkOptions) {
    super(options.bus, options.logger);
  }

  protected async onStart(): Promise<void> {
    this.listen("reading", (r: Reading) => this.reading(r));
    this.listen("status", (s: DeviceStatus) =>
      this.commit(
        s.deviceId,
        evaluateStatus(s, this.for(s.deviceId), this.state(s.deviceId), this.clock().toISOString()),
      ),
    );
  }

  /** Currently active alerts, all devices or one (with its CAN BMS nodes' alerts). */
  active(deviceId?: string): Alert[] {
    const out: Alert[] = [];
    for (const [key, state] of this.states) {
      const subject = this.subjects.get(key) ?? { deviceId: key };
      if (deviceId !== undefined && subject.deviceId !== deviceId) continue;
      for (const [rule, a] of Object.entries(state) as Array<[AlertRule, ActiveRule]>) {
        out.push({ ...subject, rule, active: true, message: a.message, time: a.since });
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

  private state(key: string): AlertState {
    return this.states.get(key) ?? {};
  }

  /** The device's own BMS, then each CAN BMS node, with the device's thresholds. */
  private reading(r: Reading): void {
    const t = this.for(r.deviceId);
    this.commit(r.deviceId, evaluateReading(r, t, this.state(r.deviceId)));
    if (!r.can) return;
    for (const node of Object.values(r.can)) {
      if (node.kind !== "bms") continue;
      const key = stateKey(r.deviceId, node.canId);
      let seen = this.nodesSeen.get(key);
      if (!seen) {
        seen = { lastAnswerTime: undefined, firstPollTime: r.time };
        this.nodesSeen.set(key, seen);
        this.subjects.set(key, { deviceId: r.deviceId, canId: node.canId });
      }
      if (node.bms && node.error === undefined) {
        seen.lastAnswerTime = r.time;
        this.commit(key, evaluateCanBms(r, node.canId, node.bms, t, this.state(key)));
        continue;
      }
      const silence = {
        error: node.error ?? "no BMS values",
        lastAnswerTime: seen.lastAnswerTime,
        silentMs: Date.parse(r.time) - Date.parse(seen.lastAnswerTime ?? seen.firstPollTime),
        staleAfterMs: this.options.staleAfterMs?.[r.deviceId] ?? DEFAULT_STALE_AFTER_MS,
      };
      this.commit(key, evaluateCanSilence(r, node.canId, silence, t, this.state(key)));
    }
  }

  private clock(): Date {
    return this.options.now ? this.options.now() : new Date();
  }

  private commit(key: string, evaluation: Evaluation): void {
    this.states.set(key, evaluation.state);
    for (const alert of evaluation.changed) {
      const line = `alert ${alert.active ? "ON" : "off"} ${key} ${alert.rule}: ${alert.message}`;
      if (alert.active) this.log.warn(line);
      else this.log.info(line);
      this.bus.emit("alert", alert);
    }
  }
}
