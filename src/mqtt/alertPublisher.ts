/**
 * The retained alerts document of each device (`<base>/<id>/alerts`): all rules off from
 * the first reading, then on every alert change, and again on every (re)connect, so alerts
 * raised or cleared while the broker was away reach it.
 */
import type { Alert } from "../model/bus.js";
import { alertsDoc, alertsTopic } from "./homeassistant/alerts.js";
import type { MqttOutbox } from "./outbox.js";

export interface AlertMemory {
  readonly desc: { readonly id: string };
  /** Active alerts by rule. */
  readonly alerts: Map<string, Alert>;
  /** The document is due on every (re)connect: set by the first reading or alert. */
  alertsKnown: boolean;
}

export class AlertPublisher {
  constructor(
    private readonly out: MqttOutbox,
    private readonly baseTopic: string,
  ) {}

  /** Every alert entity has a state from the start ("off"), not "unknown" until the first alert. */
  reading(mem: AlertMemory): void {
    if (mem.alertsKnown) return;
    mem.alertsKnown = true;
    this.publish(mem);
  }

  alert(mem: AlertMemory, a: Alert): void {
    if (a.active) mem.alerts.set(a.rule, a);
    else mem.alerts.delete(a.rule);
    mem.alertsKnown = true;
    this.publish(mem);
  }

  /** The document as it is now, once there is one to tell. */
  republish(mem: AlertMemory): Promise<boolean> | undefined {
    return mem.alertsKnown ? this.publish(mem) : undefined;
  }

  /** Dropped while disconnected: the republish on the next connect sends the state of then. */
  publish(mem: AlertMemory): Promise<boolean> | undefined {
    const doc = JSON.stringify(alertsDoc([...mem.alerts.values()]));
    return this.out.send(alertsTopic(this.baseTopic, mem.desc.id), doc);
  }
}
