/**
 * Pure Home Assistant discovery: (HA device model, entities, what was published before)
 * → retained QoS 1 messages. Device-based discovery (`<prefix>/device/<id>/config` with
 * `cmps`, HA ≥ 2024.11) or classic per-entity configs for older HA. Abbreviated keys keep
 * payloads small: a 20S pack is ~60 components, and a fleet bridge serves thousands.
 *
 * Removal: a vanished component is first republished as `{ "p": <platform> }` (device
 * mode) or an empty retained config (entity mode); a vanished device gets an empty
 * retained config. unique_id = `<base>_<device>[_can<id>]_<key>`: stable across restarts.
 */
import { deviceDiscoveryTopic, entityDiscoveryTopic, topicSafe } from "../topics.js";
import type { EntityDef, Platform } from "./entities.js";

export type DiscoveryMode = "device" | "entity";

export interface Origin {
  readonly name: string;
  readonly sw: string;
  readonly url: string;
}

export interface DiscoveryOptions {
  readonly prefix: string;
  readonly mode: DiscoveryMode;
  readonly origin: Origin;
  /** Bridge LWT topic (`<base>/bridge/state`). */
  readonly bridgeTopic: string;
}

/** One Home Assistant device: the Express itself or one CAN node behind it. */
export interface HaDevice {
  /** `<base>_<device>` or `<base>_<device>_can<id>`: HA object id, identifier and unique_id prefix. */
  readonly objectId: string;
  readonly name: string;
  readonly model?: string;
  readonly firmware?: string;
  readonly serialNumber?: string;
  /** objectId of the Express a CAN node hangs off. */
  readonly viaDevice?: string;
  readonly stateTopic: string;
  readonly connectionTopic: string;
  /** `<base>/<device>/alerts` (alerts.ts); shared by the Express and its CAN nodes. */
  readonly alertsTopic: string;
  readonly availabilityTopic: string;
  /** `online`/`offline` for this device's BMS data (frozen → offline); the BMS entities follow it too. */
  readonly bmsAvailabilityTopic?: string;
  readonly entities: readonly EntityDef[];
}

export interface DiscoveryMessage {
  readonly topic: string;
  /** "" removes a retained config. */
  readonly payload: string;
  readonly retain: true;
  readonly qos: 1;
}

/** What was published for one HA device: component key → platform (for removals). */
export type PublishedComponents = ReadonlyMap<string, Platform>;

export function haObjectId(base: string, deviceId: string, canId?: number): string {
  return `${topicSafe(base)}_${deviceId}${canId === undefined ? "" : `_can${canId}`}`;
}

const msg = (topic: string, payload: string): DiscoveryMessage => ({ topic, payload, retain: true, qos: 1 });

function deviceBlock(d: HaDevice): Record<string, unknown> {
  return {
    ids: [d.objectId],
    name: d.name,
    mf: "VESC Project",
    ...(d.model ? { mdl: d.model } : {}),
    ...(d.firmware ? { sw: d.firmware } : {}),
    ...(d.serialNumber ? { sn: d.serialNumber } : {}),
    ...(d.viaDevice ? { via_device: d.viaDevice } : {}),
  };
}

function originBlock(o: Origin): Record<string, unknown> {
  return { name: o.name, sw: o.sw, url: o.url };
}

/** One component's config (without dev/o), abbreviated. */
export function componentConfig(opts: DiscoveryOptions, d: HaDevice, e: EntityDef): Record<string, unknown> {
  const avty: Record<string, string>[] = e.bridgeAvailabilityOnly
    ? [{ t: opts.bridgeTopic }]
    : [{ t: opts.bridgeTopic }, { t: d.availabilityTopic }];
  if (e.bmsAvailability && d.bmsAvailabilityTopic) avty.push({ t: d.bmsAvailabilityTopic });
  const stateTopic =
    e.source === "state" ? d.stateTopic : e.source === "alerts" ? d.alertsTopic : d.connectionTopic;
  return {
    p: e.platform,
    name: e.name,
    uniq_id: `${d.objectId}_${e.key}`,
    stat_t: stateTopic,
    val_tpl: e.template,
    ...(e.attributesTemplate ? { json_attr_t: stateTopic, json_attr_tpl: e.attributesTemplate } : {}),
    avty,
    avty_mode: "all",
    ...(e.deviceClass ? { dev_cla: e.deviceClass } : {}),
    ...(e.unit ? { unit_of_meas: e.unit } : {}),
    ...(e.stateClass ? { stat_cla: e.stateClass } : {}),
    ...(e.diagnostic ? { ent_cat: "diagnostic" } : {}),
    ...(e.precision !== undefined ? { sug_dsp_prc: e.precision } : {}),
    ...(e.enabledByDefault === false ? { en: false } : {}),
    ...(e.icon ? { ic: e.icon } : {}),
    ...(e.options ? { ops: e.options } : {}),
  };
}

export interface DiscoveryResult {
  readonly messages: DiscoveryMessage[];
  /** Pass back as `previous` next time. */
  readonly published: PublishedComponents;
}

/**
 * Discovery for one HA device. `previous` = what was published last time: components that
 * vanished since are removed. In device mode a tombstone `{p}` stays in `published` once,
 * so the following publish drops it from the map (HA's documented two-step removal).
 */
export function discoveryMessages(
  opts: DiscoveryOptions,
  d: HaDevice,
  previous: PublishedComponents = new Map(),
): DiscoveryResult {
  const current = new Map<string, Platform>(d.entities.map((e) => [e.key, e.platform]));
  const vanished = [...previous].filter(([k]) => !current.has(k));
  if (opts.mode === "device") {
    const cmps: Record<string, unknown> = {};
    for (const e of d.entities) cmps[e.key] = componentConfig(opts, d, e);
    // Tombstones are marked by their platform being kept under a "removed:" key in `published`.
    for (const [k, p] of vanished) if (!k.startsWith("removed:")) cmps[k] = { p };
    const payload = { dev: deviceBlock(d), o: originBlock(opts.origin), cmps };
    const published = new Map(current);
    for (const [k, p] of vanished) if (!k.startsWith("removed:")) published.set(`removed:${k}`, p);
    return {
      messages: [msg(deviceDiscoveryTopic(opts.prefix, d.objectId), JSON.stringify(payload))],
      published,
    };
  }
  const messages: DiscoveryMessage[] = [];
  for (const e of d.entities) {
    const { p: _p, ...component } = componentConfig(opts, d, e);
    const payload = { ...component, dev: deviceBlock(d), o: originBlock(opts.origin) };
    messages.push(
      msg(entityDiscoveryTopic(opts.prefix, e.platform, d.objectId, e.key), JSON.stringify(payload)),
    );
  }
  for (const [k, p] of vanished) {
    if (!k.startsWith("removed:"))
      messages.push(msg(entityDiscoveryTopic(opts.prefix, p, d.objectId, k), ""));
  }
  return { messages, published: current };
}

/** Removes a whole HA device (device dropped from config, CAN node no longer listed). */
export function removalMessages(
  opts: DiscoveryOptions,
  objectId: string,
  previous: PublishedComponents,
): DiscoveryMessage[] {
  if (opts.mode === "device") return [msg(deviceDiscoveryTopic(opts.prefix, objectId), "")];
  return [...previous]
    .filter(([k]) => !k.startsWith("removed:"))
    .map(([k, p]) => msg(entityDiscoveryTopic(opts.prefix, p, objectId, k), ""));
}

/** Component keys currently live (tombstones excluded). */
export function liveKeys(published: PublishedComponents): string[] {
  return [...published.keys()].filter((k) => !k.startsWith("removed:"));
}
