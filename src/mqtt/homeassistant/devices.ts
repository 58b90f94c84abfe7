/**
 * Pure: which Home Assistant devices and entities a configured VESC device has, given the
 * readings seen so far. `updatePresence` folds a reading into the remembered shape (the
 * presence rules live in entities.ts); `haDevices` turns the shape into HaDevice models.
 */
import type { CanNodeReading, DeviceInfo, Reading } from "../../model/reading.js";
import {
  bmsAvailabilityTopic,
  canStateTopic,
  deviceAvailabilityTopic,
  deviceConnectionTopic,
  deviceStateTopic,
} from "../topics.js";
import { alertEntities, alertsTopic } from "./alerts.js";
import type { HaDevice } from "./discovery.js";
import { haObjectId } from "./discovery.js";
import { type BmsPresence, bmsEntities, bmsPresence } from "./bmsEntities.js";
import { type EntityDef, identityEntities, linkEntities } from "./entities.js";
import { motorEntities, motorPresence } from "./motorEntities.js";

export interface CanPresence {
  readonly device?: DeviceInfo;
  readonly bms?: BmsPresence;
  readonly motor?: readonly string[];
}

export interface DevicePresence {
  readonly device?: DeviceInfo;
  readonly bms?: BmsPresence;
  readonly can: ReadonlyMap<number, CanPresence>;
}

export const EMPTY_PRESENCE: DevicePresence = { can: new Map() };

/**
 * Folds one reading into the shape. Missing parts (a failed CAN read, no BMS) keep what was
 * there. Returns `prev` itself when the reading changes nothing (the common case, once per
 * device per second at fleet scale), so callers can skip all discovery work on identity.
 */
export function updatePresence(prev: DevicePresence, r: Reading): DevicePresence {
  let can: Map<number, CanPresence> | undefined; // copied on the first change only
  for (const node of r.can ? Object.values(r.can) : NO_NODES) {
    if (node.error !== undefined) continue;
    const old = (can ?? prev.can).get(node.canId);
    const next: CanPresence = {
      device: node.device ?? old?.device,
      bms: node.bms ? bmsPresence(node.bms, old?.bms) : old?.bms,
      motor:
        node.values || node.kind === "motor"
          ? motorPresence(node.values ?? {}, old?.motor, undefined, node)
          : old?.motor,
    };
    if (old && sameDevice(next.device, old.device) && next.bms === old.bms && next.motor === old.motor)
      continue;
    can ??= new Map(prev.can);
    can.set(node.canId, next);
  }
  const bms = r.bms ? bmsPresence(r.bms, prev.bms) : prev.bms;
  if (!can && bms === prev.bms && sameDevice(r.device, prev.device)) return prev;
  return { device: r.device, bms, can: can ?? prev.can };
}

const NO_NODES: readonly CanNodeReading[] = [];

/** A reconnect brings a new DeviceInfo object for the same device. */
function sameDevice(a: DeviceInfo | undefined, b: DeviceInfo | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));
}

/** A string that changes exactly when the presence does: a cheap gate before rebuilding discovery. */
export function presenceKey(p: DevicePresence): string {
  return JSON.stringify([p.device, p.bms, [...p.can.entries()]]);
}

export interface DeviceDescription {
  readonly id: string;
  readonly name: string;
  /** Configured CAN nodes only: nothing else is ever shown. */
  readonly can: readonly { readonly id: number; readonly kind: "bms" | "motor"; readonly name?: string }[];
  /** Add the alert entities (alerts.ts) to the Express device (default true). */
  readonly alerts?: boolean;
  /** Names of the Express's BMS temperature sensors by 1-based number (config `bms.temperatures`). */
  readonly temperatureNames?: ReadonlyMap<number, string>;
}

const serialOf = (d?: DeviceInfo) => (d && /[1-9a-f]/.test(d.uuid) ? d.uuid : undefined);

/** The Express (always, with link diagnostics) plus one HA device per configured CAN node that has answered. */
export function haDevices(base: string, desc: DeviceDescription, p: DevicePresence): HaDevice[] {
  const objectId = haObjectId(base, desc.id);
  const common = {
    connectionTopic: deviceConnectionTopic(base, desc.id),
    availabilityTopic: deviceAvailabilityTopic(base, desc.id),
    alertsTopic: alertsTopic(base, desc.id),
  };
  const entities: EntityDef[] = [...linkEntities()];
  if (desc.alerts !== false) entities.push(...alertEntities());
  if (p.device) entities.push(...identityEntities());
  if (p.bms) entities.push(...bmsEntities(p.bms, desc.temperatureNames));
  const out: HaDevice[] = [
    {
      objectId,
      name: desc.name,
      model: p.device?.hardware,
      firmware: p.device?.firmware,
      serialNumber: serialOf(p.device),
      stateTopic: deviceStateTopic(base, desc.id),
      bmsAvailabilityTopic: bmsAvailabilityTopic(base, desc.id),
      entities,
      ...common,
    },
  ];
  for (const node of desc.can) {
    const np = p.can.get(node.id);
    if (!np) continue;
    const nodeEntities: EntityDef[] = [];
    // A CAN BMS node has its own alerts document (the same rules as the device's own BMS).
    const nodeAlerts = node.kind === "bms" && np.bms !== undefined && desc.alerts !== false;
    if (nodeAlerts) nodeEntities.push(...alertEntities());
    if (np.device) nodeEntities.push(...identityEntities());
    if (np.bms) nodeEntities.push(...bmsEntities(np.bms));
    if (np.motor) nodeEntities.push(...motorEntities(np.motor));
    if (nodeEntities.length === 0) continue;
    out.push({
      objectId: haObjectId(base, desc.id, node.id),
      name: node.name ?? `${desc.name} CAN ${node.id}`,
      model: np.device?.hardware ?? (node.kind === "motor" ? "VESC motor controller" : "VESC BMS"),
      firmware: np.device?.firmware,
      serialNumber: serialOf(np.device),
      viaDevice: objectId,
      stateTopic: canStateTopic(base, desc.id, node.id),
      bmsAvailabilityTopic: bmsAvailabilityTopic(base, desc.id, node.id),
      entities: nodeEntities,
      ...common,
      alertsTopic: alertsTopic(base, desc.id, node.id),
    });
  }
  return out;
}
