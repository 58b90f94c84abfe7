/**
 * Home Assistant add-on options → a vesc2mqtt config. The Supervisor keeps the user's
 * options in /data/options.json (already checked against config.yaml's schema, which allows
 * only two levels of nesting, so CAN nodes are one string and hub devices a top-level list).
 * The broker comes from the options' mqtt.url when given, else from the Supervisor's MQTT
 * service (the Mosquitto add-on). Secrets never go into the generated config: they are
 * returned as environment variables the config names (password_env) or load.ts reads.
 */
import { MQTT_PASSWORD_ENV, WEB_TOKEN_ENV } from "../config/load.js";

/** What the Supervisor's `GET /services/mqtt` returns in `data`. */
export interface SupervisorMqtt {
  readonly host: string;
  readonly port: number;
  readonly ssl?: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly protocol?: string;
}

/** The ports the add-on's config.yaml declares inside the container. */
export const ADDON_WEB_PORT = 8099;
export const ADDON_HUB_PORT = 65101;
export const ADDON_DATA_DIR = "/data";
/** The Supervisor's address on the hassio network: its ingress proxy connects from here. */
export const SUPERVISOR_PROXY = "172.30.32.2";

export class AddonOptionsError extends Error {
  override readonly name = "AddonOptionsError";
}

export interface AddonConfig {
  /** snake_case, as in vesc2mqtt.yaml; no secrets. */
  readonly config: Record<string, unknown>;
  /** Secrets the config refers to, to put in the bridge's environment. */
  readonly env: Record<string, string>;
  /** Where the broker came from, for one log line. */
  readonly broker: "options" | "supervisor";
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Non-empty trimmed string, or undefined (HA stores cleared optional fields as "" or drops them). */
function str(o: Json, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new AddonOptionsError(`${key}: expected text`);
  const t = v.trim();
  return t === "" ? undefined : t;
}

function num(o: Json, key: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new AddonOptionsError(`${key}: expected a number`);
  return v;
}

function flag(o: Json, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw new AddonOptionsError(`${key}: expected true or false`);
  return v;
}

function section(o: Json, key: string): Json {
  const v = o[key];
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new AddonOptionsError(`${key}: expected a group of options`);
  return v;
}

function list(o: Json, key: string): Json[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every(isObject)) throw new AddonOptionsError(`${key}: expected a list`);
  return v;
}

/** Copies the defined values only, so the schema's defaults apply to the rest. */
function defined(entries: Record<string, unknown>): Json {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
}

/** "84:motor, 10:bms:Rear pack" → [{ id: 84, kind: "motor" }, { id: 10, kind: "bms", name: "Rear pack" }]. */
export function parseCanNodes(text: string | undefined, where: string): Json[] {
  if (text === undefined) return [];
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((item) => {
      const m = /^(\d{1,3})\s*:\s*(bms|motor)(?:\s*:\s*(.+))?$/.exec(item);
      if (!m)
        throw new AddonOptionsError(`${where}: "${item}" is not "<CAN id>:motor" or "<CAN id>:bms[:name]"`);
      return defined({ id: Number(m[1]), kind: m[2], name: m[3]?.trim() });
    });
}

function deviceConfig(d: Json, i: number, env: Record<string, string>): Json {
  const where = `devices[${i}]`;
  const type = str(d, "type") ?? "tcp";
  let connection: Json;
  if (type === "tcp") {
    const host = str(d, "host");
    if (!host) throw new AddonOptionsError(`${where}.host: required for type tcp`);
    connection = defined({ type, host, port: num(d, "port") });
  } else if (type === "hub") {
    const host = str(d, "host");
    const hubId = str(d, "hub_id");
    const password = str(d, "hub_password");
    if (!host) throw new AddonOptionsError(`${where}.host: required for type hub`);
    if (!hubId) throw new AddonOptionsError(`${where}.hub_id: required for type hub`);
    if (!password) throw new AddonOptionsError(`${where}.hub_password: required for type hub`);
    const name = `VESC2MQTT_DEVICE_${i}_HUB_PASSWORD`;
    env[name] = password;
    connection = defined({ type, host, port: num(d, "port"), hub_id: hubId, password_env: name });
  } else if (type === "serial") {
    const path = str(d, "serial_port");
    if (!path) throw new AddonOptionsError(`${where}.serial_port: required for type serial`);
    connection = defined({ type, path, baud: num(d, "baud") });
  } else {
    throw new AddonOptionsError(`${where}.type: expected tcp, hub or serial`);
  }
  return defined({
    id: str(d, "id"),
    name: str(d, "name"),
    connection,
    interval_s: num(d, "interval_s"),
    read_bms: flag(d, "read_bms"),
    can: parseCanNodes(str(d, "can"), `${where}.can`),
  });
}

