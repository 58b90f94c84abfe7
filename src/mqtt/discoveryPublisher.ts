/**
 * HA discovery for one device at a time: builds it from what the device has shown so far
 * (its presence), publishes only a shape that changed and held for a few readings, and
 * removes the components and HA devices that went away.
 */
import { createHash } from "node:crypto";
import {
  type DeviceDescription,
  type DevicePresence,
  EMPTY_PRESENCE,
  haDevices,
  presenceKey,
} from "./homeassistant/devices.js";
import {
  type DiscoveryOptions,
  type PublishedComponents,
  discoveryMessages,
  haObjectId,
  removalMessages,
} from "./homeassistant/discovery.js";
import type { Platform } from "./homeassistant/entities.js";
import type { MqttOutbox } from "./outbox.js";

/**
 * A changed entity set is published once it held for this many readings in a row: a BMS whose
 * cell count flaps (1 ↔ 50) would otherwise send its whole discovery (~27 KB) every poll.
 */
export const DISCOVERY_SETTLE_READINGS = 3;

/** PublishedComponents as a flat [key, platform, …] array: far smaller than a Map kept per HA device for the process's life. */
type PackedComponents = readonly string[];

/**
 * Packed lists in use, by content: a fleet's devices mostly publish the same components, so
 * they share one frozen list instead of holding a copy each (~200 keys a device). An entry
 * goes when no device holds its list any more.
 */
const packedInUse = new Map<string, WeakRef<PackedComponents>>();
const packedGone = new FinalizationRegistry<string>((content) => {
  if (packedInUse.get(content)?.deref() === undefined) packedInUse.delete(content);
});

function pack(components: PublishedComponents): PackedComponents {
  const out: string[] = [];
  for (const [key, platform] of components) out.push(key, platform);
  const content = out.join("\0");
  const shared = packedInUse.get(content)?.deref();
  // Compared element by element: a key scanned from the broker could hold a NUL.
  if (shared && shared.length === out.length && shared.every((x, i) => x === out[i])) return shared;
  const packed = Object.freeze(out);
  packedInUse.set(content, new WeakRef(packed));
  packedGone.register(packed, content);
  return packed;
}

function unpack(packed: PackedComponents): PublishedComponents {
  const out = new Map<string, Platform>();
  for (let i = 0; i + 1 < packed.length; i += 2) out.set(packed[i] as string, packed[i + 1] as Platform);
  return out;
}

/** What one device's discovery remembers between readings. */
export interface DiscoveryMemory {
  readonly desc: DeviceDescription;
  presence: DevicePresence;
  /** objectId → components last published. */
  published: Map<string, PackedComponents>;
  /** Digest of the discovery input last published (the input itself is ~20 KB a device). */
  shapeKey: string;
  /** presenceKey() of the presence last turned into discovery: most readings change nothing. */
  presenceKey: string;
  /** The presence behind presenceKey (updatePresence returns the same object when nothing changed). */
  keyedPresence: DevicePresence | undefined;
  /** A shape that differs from the published one, and for how many readings in a row it held. */
  candidateShape: string;
  candidateReadings: number;
}

export function discoveryMemory(desc: DeviceDescription): DiscoveryMemory {
  return {
    desc,
    presence: EMPTY_PRESENCE,
    published: new Map(),
    shapeKey: "",
    presenceKey: "",
    keyedPresence: undefined,
    candidateShape: "",
    candidateReadings: 0,
  };
}

/** What most readings get back: nothing went out, so not a new array each. */
const NO_ACKS: readonly Promise<unknown>[] = [];

export class DiscoveryPublisher {
  constructor(
    private readonly out: MqttOutbox,
    private readonly baseTopic: string,
    private readonly discovery: DiscoveryOptions,
  ) {}

  /** The Express's HA object id and those of its configured CAN nodes. */
  objectIds(desc: DeviceDescription): string[] {
    return [
      haObjectId(this.baseTopic, desc.id),
      ...desc.can.map((c) => haObjectId(this.baseTopic, desc.id, c.id)),
    ];
  }

  /** Takes what a retained scan found out there as published (so a change removes the leftovers). */
  seed(mem: DiscoveryMemory, found: ReadonlyMap<string, PublishedComponents>): void {
    for (const objectId of this.objectIds(mem.desc)) {
      const comps = found.get(objectId);
      if (comps) mem.published.set(objectId, pack(comps));
    }
  }

  /** Publishes the device's discovery if its shape changed (always, `force`); returns the broker acks to wait for. */
  publish(mem: DiscoveryMemory, force: boolean): readonly Promise<unknown>[] {
    // The presence decides the shape: an unchanged one (same object, then same key) skips building every entity.
    if (!force && mem.presence === mem.keyedPresence) return NO_ACKS;
    const presence = presenceKey(mem.presence);
    if (!force && presence === mem.presenceKey) {
      mem.keyedPresence = mem.presence;
      return NO_ACKS;
    }
    const devices = haDevices(this.baseTopic, mem.desc, mem.presence);
    const shapeKey = createHash("sha1").update(JSON.stringify(devices)).digest("base64");
    if (!force && shapeKey === mem.shapeKey) {
      mem.presenceKey = presence;
      mem.keyedPresence = mem.presence;
      mem.candidateReadings = 0;
      return NO_ACKS;
    }
    // A new shape goes out once it held (the first one at once); its presence is not
    // remembered as seen, so the next reading checks again.
    if (!force && mem.shapeKey !== "") {
      if (shapeKey === mem.candidateShape) mem.candidateReadings++;
      else {
        mem.candidateShape = shapeKey;
        mem.candidateReadings = 1;
      }
      if (mem.candidateReadings < DISCOVERY_SETTLE_READINGS) return NO_ACKS;
    }
    mem.candidateReadings = 0;
    // Only count it as published when it actually went out: otherwise the next connect redoes it.
    if (!this.out.connected) return NO_ACKS;
    const acks: Promise<unknown>[] = [];
    mem.shapeKey = shapeKey;
    mem.presenceKey = presence;
    mem.keyedPresence = mem.presence;
    // Configured CAN nodes that have not answered yet keep their entities (no churn at startup).
    const live = new Set([...devices.map((d) => d.objectId), ...this.objectIds(mem.desc)]);
    for (const d of devices) {
      const prev = mem.published.get(d.objectId);
      const r = discoveryMessages(this.discovery, d, prev && unpack(prev));
      this.out.sendAll(r.messages, acks);
      mem.published.set(d.objectId, pack(r.published));
    }
    for (const [objectId, prev] of mem.published) {
      if (live.has(objectId)) continue;
      this.out.sendAll(removalMessages(this.discovery, objectId, unpack(prev)), acks);
      mem.published.delete(objectId);
    }
    return acks;
  }
}
