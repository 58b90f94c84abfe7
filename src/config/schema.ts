/**
 * The configuration schema: one zod schema with defaults, the single source of truth for
 * `vesc2mqtt run --config FILE`. YAML keys are snake_case; load.ts converts them to
 * camelCase before parsing, so this schema (and `Config`) is camelCase, and error paths
 * are converted back to the user's snake_case spelling.
 */
import { z } from "zod";
import { type AnyTransportKind, TRANSPORT_KIND_LIST } from "../transport/kinds.js";
import { passwordSources, text } from "./fields.js";
import { deviceBatterySchema } from "../battery/config.js";

const LISTEN_PORT = "expected a number 0–65535 (0 = any free port)";

const listenPort = (def: number) =>
  z
    .number({ error: LISTEN_PORT })
    .int({ error: LISTEN_PORT })
    .min(0, { error: LISTEN_PORT })
    .max(65535, { error: LISTEN_PORT })
    .default(def);
const positive = (what: string) => z.number({ error: what }).positive({ error: what });
const nonNegative = (what: string) => z.number({ error: what }).min(0, { error: what });
const bool = () => z.boolean({ error: "expected true or false" });

/** Slug used in topics and unique_ids: must stay stable and topic-safe. */
export const DEVICE_ID_PATTERN = /^[a-z0-9_-]+$/;
const deviceId = z.string({ error: "expected a string of a-z, 0-9, _ or -" }).regex(DEVICE_ID_PATTERN, {
  error: "expected a string of a-z, 0-9, _ or - (used in topics and unique_ids)",
});

/** A device's `connection`: one variant per transport kind, each the row's own `config` schema. */
export function connectionSchemaOf<const K extends readonly [AnyTransportKind, ...AnyTransportKind[]]>(
  kinds: K,
) {
  const names = kinds.map((k) => k.type);
  const list = names.length < 2 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
  const variants = kinds.map((k) => k.config) as unknown as {
    -readonly [I in keyof K]: K[I] extends AnyTransportKind ? K[I]["config"] : never;
  };
  return z.discriminatedUnion("type", variants, { error: `expected type ${list}` });
}

export const connectionSchema = connectionSchemaOf(TRANSPORT_KIND_LIST);

function alertsShape<D extends boolean>(withDefaults: D) {
  const n = (def: number, what: string) => {
    const base = nonNegative(what);
    return withDefaults ? base.default(def) : base.optional();
  };
  const hysteresis = z.strictObject({
    voltage: n(0.02, "expected volts ≥ 0"),
    delta: n(0.005, "expected volts ≥ 0"),
    temperature: n(2, "expected °C ≥ 0"),
    soc: n(2, "expected percent ≥ 0"),
  });
  return {
    cellUnderVoltage: n(3.2, "expected volts ≥ 0"),
    cellOverVoltage: n(4.25, "expected volts ≥ 0"),
    cellDelta: n(0.05, "expected volts ≥ 0"),
    temperatureHigh: n(55, "expected °C"),
    socLow: n(15, "expected percent 0–100"),
    stale: withDefaults ? bool().default(true) : bool().optional(),
    hysteresis: withDefaults ? hysteresis.prefault({}) : hysteresis.partial().optional(),
  };
}

export const alertsSchema = z.strictObject(alertsShape(true));
/** Per-device overrides: same keys, nothing defaulted (absent = use the top-level value). */
export const alertOverridesSchema = z.strictObject(alertsShape(false));

export const canNodeSchema = z.strictObject({
  id: z
    .number({ error: "expected a CAN id 0–254" })
    .int({ error: "expected a CAN id 0–254" })
    .min(0, { error: "expected a CAN id 0–254" })
    .max(254, { error: "expected a CAN id 0–254" }),
  kind: z.enum(["bms", "motor"], { error: "expected bms or motor" }),
  name: text().optional(),
  /** Motor nodes: what to read; absent = values, setup, stats, refloat (each if the firmware has it). */
  groups: z
    .array(z.enum(["values", "setup", "stats", "refloat", "imu", "battery_cut"]), {
      error: "expected a list of values, setup, stats, refloat, imu, battery_cut",
    })
    .min(1, { error: "expected at least one group" })
    .optional(),
  /** Motor nodes: unit of the published speed; absent = kmh. */
  speedUnit: z.enum(["kmh", "mph"], { error: "expected kmh or mph" }).optional(),
});

