/**
 * Pure: what to do with the retained discovery configs found on the broker at startup
 * (z2m does the same). Configs of ours (origin vesc2mqtt, object id under our base topic)
 * for configured devices become the "previously published" memory, so vanished cells are
 * removed even across a restart; configs of devices no longer configured, or written in
 * the other discovery mode, are cleared with an empty retained payload.
 */
import { topicSafe } from "../topics.js";
import type { Platform } from "./entities.js";
import { type DiscoveryMessage, type DiscoveryMode, haObjectId } from "./discovery.js";

export interface RetainedConfig {
  readonly topic: string;
  readonly payload: string;
}

export interface ConfiguredDevice {
  readonly id: string;
  readonly canIds: readonly number[];
}

export interface CleanupPlan {
  readonly removals: DiscoveryMessage[];
  /** objectId → component key → platform, as found retained. */
  readonly published: Map<string, Map<string, Platform>>;
}

/** The subscriptions that see our retained configs in either mode. */
export const scanTopics = (prefix: string): string[] => [
  `${prefix}/device/+/config`,
  `${prefix}/+/+/+/config`,
];

const isPlatform = (p: unknown): p is Platform => p === "sensor" || p === "binary_sensor";

export function planCleanup(
  prefix: string,
  base: string,
  mode: DiscoveryMode,
  configured: readonly ConfiguredDevice[],
  retained: readonly RetainedConfig[],
): CleanupPlan {
  const ours = new Set<string>();
  for (const d of configured) {
    ours.add(haObjectId(base, d.id));
    for (const c of d.canIds) ours.add(haObjectId(base, d.id, c));
  }
  const removals: DiscoveryMessage[] = [];
  const published = new Map<string, Map<string, Platform>>();
  const remember = (objectId: string, key: string, p: Platform) => {
    const m = published.get(objectId) ?? new Map<string, Platform>();
    m.set(key, p);
    published.set(objectId, m);
  };
  for (const r of retained) {
    if (r.payload === "" || !r.topic.startsWith(`${prefix}/`)) continue;
    const parts = r.topic.slice(prefix.length + 1).split("/");
    const deviceTopic = parts.length === 3 && parts[0] === "device";
    const entityTopic = parts.length === 4 && isPlatform(parts[0]);
    if (!deviceTopic && !entityTopic) continue;
    const objectId = parts[1] ?? "";
    if (!objectId.startsWith(`${topicSafe(base)}_`)) continue;
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(r.payload) as Record<string, unknown>;
    } catch {
      continue;
    }
    const origin = (payload.o ?? payload.origin) as { name?: unknown } | undefined;
    if (origin?.name !== "vesc2mqtt") continue; // not ours: never touch it
    const sameMode = deviceTopic === (mode === "device");
    if (!ours.has(objectId) || !sameMode) {
      removals.push({ topic: r.topic, payload: "", retain: true, qos: 1 });
      continue;
    }
    if (deviceTopic) {
      const cmps = (payload.cmps ?? payload.components ?? {}) as Record<string, Record<string, unknown>>;
      for (const [key, c] of Object.entries(cmps)) {
        const p = c.p ?? c.platform;
        // A bare {p} is a tombstone a previous run already sent: nothing left to remove.
        if (isPlatform(p) && Object.keys(c).length > 1) remember(objectId, key, p);
      }
    } else if (parts[0] && isPlatform(parts[0]) && parts[2]) {
      remember(objectId, parts[2], parts[0]);
    }
  }
  return { removals, published };
}
