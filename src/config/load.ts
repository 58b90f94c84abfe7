/**
 * Loads the YAML config: parse → snake_case to camelCase → zod schema with defaults →
 * resolve secrets (password / password_file / password_env, env overrides) and paths.
 * Every mistake becomes one readable line in ConfigError.errors, in the user's own key
 * spelling ("devices[0].connection.port: expected a number 1–65535"). No message ever
 * contains a secret value: only key names, paths and variable names. Files are read only
 * when they are regular files below a size limit: a FIFO, /dev/zero or a huge file is
 * refused at once instead of hanging or filling memory.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { hubDeviceProblems } from "../hub/deviceRules.js";
import { transportKind } from "../transport/kinds.js";
import type { ConnectionSpec } from "../transport/transport.js";
import { type Config, type DeviceConfig, configSchema } from "./schema.js";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    /** One human-readable line per mistake. */
    readonly errors: readonly string[],
    source?: string,
  ) {
    super(`${source ? `${source}: ` : ""}${errors.length} configuration error(s):\n  ${errors.join("\n  ")}`);
  }
}

export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError;
}

export const MQTT_PASSWORD_ENV = "VESC2MQTT_MQTT_PASSWORD";
export const WEB_TOKEN_ENV = "VESC2MQTT_WEB_TOKEN";

type Env = Readonly<Record<string, string | undefined>>;

export interface ParseOptions {
  readonly env?: Env;
  /** Relative paths (data_dir, password_file, history.path) resolve against this. */
  readonly baseDir?: string;
}

/** Largest config file read (a real one is a few KiB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Largest password file read. */
export const MAX_PASSWORD_FILE_BYTES = 4096;
/** YAML aliases expanded at most this many times (a "billion laughs" document expands forever). */
const MAX_ALIAS_COUNT = 100;

class FileRefused extends Error {}

/**
 * A small regular file's text. Opened non-blocking so a FIFO without a writer cannot hang
 * the open; then anything but a regular file, or more than maxBytes, is refused.
 */
function readSmallFile(path: string, maxBytes: number): string {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileRefused("not a regular file");
    const limit = new FileRefused(
      `larger than ${maxBytes >= 1024 * 1024 ? `${maxBytes / 1048576} MiB` : `${maxBytes / 1024} KiB`}`,
    );
    if (st.size > maxBytes) throw limit;
    // Read to EOF, not to st.size: a file growing underneath is still bounded.
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > maxBytes) throw limit;
    }
    return buf.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
}

/** Reads, validates and resolves a config file. Throws ConfigError. */
export function loadConfig(path: string, env: Env = process.env): Config {
  let text: string;
  try {
    text = readSmallFile(path, MAX_CONFIG_BYTES);
  } catch (e) {
    throw new ConfigError([`cannot read config file ${path} (${errCode(e)})`]);
  }
  return parseConfig(text, { env, baseDir: dirname(resolve(path)) });
}

/** Validates YAML text (empty text = all defaults). Throws ConfigError. */
export function parseConfig(text: string, options: ParseOptions = {}): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `YAML: ${firstLine(e.message)}`));
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // The yaml package throws a ReferenceError for alias bombs; any failure here is the document's.
    throw new ConfigError([
      `YAML: ${/alias/i.test(String(e)) ? `aliases expand too often (over ${MAX_ALIAS_COUNT} times)` : firstLine(String(e))}`,
    ]);
  }
  return validateConfig(raw ?? {}, options);
}

/** Validates an already-parsed snake_case object. Throws ConfigError. */
export function validateConfig(raw: unknown, options: ParseOptions = {}): Config {
  const errors: string[] = [];
  const camel = toCamel(raw, [], errors);
  const parsed = configSchema.safeParse(camel);
  if (!parsed.success) errors.push(...parsed.error.issues.flatMap((i) => formatIssue(i, camel)));
  if (errors.length > 0 || !parsed.success) throw new ConfigError(errors);
  const config = parsed.data;
  resolveSecretsAndPaths(config, options.env ?? process.env, options.baseDir ?? process.cwd(), errors);
  if (errors.length > 0) throw new ConfigError(errors);
  return config;
}

/** The transport spec for a configured device (password already resolved by loadConfig). */
export function connectionSpecOf(device: DeviceConfig): ConnectionSpec {
  const c = device.connection;
  // The schema is the union of the rows' `config` schemas, so `c` is its own row's entry.
  return transportKind(c.type).fromConfig(c) as ConnectionSpec;
}

// ── key conversion ────────────────────────────────────────────────────────────

const camelOf = (k: string) => k.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
const snakeOf = (k: string) => k.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);