/** One BMS sensor as the user sees it: a display name, or ignored (not applicable). */
const bmsSensorSchema = z.strictObject({ name: text().optional(), ignore: bool().optional() });
const SENSOR_NUMBER = "expected sensor numbers 1, 2, … as keys";

/** The device's own BMS: sensor names and ignores, stuck-sensor and frozen-data detection. */
export const bmsSensorsSchema = z.strictObject({
  /** Temperature sensors by 1-based number, e.g. `{ 4: { ignore: true }, 1: { name: "Cells top" } }`. */
  temperatures: z
    .record(z.string().regex(/^[1-9][0-9]{0,2}$/, { error: SENSOR_NUMBER }), bmsSensorSchema, {
      error: "expected { <sensor number 1, 2, …>: { name, ignore } }",
    })
    .default({}),
  /** A BMS reply unchanged this long marks the BMS data stale (0 = never). */
  staleAfterS: nonNegative("expected seconds ≥ 0").default(60),
  /** A sensor bit-identical this long (and over stuck_after_readings readings) while others move is stuck. */
  stuckAfterS: positive("expected seconds > 0").default(60),
  stuckAfterReadings: z
    .number({ error: "expected a whole number ≥ 2" })
    .int({ error: "expected a whole number ≥ 2" })
    .min(2, { error: "expected a whole number ≥ 2" })
    .default(10),
});

export const deviceSchema = z.strictObject({
  id: deviceId,
  /** Shown in Home Assistant; defaults to the id. */
  name: text().optional(),
  connection: connectionSchema,
  intervalS: z
    .number({ error: "expected seconds ≥ 0.1" })
    .min(0.1, { error: "expected seconds ≥ 0.1" })
    .default(5),
  requestTimeoutS: positive("expected seconds > 0").default(2),
  /**
   * Opt-in: true sends COMM_GET_CUSTOM_CONFIG after FW_VERSION, which makes the Express send
   * its WiFi and hub passwords over the link. Nothing needs it; "auto" (older configs) = off.
   */
  customConfigHandshake: z
    .union([z.literal("auto"), z.boolean()], { error: "expected auto, true or false" })
    .default(false),
  readBms: bool().default(true),
  /** A device with no reading for this many intervals is stale (HA shows it unavailable). */
  staleAfterIntervals: positive("expected a number > 0").default(3),
  /** How long to stay away after another client (VESC Tool) took the device. */
  yieldS: nonNegative("expected seconds ≥ 0").default(600),
  /** CAN nodes to read through the device: opt-in only, never scanned. */
  can: z.array(canNodeSchema, { error: "expected a list of { id, kind }" }).default([]),
  alerts: alertOverridesSchema.prefault({}),
  bms: bmsSensorsSchema.prefault({}),
  /** The bridge's battery estimates (docs/battery.md): NMC with the capacity learned unless set; false = off. */
  battery: deviceBatterySchema.prefault({}),
});

const embeddedSchema = z.preprocess(
  (v) => (typeof v === "boolean" ? { enabled: v } : v),
  z.strictObject({
    enabled: bool().default(false),
    host: text().default("127.0.0.1"),
    port: listenPort(1883),
  }),
);

const topicSegment = (def: string) =>
  z
    .string({ error: "expected a topic without + # or leading/trailing /" })
    .regex(/^[^+#/\s][^+#\s]*[^+#/\s]$|^[^+#/\s]$/, {
      error: "expected a topic without + # or leading/trailing /",
    })
    .default(def);

export const mqttSchema = z.strictObject({
  url: z
    .string({ error: "expected a URL like mqtt://host:1883" })
    .regex(/^(mqtt|mqtts|ws|wss):\/\/[^\s]+$/, {
      error: "expected a URL starting with mqtt://, mqtts://, ws:// or wss://",
    })
    .default("mqtt://127.0.0.1:1883"),
  username: text().optional(),
  ...passwordSources,
  clientId: text().default("vesc2mqtt"),
  baseTopic: topicSegment("vesc2mqtt"),
  discoveryPrefix: topicSegment("homeassistant"),
  discoveryMode: z.enum(["device", "entity"], { error: "expected device or entity" }).default("device"),
  /** Publish a device's state only when it changed (plus every heartbeatS). */
  publishOnChange: bool().default(false),
  heartbeatS: positive("expected seconds > 0").default(60),
  /** Set Home Assistant's discovery (false = state only). */
  discovery: bool().default(true),
  embedded: embeddedSchema.prefault({}),
});

