/**
 * Pure: Reading → the retained state documents (the reading model, JSON), and the
 * DeviceStatus → connection document. Only fields of the reading model are published:
 * nothing from the custom-config reply ever reaches a Reading, so it cannot leak here.
 */
import type { CanNodeReading, DeviceStatus, Reading } from "../model/reading.js";

export interface StateDoc {
  readonly topicKind: "device" | "can";
  readonly canId?: number;
  readonly payload: string;
  /**
   * The change key is payload[keyStart, keyEnd): the payload without time/latency, so equal
   * keys mean "nothing changed" (publish_on_change). Offsets, not a string, so a consumer can
   * compare it where the payload is kept (src/mqtt/stateSlot.ts). What lies outside the key
   * is ASCII: these offsets are byte offsets in the UTF-8 payload too, counted from each end.
   */
  readonly keyStart: number;
  readonly keyEnd: number;
}

/** The change key of a state document as a string. */
export function changeKey(doc: StateDoc): string {
  return doc.payload.slice(doc.keyStart, doc.keyEnd);
}

/** `,"name":<json>`, or nothing for an undefined value (as JSON.stringify leaves it out of an object). */
function member(name: string, value: unknown): string {
  return value === undefined ? "" : `,"${name}":${JSON.stringify(value)}`;
}

/** The fields of a Reading inside the change key; a new Reading field is a compile error here. */
type KeyFields = Exclude<keyof Reading, "deviceId" | "time" | "latencyMs" | "can">;

/**
 * `<base>/<device>/state`: the reading without its CAN nodes (they have their own topics),
 * deviceId and time first and latencyMs last. The payload is built as head + key + tail,
 * so the change key's offsets are the lengths of the parts; byte for byte what
 * JSON.stringify of the same object writes.
 */
export function deviceStateDoc(r: Reading): StateDoc {
  const head = `{"deviceId":${JSON.stringify(r.deviceId)},"time":${JSON.stringify(r.time)}`;
  const fields: Record<KeyFields, unknown> = { device: r.device, bms: r.bms };
  const [bmsKey, bmsTail] = bmsMembers(r.bms);
  const key = member("device", fields.device) + bmsKey;
  const payload = `${head}${key}${bmsTail}${member("latencyMs", r.latencyMs)}}`;
  return { topicKind: "device", payload, keyStart: head.length, keyEnd: head.length + key.length };
}

/**
 * The `bms` member split where the bridge's battery estimates begin (key part, tail part).
 * They move with time whenever current flows, also when the BMS sent the same reply, so the
 * change key holds the BMS's own data and the estimates ride along (docs/battery.md). The
 * bridge adds `battery` last, so the two parts are JSON.stringify(bms); they are ASCII.
 */
function bmsMembers(bms: Reading["bms"]): [string, string] {
  if (bms?.battery === undefined) return [member("bms", bms), ""];
  const { battery, ...own } = bms;
  const json = JSON.stringify(own);
  return [
    `,"bms":${json.slice(0, -1)}`,
    `${json.length > 2 ? "," : ""}"battery":${JSON.stringify(battery)}}`,
  ];
}

/** `<base>/<device>/can/<id>/state` for every CAN node that answered this poll; the time comes last. */
export function canStateDocs(r: Reading): StateDoc[] {
  const out: StateDoc[] = [];
  const time = JSON.stringify(r.time);
  for (const node of Object.values(r.can ?? {})) {
    // A failed node keeps its last good state rather than breaking every value template.
    if (node.error !== undefined) continue;
    // The key is the node's JSON without its closing brace (and a BMS node's battery
    // estimates, as for the device's own BMS); the time member closes the object.
    const [key, tail] = canNodeMembers(node);
    const payload = `${key}${tail}${key.length > 1 ? "," : ""}"time":${time}}`;
    out.push({ topicKind: "can", canId: node.canId, payload, keyStart: 0, keyEnd: key.length });
  }
  return out;
}

/** A CAN node's JSON without its closing brace, split where `bms.battery` begins (key, tail). */
function canNodeMembers(node: CanNodeReading): [string, string] {
  if (node.bms?.battery === undefined) return [JSON.stringify(node).slice(0, -1), ""];
  // The poller and the bridge put `bms` last, so this is JSON.stringify(node) byte for byte.
  const { bms, ...rest } = node;
  const [bmsKey, bmsTail] = bmsMembers(bms);
  return [JSON.stringify(rest).slice(0, -1) + bmsKey, bmsTail];
}

/** `<base>/<device>/connection`: link diagnostics, published on every status change. */
export function connectionDoc(s: DeviceStatus): string {
  return JSON.stringify(s);
}

/** Device availability: only a live, fresh link counts as online. */
export function availabilityOf(s: DeviceStatus | undefined): "online" | "offline" {
  return s?.link === "online" ? "online" : "offline";
}
