/**
 * Retained QoS 0 state documents of a device and its configured CAN nodes. With
 * publish_on_change a document whose change key is unchanged waits for the heartbeat;
 * the newest payload of every topic is kept for a republish either way.
 */
import type { Reading } from "../model/reading.js";
import { type StateDoc, canStateDocs, deviceStateDoc } from "./state.js";
import { StateSlot } from "./stateSlot.js";
import { canStateTopic, deviceStateTopic } from "./topics.js";
import type { MqttOutbox } from "./outbox.js";

export interface StateOptions {
  readonly baseTopic: string;
  readonly publishOnChange: boolean;
  readonly heartbeatS: number;
}

export interface StateMemory {
  readonly desc: { readonly id: string; readonly can: readonly { readonly id: number }[] };
  /** topic → its newest state payload and when one was last sent. */
  readonly states: Map<string, StateSlot>;
}

export class StatePublisher {
  constructor(
    private readonly out: MqttOutbox,
    private readonly options: StateOptions,
  ) {}

  /** The device's document, then one per configured CAN node in the reading. */
  publishReading(mem: StateMemory, r: Reading): void {
    const base = this.options.baseTopic;
    this.publish(mem, deviceStateTopic(base, r.deviceId), deviceStateDoc(r));
    if (r.can) {
      const listed = new Set(mem.desc.can.map((c) => c.id));
      for (const c of canStateDocs(r)) {
        if (c.canId !== undefined && listed.has(c.canId))
          this.publish(mem, canStateTopic(base, r.deviceId, c.canId), c);
      }
    }
  }

  publish(mem: StateMemory, topic: string, doc: StateDoc): void {
    const now = Date.now();
    let slot = mem.states.get(topic);
    if (!slot) {
      slot = new StateSlot();
      mem.states.set(topic, slot);
    }
    // A dropped payload is not counted as sent: publish_on_change sends the next even if equal.
    const unchanged = slot.replace(doc);
    const heartbeatDue = now - slot.sentAt >= this.options.heartbeatS * 1000;
    if (this.options.publishOnChange && unchanged && !slot.unsent && !heartbeatDue) return;
    const sent = this.out.sendState(topic, doc.payload);
    slot.unsent = !sent;
    if (sent) slot.sentAt = now;
  }

  /** The newest payload of every topic again (after a connect or HA's birth). */
  republish(mem: StateMemory): void {
    for (const [topic, slot] of mem.states) {
      const payload = slot.payload;
      if (payload !== undefined) this.out.sendState(topic, payload);
    }
  }
}