function mqttConfig(o: Json, supervisor: SupervisorMqtt | undefined, env: Record<string, string>) {
  const m = section(o, "mqtt");
  const common = defined({
    base_topic: str(m, "base_topic"),
    discovery_prefix: str(m, "discovery_prefix"),
    discovery: flag(m, "discovery"),
    publish_on_change: flag(m, "publish_on_change"),
    heartbeat_s: num(m, "heartbeat_s"),
    client_id: str(m, "client_id"),
  });
  const url = str(m, "url");
  if (url) {
    const password = str(m, "password");
    if (password) env[MQTT_PASSWORD_ENV] = password;
    return {
      mqtt: { url, ...defined({ username: str(m, "username") }), ...common },
      broker: "options" as const,
    };
  }
  if (!supervisor)
    throw new AddonOptionsError(
      "no MQTT broker: install and start the Mosquitto broker add-on, or set mqtt.url (with username and password)",
    );
  if (supervisor.password) env[MQTT_PASSWORD_ENV] = supervisor.password;
  const host = supervisor.host.includes(":") ? `[${supervisor.host}]` : supervisor.host;
  return {
    mqtt: {
      url: `${supervisor.ssl ? "mqtts" : "mqtt"}://${host}:${supervisor.port}`,
      ...defined({ username: supervisor.username || undefined }),
      ...common,
    },
    broker: "supervisor" as const,
  };
}

export interface AddonPlacement {
  /** Folder for history and state (the add-on's /data). */
  readonly dataDir?: string;
  /** Where the dashboard listens: the ingress proxy reaches the container on its hassio network address. */
  readonly webHost?: string;
  readonly webPort?: number;
}

/** Converts the add-on's options (and the Supervisor's broker, if any) into a vesc2mqtt config. */
export function addonConfig(
  options: unknown,
  supervisor: SupervisorMqtt | undefined,
  placement: AddonPlacement = {},
): AddonConfig {
  if (!isObject(options)) throw new AddonOptionsError("options: expected a JSON object");
  const env: Record<string, string> = {};
  const { mqtt, broker } = mqttConfig(options, supervisor, env);
  const devices = list(options, "devices").map((d, i) => deviceConfig(d, i, env));

  const token = str(options, "web_token");
  if (token) env[WEB_TOKEN_ENV] = token;

  const hub = section(options, "hub");
  const hubDevices = list(options, "hub_devices").map((d, i) => {
    const password = str(d, "password");
    if (!password) throw new AddonOptionsError(`hub_devices[${i}].password: required`);
    const name = `VESC2MQTT_HUB_DEVICE_${i}_PASSWORD`;
    env[name] = password;
    return { id: str(d, "id"), password_env: name };
  });

  const alerts = section(options, "alerts");
  const config: Json = {
    log_level: str(options, "log_level") ?? "info",
    data_dir: placement.dataDir ?? ADDON_DATA_DIR,
    mqtt,
    devices,
    web: {
      enabled: true,
      host: placement.webHost ?? "0.0.0.0",
      port: placement.webPort ?? ADDON_WEB_PORT,
      ingress: { enabled: true, trusted_proxy: SUPERVISOR_PROXY },
    },
    history: defined({
      enabled: flag(options, "history"),
      retention_days: num(options, "history_retention_days"),
    }),
    metrics: defined({ enabled: flag(options, "metrics") }),
    alerts: defined({
      cell_under_voltage: num(alerts, "cell_under_voltage"),
      cell_over_voltage: num(alerts, "cell_over_voltage"),
      cell_delta: num(alerts, "cell_delta"),
      temperature_high: num(alerts, "temperature_high"),
      soc_low: num(alerts, "soc_low"),
    }),
    hub: {
      enabled: flag(hub, "enabled") ?? false,
      host: "0.0.0.0",
      port: ADDON_HUB_PORT,
      ...defined({ on_conflict: str(hub, "on_conflict") }),
      devices: hubDevices,
    },
  };
  return { config, env, broker };
}
