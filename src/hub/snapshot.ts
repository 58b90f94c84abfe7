/**
 * The JSON the dashboard shows at `/api/hub`: hub totals and one row per device. Built
 * from `hub.stats()`; holds no password or hash. `null` hub → `{ enabled: false }`, so
 * the web layer can serve the route unconditionally.
 */
import type { DeviceLinkStats } from "./deviceLink.js";
import type { HubServer } from "./hubServer.js";

/** A device row: the link's own stats, with the bridge's sharing counters flattened and renamed. */
export interface HubSnapshotDevice extends Omit<DeviceLinkStats, "bridge"> {
  readonly bridgeRequestsSent?: number;
  readonly bridgeRepliesFromTool?: number;
  readonly bridgeRequestsBlocked?: number;
}

export type HubSnapshot =
  | { readonly enabled: false }
  | {
      readonly enabled: true;
      readonly time: string;
      readonly listening: { readonly host: string; readonly port: number } | null;
      readonly devices: number;
      readonly clients: number;
      readonly connections: number;
      readonly bytesToDevices: number;
      readonly bytesToClients: number;
      readonly loginsOk: number;
      readonly loginFailures: number;
      readonly rejectedConnections: number;
      readonly evictedConnections: number;
      readonly blockedAddresses: number;
      readonly lockedIds: number;
      readonly rememberedIds: number;
      readonly deviceList: readonly HubSnapshotDevice[];
    };

export function hubSnapshot(hub: HubServer | null | undefined): HubSnapshot {
  if (hub === null || hub === undefined) return { enabled: false };
  const s = hub.stats();
  return {
    enabled: true,
    time: new Date().toISOString(),
    listening: s.listening,
    devices: s.devices,
    clients: s.clients,
    connections: s.connections,
    bytesToDevices: s.bytesToDevices,
    bytesToClients: s.bytesToClients,
    loginsOk: s.loginsOk,
    loginFailures: s.loginFailures,
    rejectedConnections: s.rejectedConnections,
    evictedConnections: s.evictedConnections,
    blockedAddresses: s.blockedAddresses,
    lockedIds: s.lockedIds,
    rememberedIds: s.rememberedIds,
    deviceList: s.deviceList.map(({ bridge, ...d }) => ({
      ...d,
      ...(bridge !== undefined
        ? {
            bridgeRequestsSent: bridge.forwarded,
            bridgeRepliesFromTool: bridge.shadowed,
            bridgeRequestsBlocked: bridge.blocked,
          }
        : {}),
    })),
  };
}
