/**
 * LiveState: the dashboard's view of "now", kept from the bus — latest reading, status and
 * active alerts per device, plus a short log of recent alert changes. It also fans bus
 * events out to subscribers (the SSE streams) so the server listens to the bus once (the
 * web sink feeds it).
 */
import type { Alert } from "../model/bus.js";
import type { DeviceStatus, Reading } from "../model/reading.js";

export interface DeviceView {
  readonly deviceId: string;
  readonly status?: DeviceStatus;
  readonly reading?: Reading;
  /** Active alerts: the device's and its CAN BMS nodes' (those carry `canId`). */
  readonly alerts: Alert[];
}

export type LiveEvent =
  | { readonly type: "reading"; readonly data: Reading }
  | { readonly type: "status"; readonly data: DeviceStatus }
  | { readonly type: "alert"; readonly data: Alert };

type Listener = (event: LiveEvent) => void;

interface Entry {
  status?: DeviceStatus;
  reading?: Reading;
  /** By alertKey: a node's rule is not the device's. */
  alerts: Map<string, Alert>;
}

/** `rule` for the device's own alerts, `can<id>/rule` for a CAN BMS node's. */
const alertKey = (a: Alert): string => (a.canId === undefined ? a.rule : `can${a.canId}/${a.rule}`);

export class LiveState {
  private readonly devices = new Map<string, Entry>();
  private readonly listeners = new Set<Listener>();
  private readonly recent: Alert[] = [];

  /**
   * `statuses`: current status of every configured device (the bridge's pollers); merged
   * into snapshots so counters are fresh and configured devices show before any event.
   */
  constructor(private readonly statuses?: () => readonly DeviceStatus[]) {}

  reading(r: Reading): void {
    this.entry(r.deviceId).reading = r;
    this.emit({ type: "reading", data: r });
  }

  status(s: DeviceStatus): void {
    this.entry(s.deviceId).status = s;
    this.emit({ type: "status", data: s });
  }

  alert(a: Alert): void {
    const e = this.entry(a.deviceId);
    if (a.active) e.alerts.set(alertKey(a), a);
    else e.alerts.delete(alertKey(a));
    this.recent.push(a);
    if (this.recent.length > 100) this.recent.shift();
    this.emit({ type: "alert", data: a });
  }

  /** Drops every subscriber (the server is stopping). */
  close(): void {
    this.listeners.clear();
  }

  /**
   * Every known device, sorted by id. With `readingsOf`, only that device carries its
   * reading (a fleet dashboard needs statuses and alerts of all, readings of one).
   */
  snapshot(readingsOf?: string): DeviceView[] {
    for (const s of this.statuses?.() ?? []) this.entry(s.deviceId).status = s;
    return [...this.devices.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, e]) => ({
        deviceId: id,
        ...(e.status ? { status: e.status } : {}),
        ...(e.reading && (readingsOf === undefined || readingsOf === id) ? { reading: e.reading } : {}),
        alerts: [...e.alerts.values()],
      }));
  }

  /** The latest alert changes (on and off), oldest first. */
  recentAlerts(): Alert[] {
    return [...this.recent];
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private entry(deviceId: string): Entry {
    let e = this.devices.get(deviceId);
    if (!e) {
      e = { alerts: new Map() };
      this.devices.set(deviceId, e);
    }
    return e;
  }

  private emit(event: LiveEvent): void {
    for (const l of this.listeners) l(event);
  }
}
