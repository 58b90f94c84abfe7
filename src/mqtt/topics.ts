/**
 * Pure topic builders: every MQTT topic the bridge uses is spelled here, once.
 * `base` is mqtt.base_topic, `prefix` is mqtt.discovery_prefix.
 */

/** Bridge availability: LWT `offline`, `online` after connecting; retained. */
export const bridgeStateTopic = (base: string): string => `${base}/bridge/state`;

/** One retained JSON document per reading: the reading model without CAN nodes. */
export const deviceStateTopic = (base: string, deviceId: string): string => `${base}/${deviceId}/state`;

/** One retained JSON document per CAN node per reading. */
export const canStateTopic = (base: string, deviceId: string, canId: number): string =>
  `${base}/${deviceId}/can/${canId}/state`;

/** `online` / `offline`, retained: follows the device link and staleness. */
export const deviceAvailabilityTopic = (base: string, deviceId: string): string =>
  `${base}/${deviceId}/availability`;

/**
 * `online` / `offline`, retained: whether a BMS's data is live (offline while the Express
 * repeats a frozen BMS reply). The device's own BMS, or a CAN BMS node's.
 */
export const bmsAvailabilityTopic = (base: string, deviceId: string, canId?: number): string =>
  canId === undefined
    ? `${base}/${deviceId}/bms/availability`
    : `${base}/${deviceId}/can/${canId}/bms/availability`;

/** The device's link status (DeviceStatus JSON, retained): diagnostics that stay visible while the device is down. */
export const deviceConnectionTopic = (base: string, deviceId: string): string =>
  `${base}/${deviceId}/connection`;

/** Home Assistant's birth/will topic. */
export const haStatusTopic = (prefix: string): string => `${prefix}/status`;

/** Device-based discovery (HA ≥ 2024.11). */
export const deviceDiscoveryTopic = (prefix: string, objectId: string): string =>
  `${prefix}/device/${objectId}/config`;

/** Classic per-entity discovery. */
export const entityDiscoveryTopic = (
  prefix: string,
  platform: string,
  nodeId: string,
  objectId: string,
): string => `${prefix}/${platform}/${nodeId}/${objectId}/config`;

/** HA allows only [a-zA-Z0-9_-] in node_id/object_id; base topics may hold anything else. */
export function topicSafe(s: string): string {
  return s.replace(/[^a-zA-Z0-9_-]/g, "_");
}
