/**
 * Prometheus metrics of the hub, read from `hub.stats()` at scrape time so the relay's
 * hot path carries no metric calls. Aggregates only: per-device series would multiply by
 * the fleet size (thousands); per-device detail is in the JSON snapshot (snapshot.ts).
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { HubServer, HubStats } from "./hubServer.js";

/** Registers the hub's metrics on `registry`. Call once per registry. */
export function registerHubMetrics(registry: Registry, hub: HubServer): void {
  let cached: { at: number; stats: HubStats } | undefined;
  // One stats() per scrape, shared by every metric's collect().
  const stats = (): HubStats => {
    const now = Date.now();
    if (cached === undefined || now - cached.at > 500) cached = { at: now, stats: hub.stats() };
    return cached.stats;
  };
  const gauge = (name: string, help: string, read: (s: HubStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(stats()));
      },
    });
  const counter = (name: string, help: string, read: (s: HubStats) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        // The hub keeps the running totals; mirror them (they only grow).
        this.reset();
        this.inc(read(stats()));
      },
    });

  gauge("vesc2mqtt_hub_devices", "Devices registered with the hub", (s) => s.devices);
  gauge("vesc2mqtt_hub_clients", "VESC Tool clients attached to a device", (s) => s.clients);
  gauge("vesc2mqtt_hub_bridge_devices", "Hub devices the in-process bridge is polling", (s) => s.bridges);
  gauge("vesc2mqtt_hub_connections", "Open TCP connections to the hub", (s) => s.connections);
  gauge(
    "vesc2mqtt_hub_blocked_addresses",
    "Addresses blocked after failed logins",
    (s) => s.blockedAddresses,
  );
  gauge(
    "vesc2mqtt_hub_locked_ids",
    "Device ids locked after wrong passwords from many addresses",
    (s) => s.lockedIds,
  );
  gauge(
    "vesc2mqtt_hub_remembered_ids",
    "Unpinned device ids whose password is remembered",
    (s) => s.rememberedIds,
  );
  counter(
    "vesc2mqtt_hub_bytes_to_devices_total",
    "Bytes relayed from clients to devices",
    (s) => s.bytesToDevices,
  );
  counter(
    "vesc2mqtt_hub_bytes_to_clients_total",
    "Bytes relayed from devices to clients",
    (s) => s.bytesToClients,
  );
  counter("vesc2mqtt_hub_logins_total", "Successful VESC Tool logins", (s) => s.loginsOk);
  counter("vesc2mqtt_hub_registrations_total", "Successful device registrations", (s) => s.registrations);
  counter("vesc2mqtt_hub_login_failures_total", "Failed logins and registrations", (s) => s.loginFailures);
  counter(
    "vesc2mqtt_hub_rejected_connections_total",
    "Connections refused by caps or address blocking",
    (s) => s.rejectedConnections,
  );
  counter(
    "vesc2mqtt_hub_evicted_connections_total",
    "Connections closed before login to make room at the connection cap",
    (s) => s.evictedConnections,
  );
}
