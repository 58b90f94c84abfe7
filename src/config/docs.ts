/**
 * Generates docs/configuration.md from the config schema, so the reference cannot drift:
 * types, allowed values and defaults come from the schema (via zod's JSON Schema), the
 * prose from KEY_DOCS below. Every schema key needs an entry and every entry a key, or
 * rendering throws. `npm run docs:config` rewrites the file; a test fails when it is stale.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type AnyTransportKind, TRANSPORT_KIND_LIST } from "../transport/kinds.js";
import { PASSWORD_NOTE } from "./fields.js";
import { MQTT_PASSWORD_ENV, WEB_TOKEN_ENV } from "./load.js";
import { configSchema } from "./schema.js";

/** Where the generated reference lives, relative to the repository root. */
export const CONFIG_DOC_PATH = "docs/configuration.md";

/**
 * One line of prose per key, by its snake_case path (`[]` = each list item, `<n>` = each
 * map key). A key listed in SUMMARISED is described as a whole and its children are not listed.
 */
export const KEY_DOCS: Readonly<Record<string, string>> = {
  log_level: "How much goes to stderr.",
  data_dir: "Folder for the history database and other state.",
  mqtt: "The broker the bridge publishes to, and Home Assistant discovery.",
  "mqtt.url": "Broker URL: `mqtt://`, `mqtts://`, `ws://` or `wss://`.",
  "mqtt.username": "Broker user name, if the broker wants one.",
  "mqtt.password": `Broker password inline; ${PASSWORD_NOTE}. The environment variable \`${MQTT_PASSWORD_ENV}\` overrides all three.`,
  "mqtt.password_file": "File holding the broker password (a trailing newline is not part of it).",
  "mqtt.password_env": "Environment variable holding the broker password.",
  "mqtt.client_id":
    "MQTT client id; must be unique per bridge (a broker drops the older of two clients with one id).",
  "mqtt.base_topic":
    "Root of all state topics (`<base_topic>/<device>/state`); must differ from `discovery_prefix`.",
  "mqtt.discovery_prefix": "Home Assistant's discovery prefix.",
  "mqtt.discovery_mode":
    "`device`: one discovery config per device (Home Assistant 2024.11 or later); `entity`: one per entity, for older Home Assistant.",
  "mqtt.publish_on_change":
    "`true`: publish a device's state only when it changed, plus every `heartbeat_s`.",
  "mqtt.heartbeat_s": "With `publish_on_change`, the longest gap between two state publishes.",
  "mqtt.discovery": "`false`: publish state only, no Home Assistant discovery.",
  "mqtt.embedded":
    "Start a built-in MQTT broker (aedes) in the bridge; `embedded: true` is shorthand for `enabled: true`.",
  "mqtt.embedded.enabled": "Start the built-in broker.",
  "mqtt.embedded.host": "Address the built-in broker listens on.",
  "mqtt.embedded.port": "Port of the built-in broker (0 = any free port).",
  devices: "The devices this bridge reads, each over one persistent connection.",
  "devices[].id": "Used in topics and Home Assistant unique_ids, so keep it stable; unique per bridge.",
  "devices[].name": "Device name in Home Assistant (default: the id).",
  "devices[].connection": "How to reach the device.",
  // One entry per key of the transport table's connection schemas, from the rows' own docs.
  ...transportKeyDocs("devices[].connection", TRANSPORT_KIND_LIST),
  "devices[].interval_s": "Poll interval in seconds.",
  "devices[].request_timeout_s": "How long to wait for each reply.",
  "devices[].custom_config_handshake":
    "Opt-in: `true` sends COMM_GET_CUSTOM_CONFIG after COMM_FW_VERSION, which makes the Express send its WiFi and hub passwords over the link (the reply is discarded unread; nothing needs it). `auto`, from older configs, means off.",
  "devices[].read_bms": "Read the device's own BMS.",
  "devices[].stale_after_intervals":
    "No reading for this many intervals: the device is stale and unavailable in Home Assistant.",
  "devices[].yield_s": "After another client (VESC Tool) took the device, stay away this long.",
  "devices[].can":
    "CAN nodes to read through the device with COMM_FORWARD_CAN. Only listed nodes are read; the bus is never scanned.",
  "devices[].can[].id": "CAN id of the node.",
  "devices[].can[].kind": "`motor`: a motor controller's values; `bms`: a CAN BMS.",
  "devices[].can[].name": "Name of the node in Home Assistant.",
  "devices[].can[].groups":
    "Motor nodes: what to read, of `values`, `setup`, `stats`, `refloat`, `imu`, `battery_cut`. Absent: `values`, `setup`, `stats` and `refloat`, each only where the firmware (or package) has it. See [ride](ride.md).",
  "devices[].can[].speed_unit": "Motor nodes: the unit of the published speed, `kmh` (when absent) or `mph`.",
  "devices[].alerts":
    "Per-device overrides of the top-level `alerts` keys (same names; absent = the top-level value).",
  "devices[].battery":
    "The battery values the bridge computes itself (SOC, energy counters, capacity, runtime, cell health). See [battery](battery.md).",
  "devices[].battery.enabled":
    "Compute the battery values; `battery: false` is shorthand for `enabled: false` (no estimates, entities or stored state).",
  "devices[].battery.chemistry":
    "Cell chemistry, which picks the built-in open-circuit-voltage curve; `custom` needs `ocv`.",
  "devices[].battery.capacity_ah":
    "Rated capacity in Ah; learned from charge and discharge spans when left out.",
  "devices[].battery.ocv":
    "`[soc %, cell volts at rest]` points, SOC and volts both rising; required for `custom`, replaces the built-in curve otherwise.",
  "devices[].battery.rest_current_a":
    "A current at or below this (in A) counts as rest (default 0.5 A, or C/50 when larger).",
  "devices[].battery.rest_minutes": "Rest this long (minutes) before the voltage curve re-anchors the SOC.",
  "devices[].bms":
    "The device's own BMS: sensor names, ignored sensors, stuck-sensor and frozen-data detection.",
  "devices[].bms.temperatures":
    "Temperature sensors by 1-based number, e.g. `{ 1: { name: Cells top }, 4: { ignore: true } }`.",
  "devices[].bms.temperatures.<n>.name": "Display name of the sensor.",
  "devices[].bms.temperatures.<n>.ignore": "`true`: the sensor is not fitted; no entity, no alerts.",
  "devices[].bms.stale_after_s": "A BMS reply unchanged this long marks the BMS data frozen (0 = never).",
  "devices[].bms.stuck_after_s":
    "A sensor bit-identical this long (and over `stuck_after_readings` readings) while the others move is stuck.",
  "devices[].bms.stuck_after_readings":
    "Readings a sensor must stay bit-identical before it counts as stuck.",
  web: "The dashboard, its API and `/metrics` (read-only). See [security](security.md).",
  "web.enabled": "Serve the dashboard.",
  "web.host": "Listen address; `0.0.0.0` to reach it from the LAN (then set a token).",
  "web.port": "Listen port (0 = any free port).",
  "web.token": `Access token for every page and API; the environment variable \`${WEB_TOKEN_ENV}\` overrides it.`,
  "web.ingress":
    "Behind Home Assistant's ingress proxy: requests from `trusted_proxy` skip the token (Home Assistant has authenticated the user); any other address needs the token, or is refused when there is none.",
  "web.ingress.enabled": "Serve under Home Assistant's ingress.",
  "web.ingress.trusted_proxy": "Address of the ingress proxy.",
  "web.allowed_hosts":
    'Host names served without a token besides IP addresses, `localhost` and this machine\'s name (`name`, `.domain` for it and its subdomains, `"*"` for any).',
  "web.max_streams": "Concurrent live dashboards (`/api/events` streams); more are refused with 503.",
  history: "Every reading in one SQLite file. See [history](history.md).",
  "history.enabled": "Store readings and alerts.",
  "history.path": "Database file; `null` = `<data_dir>/history.db`.",
  "history.retention_days": "Rows older than this are deleted (at start and every hour).",
  metrics: "Prometheus metrics at `/metrics`.",
  "metrics.enabled": "Serve `/metrics`.",
  alerts: "Alert limits for every device. See [dashboard](dashboard.md#alerts).",
  "alerts.cell_under_voltage": "Volts: any cell below.",
  "alerts.cell_over_voltage": "Volts: any cell above.",
  "alerts.cell_delta": "Volts: highest minus lowest cell.",
  "alerts.temperature_high": "°C: any BMS temperature sensor.",
  "alerts.soc_low": "Percent: SOC below, when the BMS reports SOC.",
  "alerts.stale": "Alert while a device's link is stale or offline.",
  "alerts.hysteresis":
    "How far a value must come back before its alert clears, so a value at the limit does not flap.",
  "alerts.hysteresis.voltage": "Volts, for the cell voltage alerts.",
  "alerts.hysteresis.delta": "Volts, for `cell_delta`.",
  "alerts.hysteresis.temperature": "°C, for `temperature_high`.",
  "alerts.hysteresis.soc": "Percent, for `soc_low`.",
  hub: "A private VESC Hub inside the bridge. See [hub](hub.md).",
  "hub.enabled": "Run the hub.",
  "hub.host": "Listen address.",
  "hub.port": "Listen port (0 = any free port).",
  "hub.on_conflict":
    "A second VESC Tool for one device: `replace` gives it the device (as the public hub does), `refuse` keeps the first.",
  "hub.devices":
    "Pinned devices: only these ids may register, each with its password. Empty = the first registration of an id sets its password.",
  "hub.devices[].id": "Hub id of the device (no `:`).",
  "hub.devices[].password": `Password inline; ${PASSWORD_NOTE} (one is required).`,
  "hub.devices[].password_file": "File holding the password.",
  "hub.devices[].password_env": "Environment variable holding the password.",
};