function toCamel(v: unknown, path: (string | number)[], errors: string[]): unknown {
  if (Array.isArray(v)) return v.map((x, i) => toCamel(x, [...path, i], errors));
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    // camelCase keys in YAML would silently alias snake_case ones; say which spelling to use.
    if (/[A-Z]/.test(k)) {
      const parent = path.length > 0 ? `${pathText(path)}.` : "";
      errors.push(`${parent}${k}: unknown key (keys are snake_case: ${snakeOf(k)})`);
      continue;
    }
    out[camelOf(k)] = toCamel(val, [...path, camelOf(k)], errors);
  }
  return out;
}

/** `devices[0].connection.port`, in the user's snake_case spelling. */
export function pathText(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += `${s ? "." : ""}${snakeOf(String(p))}`;
  }
  return s || "(top level)";
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function formatIssue(issue: z.core.$ZodIssue, root: unknown): string[] {
  const where = pathText(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => `${pathText([...issue.path, k])}: unknown key`);
  }
  // A missing required key reads better as "required" than as "expected a string".
  if (issue.code === "invalid_type" && valueAt(root, issue.path) === undefined) {
    return [`${where}: required, ${issue.message}`];
  }
  return [`${where}: ${issue.message}`];
}

// ── secrets and paths ─────────────────────────────────────────────────────────

interface PasswordSources {
  password?: string | undefined;
  passwordFile?: string | undefined;
  passwordEnv?: string | undefined;
}

/** Resolves one password in place; returns false (and records why) when a source is unusable. */
function resolvePassword(
  target: PasswordSources,
  where: string,
  env: Env,
  baseDir: string,
  errors: string[],
): void {
  const given = [target.password, target.passwordFile, target.passwordEnv].filter(
    (x) => x !== undefined,
  ).length;
  if (given > 1) {
    errors.push(`${where}: give only one of password, password_file, password_env`);
    return;
  }
  if (target.passwordEnv !== undefined) {
    const v = env[target.passwordEnv];
    if (v === undefined || v === "")
      errors.push(`${where}.password_env: environment variable ${target.passwordEnv} is not set`);
    else target.password = v;
  } else if (target.passwordFile !== undefined) {
    const file = abs(target.passwordFile, baseDir);
    try {
      // A trailing newline is an editor artefact, never part of the password.
      target.password = readSmallFile(file, MAX_PASSWORD_FILE_BYTES).replace(/\r?\n$/, "");
    } catch (e) {
      errors.push(`${where}.password_file: cannot read ${file} (${errCode(e)})`);
    }
  }
}

function resolveSecretsAndPaths(config: Config, env: Env, baseDir: string, errors: string[]): void {
  config.dataDir = abs(config.dataDir, baseDir);
  if (config.history.path === null) config.history.path = join(config.dataDir, "history.db");
  else config.history.path = abs(config.history.path, baseDir);

  resolvePassword(config.mqtt, "mqtt", env, baseDir, errors);
  const mqttEnv = env[MQTT_PASSWORD_ENV];
  if (mqttEnv !== undefined && mqttEnv !== "") config.mqtt.password = mqttEnv;

  const webToken = env[WEB_TOKEN_ENV];
  if (webToken !== undefined && webToken !== "") config.web.token = webToken;

  config.devices.forEach((d, i) => {
    const rule = transportKind(d.connection.type).password;
    if (rule === undefined) return;
    const where = `devices[${i}].connection`;
    // A row with a password rule has the password keys in its config schema (kinds.test.ts).
    const connection = d.connection as PasswordSources;
    resolvePassword(connection, where, env, baseDir, errors);
    if (connection.password === undefined) {
      const fallback = env[rule.env];
      if (fallback !== undefined && fallback !== "") connection.password = fallback;
      else
        errors.push(
          `${where}: a ${d.connection.type} connection needs password, password_file or password_env (or ${rule.env})`,
        );
    }
  });
  config.hub.devices.forEach((d, i) => {
    const where = `hub.devices[${i}]`;
    resolvePassword(d, where, env, baseDir, errors);
    if (d.password === undefined) errors.push(`${where}: needs password, password_file or password_env`);
  });
  errors.push(...hubDeviceProblems(config.hub.devices, (i) => `hub.devices[${i}]`));
  // A connection that can never succeed is a mistake to report now, not a device retried forever.
  config.devices.forEach((d, i) => {
    const spec = connectionSpecOf(d);
    const problem = transportKind(spec.type).unusable(spec);
    if (problem !== undefined) errors.push(`devices[${i}].connection: ${problem}`);
  });
}

function abs(p: string, baseDir: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

function errCode(e: unknown): string {
  if (e instanceof FileRefused) return e.message;
  if (e && typeof e === "object" && "code" in e && typeof e.code === "string") return e.code;
  return "unreadable";
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}
