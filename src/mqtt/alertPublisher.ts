/**
 * The retained alerts document of each device (`<base>/<id>/alerts`) and of each of its CAN
 * BMS nodes (`<base>/<id>/can/<canId>/alerts`): all rules off from the first reading that
 * has the BMS, then on every alert change, and again on every (re)connect, so alerts raised
 * or cleared while the broker was away reach it.
 */
import type { Alert } from "../model/bus.js";
import type { Reading } from "../model/reading.js";
import { alertsDoc, alertsTopic } from "./homeassistant/alerts.js";
import type { MqttOutbox } from "./outbox.js";

export interface AlertMemory {
  readonly desc: { readonly id: string };
  /** Active alerts by rule. */
  readonly alerts: Map<string, Alert>;
  /** The document is due on every (re)connect: set by the first reading or alert. */
  alertsKnown: boolean;
  /** Per CAN BMS node that has been seen: its active alerts by rule (created on first sight). */
  canAlerts?: Map<number, Map<string, Alert>>;
}

export class AlertPublisher {
  constructor(
    private readonly out: MqttOutbox,
    private readonly baseTopic: string,
  ) {}

  /** Every alert entity has a state from the start ("off"), not "unknown" until the first alert. */
  reading(mem: AlertMemory, r?: Reading): void {
    if (!mem.alertsKnown) {
      mem.alertsKnown = true;
      this.publish(mem);
    }
    if (!r?.can) return;
    for (const node of Object.values(r.can)) {
      if (node.kind !== "bms" || !node.bms || node.error !== undefined) continue;
      if (mem.canAlerts?.has(node.canId)) continue;
      this.nodeAlerts(mem, node.canId);
      this.publishNode(mem, node.canId);
    }
  }

  alert(mem: AlertMemory, a: Alert): void {
    const alerts = a.canId === undefined ? mem.alerts : this.nodeAlerts(mem, a.canId);
    if (a.active) alerts.set(a.rule, a);
    else alerts.delete(a.rule);
    if (a.canId !== undefined) {
      this.publishNode(mem, a.canId);
      return;
    }
    mem.alertsKnown = true;
    this.publish(mem);
  }

  /** The documents as they are now, once there is one to tell; true when all were acknowledged. */
  republish(mem: AlertMemory): Promise<boolean> | undefined {
    const acks: Promise<boolean>[] = [];
    const own = mem.alertsKnown ? this.publish(mem) : undefined;
    if (own) acks.push(own);
    for (const canId of mem.canAlerts?.keys() ?? []) {
      const ack = this.publishNode(mem, canId);
      if (ack) acks.push(ack);
    }
    if (acks.length <= 1) return acks[0];
    return Promise.all(acks).then((oks) => oks.every(Boolean));
  }

  /** Dropped while disconnected: the republish on the next connect sends the state of then. */
  publish(mem: AlertMemory): Promise<boolean> | undefined {
    const doc = JSON.stringify(alertsDoc([...mem.alerts.values()]));
    return this.out.send(alertsTopic(this.baseTopic, mem.desc.id), doc);
  }

  private publishNode(mem: AlertMemory, canId: number): Promise<boolean> | undefined {
    const doc = JSON.stringify(alertsDoc([...this.nodeAlerts(mem, canId).values()]));
    return this.out.send(alertsTopic(this.baseTopic, mem.desc.id, canId), doc);
  }

  private nodeAlerts(mem: AlertMemory, canId: number): Map<string, Alert> {
    mem.canAlerts ??= new Map();
    let alerts = mem.canAlerts.get(canId);
    if (!alerts) {
      alerts = new Map();
      mem.canAlerts.set(canId, alerts);
    }
    return alerts;
  }
}
