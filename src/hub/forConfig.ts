/**
 * The hub inside `vesc2mqtt run`: starts a HubServer from `config.hub` and tells the bridge
 * which configured devices are reached through it in-process. A device is "on the embedded
 * hub" when its connection is `type: hub` with host `local` (or a loopback / the hub's own
 * listen address) and the hub's port; the bridge then polls it with hubLocalTransport
 * instead of a TCP login, and without the GET_CUSTOM_CONFIG courtesy handshake (its reply
 * holds secrets and the hub never lets the bridge send it).
 */
import type { Registry } from "prom-client";
import type { Config, ConnectionConfig } from "../config/schema.js";
import type { TransportFactory } from "../transport/transport.js";
import { type HubLogger, HubServer, type HubServerOptions } from "./hubServer.js";
import { hubLocalTransport } from "./localTransport.js";
import { registerHubMetrics } from "./metrics.js";

export interface EmbeddedHub {
  readonly hub: HubServer;
  readonly address: { readonly host: string; readonly port: number };
  /** The in-process transport for a device on this hub, or undefined for any other device. */
  transportFor(connection: ConnectionConfig): TransportFactory | undefined;
  stop(): Promise<void>;
}

export interface StartHubOptions {
  /** prom-client registry to add the hub metrics to (the metrics sink's). */
  readonly registry?: Registry;
  readonly logger?: HubLogger;
  /** Extra server options (tests: short timeouts). */
  readonly server?: Partial<HubServerOptions>;
}

const LOCAL_HOSTS = new Set(["local", "localhost", "127.0.0.1", "::1", "0.0.0.0", "::"]);

/** True when `connection` points at the hub described by `hub` (same port, local host). */
export function isOnEmbeddedHub(
  connection: ConnectionConfig,
  hub: Config["hub"],
  actualPort?: number,
): boolean {
  if (!hub.enabled || connection.type !== "hub") return false;
  const host = connection.host.toLowerCase();
  if (host === "local") return true;
  const port = actualPort ?? hub.port;
  return (LOCAL_HOSTS.has(host) || host === hub.host.toLowerCase()) && connection.port === port;
}

/** Starts the configured hub, or returns null when `config.hub.enabled` is false. */
export async function startHubForConfig(
  config: Config,
  options: StartHubOptions = {},
): Promise<EmbeddedHub | null> {
  const c = config.hub;
  if (!c.enabled) return null;
  const hub = new HubServer({
    host: c.host,
    port: c.port,
    onConflict: c.onConflict,
    // loadConfig resolved password_file / password_env into password (and refused a device without one).
    devices: c.devices.map((d) => ({ id: d.id, password: d.password ?? "" })),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    ...options.server,
  });
  const address = await hub.start();
  if (options.registry !== undefined) registerHubMetrics(options.registry, hub);
  return {
    hub,
    address,
    transportFor: (connection) =>
      connection.type === "hub" && isOnEmbeddedHub(connection, c, address.port)
        ? hubLocalTransport(hub, connection.hubId)
        : undefined,
    stop: () => hub.stop(),
  };
}