/**
 * The `connection` keys' lines from the transport rows: `type` lists each kind's summary;
 * a key several kinds share gets one line when they describe it alike, else one sentence
 * per kind. Throws when a row's docs and its config schema name different keys.
 */
export function transportKeyDocs(prefix: string, kinds: readonly AnyTransportKind[]): Record<string, string> {
  for (const k of kinds) {
    const inSchema = Object.keys(k.config.shape).filter((key) => key !== "type");
    const inDocs = Object.keys(k.docs.keys);
    const undocumented = inSchema.filter((key) => !inDocs.includes(key));
    const unknown = inDocs.filter((key) => !inSchema.includes(key));
    if (undocumented.length > 0 || unknown.length > 0)
      throw new Error(
        `transport "${k.type}": docs.keys must name exactly its config keys (undocumented: ${undocumented.join(", ") || "none"}; not in config: ${unknown.join(", ") || "none"})`,
      );
  }
  const docs: Record<string, string> = {
    [`${prefix}.type`]: `${kinds.map((k) => `\`${k.type}\`: ${k.docs.summary}`).join("; ")}.`,
  };
  for (const key of new Set(kinds.flatMap((k) => Object.keys(k.docs.keys)))) {
    const having = kinds.filter((k) => k.docs.keys[key] !== undefined);
    const texts = new Set(having.map((k) => k.docs.keys[key]));
    docs[`${prefix}.${snakeOf(key)}`] =
      texts.size === 1
        ? (having[0]?.docs.keys[key] ?? "")
        : having.map((k) => `\`${k.type}\`: ${k.docs.keys[key]}`).join(" ");
  }
  return docs;
}

