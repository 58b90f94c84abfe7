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
  /**
   * The change key is payload[keyStart, keyEnd): the payload without time/latency, so equal
   * keys mean "nothing changed" (publish_on_change). Offsets, not a string, so a consumer can
   * compare it where the payload is kept (src/bridge/stateSlot.ts). What lies outside the key
   * is ASCII: these offsets are byte offsets in the UTF-8 payload too, counted from each end.
   */
  readonly keyStart: number;
  readonly keyEnd: number;
}

/** The change key of a state document as a string. */
export function changeKey(doc: StateDoc): string {
  return doc.payload.slice(doc.keyStart, doc.keyEnd);
}

/**
 * `<base>/<device>/state`: the reading without its CAN nodes (they have their own topics).
 * Serialised once per reading, deviceId and time first and latencyMs last, so that the change
 * key is the span between them.
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
  // `{"deviceId":` + id + `,"time":` + time ... `,"latencyMs":` + ms + `}`; the id is a slug
  // and the time ISO-8601, both ASCII.
  const keyStart = 20 + JSON.stringify(r.deviceId).length + JSON.stringify(r.time).length;
  const tail = r.latencyMs === undefined ? 1 : 14 + JSON.stringify(r.latencyMs).length;
  return { topicKind: "device", payload, keyStart, keyEnd: payload.length - tail };
}

/** `<base>/<device>/can/<id>/state` for every CAN node that answered this poll; the time comes last. */
export function canStateDocs(r: Reading): StateDoc[] {
  const out: StateDoc[] = [];
  const tail = 9 + JSON.stringify(r.time).length; // `,"time":` + time + `}`
  for (const node of Object.values(r.can ?? {})) {
    // A failed node keeps its last good state rather than breaking every value template.
    if (node.error !== undefined) continue;
    const payload = JSON.stringify({ ...node, time: r.time });
    out.push({ topicKind: "can", canId: node.canId, payload, keyStart: 0, keyEnd: payload.length - tail });
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