export const webSchema = z.strictObject({
  enabled: bool().default(true),
  host: text().default("127.0.0.1"),
  port: listenPort(8080),
  /** Optional access token; env VESC2MQTT_WEB_TOKEN overrides. */
  token: z.string({ error: "expected a string or null" }).min(1).nullable().default(null),
  /**
   * Behind Home Assistant's ingress proxy: requests from `trusted_proxy` skip the token
   * (Home Assistant has authenticated the user); any other address needs the token, or is
   * refused when there is none.
   */
  ingress: z
    .strictObject({
      enabled: bool().default(false),
      trustedProxy: text("expected an IP address").default("172.30.32.2"),
    })
    .prefault({}),
  /**
   * Host names served without a token besides IP addresses, localhost and this machine's
   * name ("name", ".domain" for it and its subdomains, "*" for any): a DNS-rebinding page
   * can only reach the dashboard under a name not listed here.
   */
  allowedHosts: z.array(text(), { error: "expected a list of host names" }).default([]),
  /** Concurrent live dashboards (`/api/events` streams); more are refused with 503. */
  maxStreams: z
    .number({ error: "expected a whole number ≥ 1" })
    .int({ error: "expected a whole number ≥ 1" })
    .min(1, { error: "expected a whole number ≥ 1" })
    .default(64),
});

export const historySchema = z.strictObject({
  enabled: bool().default(true),
  /** null = <data_dir>/history.db (load.ts fills it in). */
  path: z.string({ error: "expected a path or null" }).min(1).nullable().default(null),
  retentionDays: positive("expected days > 0").default(30),
});

export const metricsSchema = z.strictObject({ enabled: bool().default(true) });

export const hubDeviceSchema = z.strictObject({ id: text(), ...passwordSources });

export const hubSchema = z.strictObject({
  enabled: bool().default(false),
  host: text().default("0.0.0.0"),
  port: listenPort(65101),
  onConflict: z.enum(["replace", "refuse"], { error: "expected replace or refuse" }).default("replace"),
  devices: z.array(hubDeviceSchema, { error: "expected a list of { id, password_env }" }).default([]),
});

export const configSchema = z
  .strictObject({
    logLevel: z
      .enum(["error", "warn", "info", "debug"], { error: "expected error, warn, info or debug" })
      .default("info"),
    dataDir: text().default("./data"),
    mqtt: mqttSchema.prefault({}),
    devices: z.array(deviceSchema, { error: "expected a list of devices" }).default([]),
    web: webSchema.prefault({}),
    history: historySchema.prefault({}),
    metrics: metricsSchema.prefault({}),
    alerts: alertsSchema.prefault({}),
    hub: hubSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.devices.forEach((d, i) => {
      if (seen.has(d.id))
        ctx.addIssue({
          code: "custom",
          path: ["devices", i, "id"],
          message: `duplicate device id "${d.id}"`,
        });
      seen.add(d.id);
      const ids = new Set<number>();
      d.can.forEach((n, j) => {
        if (ids.has(n.id))
          ctx.addIssue({
            code: "custom",
            path: ["devices", i, "can", j, "id"],
            message: `duplicate CAN id ${n.id}`,
          });
        ids.add(n.id);
      });
    });
    if (c.mqtt.baseTopic === c.mqtt.discoveryPrefix)
      ctx.addIssue({
        code: "custom",
        path: ["mqtt", "baseTopic"],
        message: "must differ from discovery_prefix (Home Assistant would read our state as discovery)",
      });
  });

/** The loaded configuration (camelCase). After loadConfig(), passwords are resolved into `password`. */
export type Config = z.output<typeof configSchema>;
export type DeviceConfig = Config["devices"][number];
export type ConnectionConfig = DeviceConfig["connection"];
export type MqttConfig = Config["mqtt"];
export type AlertsConfig = Config["alerts"];
export type AlertOverrides = DeviceConfig["alerts"];
export type CanNodeConfig = DeviceConfig["can"][number];
export type WebConfig = Config["web"];
export type HistoryConfig = Config["history"];
export type HubConfig = Config["hub"];