/** Keys described as a whole: their children repeat another section. */
export const SUMMARISED: ReadonlySet<string> = new Set(["devices[].alerts"]);

/** The parts of JSON Schema that zod emits for this schema. */
interface Json {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  properties?: Record<string, Json>;
  required?: string[];
  items?: Json | false;
  prefixItems?: Json[];
  additionalProperties?: Json | boolean;
  anyOf?: Json[];
  oneOf?: Json[];
}

interface Row {
  readonly path: string;
  readonly type: string;
  readonly def: string;
}

// A declaration, not a const: KEY_DOCS calls it (through transportKeyDocs) above this line.
function snakeOf(k: string): string {
  return k.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}
const code = (v: unknown) => `\`${typeof v === "string" ? v : JSON.stringify(v)}\``;
const isObject = (s: Json) => s.type === "object" && s.properties !== undefined;
/** zod's JSON Schema bounds "int" by Number.MAX_SAFE_INTEGER: not a limit anyone sets. */
const realMax = (s: Json) =>
  s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;

function typeText(s: Json): string {
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.every(isObject)) return "object";
  if (alts) return alts.map(typeText).join(" \\| ");
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return s.enum.map(code).join(" \\| ");
  if (s.type === "null") return "`null`";
  if (s.type === "array" && s.prefixItems) return `[${s.prefixItems.map(typeText).join(", ")}]`;
  if (s.type === "array")
    return `list of ${s.items && isObject(s.items) ? "objects" : `${typeText(s.items || {})}`}`;
  if (s.type === "object") return s.properties ? "object" : "map";
  if (s.type === "number" || s.type === "integer") {
    const kind = s.type === "integer" ? "whole number" : "number";
    const max = realMax(s);
    if (s.minimum !== undefined && max !== undefined) return `${kind} ${s.minimum}–${max}`;
    if (s.minimum !== undefined) return `${kind} ≥ ${s.minimum}`;
    if (s.exclusiveMinimum !== undefined) return `${kind} > ${s.exclusiveMinimum}`;
    return kind;
  }
  if (s.type === "string" && s.pattern === "^[a-z0-9_-]+$") return "`a-z 0-9 _ -`";
  return s.type ?? "any";
}

function defaultText(s: Json, required: boolean): string {
  if (required) return "required";
  if (s.default === undefined) return "–";
  if (typeof s.default === "object" && s.default !== null && !Array.isArray(s.default)) return "";
  return code(s.default);
}

