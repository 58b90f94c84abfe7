/**
 * Pure: Reading → the retained state documents (the reading model, JSON), and the
 * DeviceStatus → connection document. Only fields of the reading model are published:
 * nothing from the custom-config reply ever reaches a Reading, so it cannot leak here.
 */
import type { DeviceStatus, Reading } from "../model/reading.js";

export interface StateDoc {
  readonly topicKind: "device" | "can";
  readonly canId?: number;
  readonly payload: string;
  /** Payload without time/latency: equal keys mean "nothing changed" (publish_on_change). */
  readonly changeKey: string;
}

/**
 * `<base>/<device>/state`: the reading without its CAN nodes (they have their own topics).
 * Serialised once per reading, deviceId and time first and latencyMs last, so that the change
 * key can be the slice between them (V8 keeps a slice as a view, not a copy).
 */
export function deviceStateDoc(r: Reading): StateDoc {
  // Every key of Reading spelled out (a new field is a compile error here, not a silent
  // omission) instead of rest and spread, which made two throwaway objects per reading.
  // JSON.stringify leaves out the undefined ones.
  const doc: Record<keyof Reading, unknown> = {
    deviceId: r.deviceId,
    time: r.time,
    device: r.device,
    bms: r.bms,
    can: undefined,
    latencyMs: r.latencyMs,
  };
  const payload = JSON.stringify(doc);
  // `{"deviceId":` + id + `,"time":` + time ... `,"latencyMs":` + ms + `}`
  const head = 20 + JSON.stringify(r.deviceId).length + JSON.stringify(r.time).length;
  const tail = r.latencyMs === undefined ? 1 : 14 + JSON.stringify(r.latencyMs).length;
  return { topicKind: "device", payload, changeKey: payload.slice(head, payload.length - tail) };
}

/** `<base>/<device>/can/<id>/state` for every CAN node that answered this poll. */
export function canStateDocs(r: Reading): StateDoc[] {
  const out: StateDoc[] = [];
  for (const node of Object.values(r.can ?? {})) {
    // A failed node keeps its last good state rather than breaking every value template.
    if (node.error !== undefined) continue;
    const payload = JSON.stringify({ ...node, time: r.time });
    out.push({ topicKind: "can", canId: node.canId, payload, changeKey: JSON.stringify(node) });
  }
  return out;
}

/** `<base>/<device>/connection`: link diagnostics, published on every status change. */
export function connectionDoc(s: DeviceStatus): string {
  return JSON.stringify(s);
}

/** Device availability: only a live, fresh link counts as online. */
export function availabilityOf(s: DeviceStatus | undefined): "online" | "offline" {
  return s?.link === "online" ? "online" : "offline";
}