/** Rows for an object's keys, depth first; a discriminated union's variants are merged. */
function walk(s: Json, prefix: string, rows: Row[]): void {
  if (s.oneOf?.every(isObject)) {
    walkUnion(s.oneOf, prefix, rows);
    return;
  }
  for (const [key, child] of Object.entries(s.properties ?? {})) {
    const path = `${prefix}${snakeOf(key)}`;
    rows.push({ path, type: typeText(child), def: defaultText(child, s.required?.includes(key) ?? false) });
    if (SUMMARISED.has(path)) continue;
    if (isObject(child) || child.oneOf) walk(child, `${path}.`, rows);
    else if (child.type === "array" && child.items && isObject(child.items))
      walk(child.items, `${path}[].`, rows);
    else if (child.type === "object" && typeof child.additionalProperties === "object")
      walk(child.additionalProperties, `${path}.<n>.`, rows);
  }
}

/** One row per key of any variant, saying which variants have it and their defaults. */
function walkUnion(variants: Json[], prefix: string, rows: Row[]): void {
  const tag = Object.keys(variants[0]?.properties ?? {})[0] ?? "type";
  const names = variants.map((v) => String(v.properties?.[tag]?.const));
  rows.push({ path: `${prefix}${snakeOf(tag)}`, type: names.map(code).join(" \\| "), def: "required" });
  const keys = [...new Set(variants.flatMap((v) => Object.keys(v.properties ?? {})))].filter(
    (k) => k !== tag,
  );
  for (const key of keys) {
    const having = variants.flatMap((v, i) => (v.properties?.[key] ? [{ v, name: names[i] ?? "" }] : []));
    const first = having[0]?.v.properties?.[key] ?? {};
    const defs = having.map(({ v }) =>
      defaultText(v.properties?.[key] ?? {}, v.required?.includes(key) ?? false),
    );
    const def =
      new Set(defs).size === 1 ? (defs[0] ?? "") : defs.map((d, i) => `${d} (${having[i]?.name})`).join(", ");
    const only = having.length < variants.length ? ` (${having.map((h) => h.name).join(", ")} only)` : "";
    rows.push({
      path: `${prefix}${snakeOf(key)}`,
      type: `${typeText(first)}${only}`,
      def,
    });
  }
}

const cell = (t: string) => t.replace(/\n/g, " ");

/** The Markdown reference of `schema` (the real config schema unless a test passes another). */
export function renderConfigDocs(
  schema: z.ZodType = configSchema,
  docs: Readonly<Record<string, string>> = KEY_DOCS,
): string {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
  const rows: Row[] = [];
  walk(json, "", rows);
  const missing = rows.filter((r) => docs[r.path] === undefined).map((r) => r.path);
  if (missing.length > 0)
    throw new Error(
      `config keys without a description in KEY_DOCS (src/config/docs.ts): ${missing.join(", ")}`,
    );
  const known = new Set(rows.map((r) => r.path));
  const stale = Object.keys(docs).filter((k) => !known.has(k));
  if (stale.length > 0)
    throw new Error(
      `KEY_DOCS (src/config/docs.ts) describes keys the schema does not have: ${stale.join(", ")}`,
    );

  const out = [
    "# Configuration reference",
    "",
    "<!-- Generated from src/config/schema.ts by `npm run docs:config`; do not edit by hand. -->",
    "",
    "`vesc2mqtt run --config FILE` reads a YAML file (default `./vesc2mqtt.yaml`, or the path in",
    "`$VESC2MQTT_CONFIG`). Keys are snake_case; every key is optional unless it says *required*,",
    "and a missing key takes the default shown. Relative paths resolve against the config file's",
    "folder. Mistakes are listed on stderr, one per line in your own key spelling, and the exit",
    "code is 2. An annotated example: [examples/vesc2mqtt.example.yaml](../examples/vesc2mqtt.example.yaml).",
    "",
    "`[]` stands for each item of a list, `<n>` for each key of a map.",
  ];
  const TABLE = ["| key | type | default | meaning |", "|---|---|---|---|"];
  const line = (r: Row) => `| \`${r.path}\` | ${r.type} | ${r.def} | ${cell(docs[r.path] ?? "")} |`;
  const topOf = (path: string) => path.split(/[.[]/)[0] ?? path;
  const sections = rows.filter(
    (r) => !r.path.includes(".") && !r.path.includes("[") && /^(object|list of objects)/.test(r.type),
  );
  const sectionNames = new Set(sections.map((r) => r.path));
  out.push(
    "",
    "## Top-level keys",
    "",
    ...TABLE,
    ...rows.filter((r) => !sectionNames.has(topOf(r.path))).map(line),
  );
  for (const s of sections) {
    const inside = rows.filter((r) => r.path !== s.path && topOf(r.path) === s.path);
    out.push("", `## \`${s.path}\``, "", cell(docs[s.path] ?? ""), "", ...TABLE, ...inside.map(line));
  }
  return `${out.join("\n")}\n`;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const target = fileURLToPath(new URL(`../../${CONFIG_DOC_PATH}`, import.meta.url));
  writeFileSync(target, renderConfigDocs());
  console.log(`wrote ${target}`);
}
