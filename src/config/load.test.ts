/** Table-driven tests of config loading: defaults, the example file, and one row per kind of mistake. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ConfigError, connectionSpecOf, loadConfig, parseConfig } from "./load.js";

const dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorsOf(text: string, env: Record<string, string> = {}): readonly string[] {
  try {
    parseConfig(text, { env, baseDir: dir });
  } catch (e) {
    if (e instanceof ConfigError) return e.errors;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const tcp = "connection: { type: tcp, host: 10.0.0.5 }";

describe("loadConfig: good configs", () => {
  test("an empty file gives every default", () => {
    const c = parseConfig("", { env: {}, baseDir: dir });
    expect(c.logLevel).toBe("info");
    expect(c.dataDir).toBe(join(dir, "data"));
    expect(c.mqtt).toMatchObject({
      url: "mqtt://127.0.0.1:1883",
      clientId: "vesc2mqtt",
      baseTopic: "vesc2mqtt",
      discoveryPrefix: "homeassistant",
      discoveryMode: "device",
      publishOnChange: false,
      heartbeatS: 60,
      embedded: { enabled: false, host: "127.0.0.1", port: 1883 },
    });
    expect(c.devices).toEqual([]);
    expect(c.web).toEqual({
      enabled: true,
      host: "127.0.0.1",
      port: 8080,
      token: null,
      ingress: { enabled: false, trustedProxy: "172.30.32.2" },
      allowedHosts: [],
      maxStreams: 64,
    });
    expect(c.history).toEqual({ enabled: true, path: join(dir, "data", "history.db"), retentionDays: 30 });
    expect(c.alerts.cellUnderVoltage).toBe(3.2);
    expect(c.alerts.hysteresis).toEqual({ voltage: 0.02, delta: 0.005, temperature: 2, soc: 2 });
    expect(c.hub).toEqual({
      enabled: false,
      host: "0.0.0.0",
      port: 65101,
      onConflict: "replace",
      devices: [],
    });
  });

  test("the example config loads, with its hub password from the environment", () => {
    const c = loadConfig(new URL("../../examples/vesc2mqtt.example.yaml", import.meta.url).pathname, {
      BOARD_HUB_PASSWORD: "pw-from-env",
    });
    expect(c.devices.map((d) => d.id)).toEqual(["garage_pack", "board"]);
    expect(c.devices[0]).toMatchObject({ intervalS: 5, requestTimeoutS: 2, readBms: true, can: [] });
    expect(c.devices[1]?.can).toEqual([{ id: 84, kind: "motor", name: "Front motor" }]);
    expect(c.devices[1]?.alerts.cellUnderVoltage).toBe(3.3);
    const spec = connectionSpecOf(c.devices[1]!);
    expect(spec).toEqual({
      type: "hub",
      host: "veschub.vedder.se",
      port: 65101,
      hubId: "my-express",
      password: "pw-from-env",
    });
  });

  test("device defaults per connection type", () => {
    const c = parseConfig(
      `devices:
  - { id: a, connection: { type: tcp, host: h } }
  - { id: b, connection: { type: hub, host: h, hub_id: x, password: p } }
  - { id: c, connection: { type: serial, path: /dev/ttyACM0 } }`,
      { env: {}, baseDir: dir },
    );
    expect(c.devices.map((d) => connectionSpecOf(d))).toEqual([
      { type: "tcp", host: "h", port: 65102 },
      { type: "hub", host: "h", port: 65101, hubId: "x", password: "p" },
      { type: "serial", path: "/dev/ttyACM0", baud: 115200 },
    ]);
    expect(c.devices[0]?.name).toBeUndefined();
    expect(c.devices[0]?.customConfigHandshake).toBe(false);
  });

  test("`embedded: true` is shorthand for { enabled: true }", () => {
    const c = parseConfig("mqtt: { embedded: true }", { env: {}, baseDir: dir });
    expect(c.mqtt.embedded).toEqual({ enabled: true, host: "127.0.0.1", port: 1883 });
  });

  test.each([
    ["password inline", "mqtt: { password: inline }", {}, "inline"],
    ["password_env", "mqtt: { password_env: MY_PW }", { MY_PW: "from-env" }, "from-env"],
    [
      "VESC2MQTT_MQTT_PASSWORD overrides",
      "mqtt: { password: inline }",
      { VESC2MQTT_MQTT_PASSWORD: "over" },
      "over",
    ],
  ])("mqtt password: %s", (_name, yaml, env, expected) => {
    expect(parseConfig(yaml, { env, baseDir: dir }).mqtt.password).toBe(expected);
  });

  test("password_file is read relative to the config and loses its trailing newline", () => {
    writeFileSync(join(dir, "pw.txt"), "s3cret\n");
    const c = parseConfig(
      "devices: [ { id: a, connection: { type: hub, host: h, hub_id: x, password_file: pw.txt } } ]",
      { env: {}, baseDir: dir },
    );
    expect(connectionSpecOf(c.devices[0]!)).toMatchObject({ password: "s3cret" });
  });

  test("VESC2MQTT_WEB_TOKEN sets the web token", () => {
    expect(parseConfig("", { env: { VESC2MQTT_WEB_TOKEN: "tok" }, baseDir: dir }).web.token).toBe("tok");
  });
});

describe("loadConfig: each mistake becomes one readable line", () => {
  test.each<[string, string, string]>([
    [
      "port out of range",
      `devices: [ { id: a, connection: { type: tcp, host: h, port: 70000 } } ]`,
      "devices[0].connection.port: expected a number 1–65535",
    ],
    [
      "port not a number",
      `devices: [ { id: a, connection: { type: tcp, host: h, port: abc } } ]`,
      "devices[0].connection.port: expected a number 1–65535",
    ],
    [
      "unknown connection type",
      `devices: [ { id: a, connection: { type: ble } } ]`,
      "devices[0].connection.type: expected type tcp, hub or serial",
    ],
    [
      "missing host",
      `devices: [ { id: a, connection: { type: tcp } } ]`,
      "devices[0].connection.host: required",
    ],
    ["missing connection", `devices: [ { id: a } ]`, "devices[0].connection: required"],
    [
      "bad device id",
      `devices: [ { id: Garage Pack, ${tcp} } ]`,
      "devices[0].id: expected a string of a-z, 0-9, _ or -",
    ],
    [
      "duplicate device id",
      `devices: [ { id: a, ${tcp} }, { id: a, ${tcp} } ]`,
      'devices[1].id: duplicate device id "a"',
    ],
    [
      "interval too small",
      `devices: [ { id: a, interval_s: 0.05, ${tcp} } ]`,
      "devices[0].interval_s: expected seconds ≥ 0.1",
    ],
    [
      "bad CAN kind",
      `devices: [ { id: a, ${tcp}, can: [ { id: 84, kind: esc } ] } ]`,
      "devices[0].can[0].kind: expected bms or motor",
    ],
    [
      "CAN id out of range",
      `devices: [ { id: a, ${tcp}, can: [ { id: 300, kind: motor } ] } ]`,
      "devices[0].can[0].id: expected a CAN id 0–254",
    ],
    [
      "duplicate CAN id",
      `devices: [ { id: a, ${tcp}, can: [ { id: 1, kind: motor }, { id: 1, kind: bms } ] } ]`,
      "devices[0].can[1].id: duplicate CAN id 1",
    ],
    ["unknown key (typo)", `mqtt: { base_topik: x }`, "mqtt.base_topik: unknown key"],
    [
      "camelCase key",
      `mqtt: { baseTopic: x }`,
      "mqtt.baseTopic: unknown key (keys are snake_case: base_topic)",
    ],
    ["bad URL scheme", `mqtt: { url: "http://broker" }`, "mqtt.url: expected a URL starting with mqtt://"],
    [
      "bad discovery mode",
      `mqtt: { discovery_mode: both }`,
      "mqtt.discovery_mode: expected device or entity",
    ],
    [
      "base topic = discovery prefix",
      `mqtt: { base_topic: homeassistant }`,
      "mqtt.base_topic: must differ from discovery_prefix",
    ],
    ["wildcard in topic", `mqtt: { base_topic: "a/#" }`, "mqtt.base_topic: expected a topic without + #"],
    ["bad log level", `log_level: verbose`, "log_level: expected error, warn, info or debug"],
    ["bad boolean", `web: { enabled: yes please }`, "web.enabled: expected true or false"],
    ["bad retention", `history: { retention_days: -1 }`, "history.retention_days: expected days > 0"],
    ["bad on_conflict", `hub: { on_conflict: kick }`, "hub.on_conflict: expected replace or refuse"],
    ["devices not a list", `devices: { id: a }`, "devices: expected a list of devices"],
    [
      "bad alert override",
      `devices: [ { id: a, ${tcp}, alerts: { soc_low: low } } ]`,
      "devices[0].alerts.soc_low: expected percent 0–100",
    ],
    [
      "hub without password",
      `devices: [ { id: a, connection: { type: hub, host: h, hub_id: x } } ]`,
      "devices[0].connection: a hub connection needs password",
    ],
    [
      "two password sources",
      `mqtt: { password: a, password_env: B }`,
      "mqtt: give only one of password, password_file, password_env",
    ],
    [
      "password_env not set",
      `mqtt: { password_env: NOPE_NOT_SET }`,
      "mqtt.password_env: environment variable NOPE_NOT_SET is not set",
    ],
    ["password_file missing", `mqtt: { password_file: missing.txt }`, "mqtt.password_file: cannot read"],
    ["hub device without password", `hub: { devices: [ { id: e1 } ] }`, "hub.devices[0]: needs password"],
    ["YAML syntax", `mqtt: { url: [ }`, "YAML: "],
  ])("%s", (_name, yaml, expected) => {
    const errors = errorsOf(yaml);
    expect(
      errors.some((e) => e.startsWith(expected)),
      errors.join("\n"),
    ).toBe(true);
  });

  test("all mistakes are listed at once, not just the first", () => {
    const errors = errorsOf(`log_level: loud
mqtt: { discovery_mode: x }
devices: [ { id: a, connection: { type: tcp, host: h, port: 0 } } ]`);
    expect(errors).toHaveLength(3);
  });

  test("no error message contains a secret value", () => {
    const secret = "hunter2-very-secret";
    const errors = errorsOf(`mqtt: { password: ${secret}, password_env: X, url: bad }
devices: [ { id: a, connection: { type: hub, host: h, hub_id: x, password: ${secret}, port: 0 } } ]`);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).not.toContain(secret);
  });

  test("a missing file is one line naming the file", () => {
    let err: unknown;
    try {
      loadConfig(join(dir, "nope.yaml"), {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).errors).toEqual([
      `cannot read config file ${join(dir, "nope.yaml")} (ENOENT)`,
    ]);
  });
});

describe("loadConfig: hostile files", () => {
  const loadErrors = (path: string, env: Record<string, string> = {}): readonly string[] => {
    try {
      loadConfig(path, env);
    } catch (e) {
      if (e instanceof ConfigError) return e.errors;
      throw e;
    }
    throw new Error("expected a ConfigError");
  };

  test("a billion-laughs document is a ConfigError (exit 2), not a crash", () => {
    const levels = ["a: &a [x,x,x,x,x,x,x,x,x]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    expect(errorsOf(levels.join("\n"))).toEqual(["YAML: aliases expand too often (over 100 times)"]);
    // A few anchors, as people write them, still work.
    const ok = parseConfig("alerts: &th { soc_low: 20 }\n", { env: {}, baseDir: dir });
    expect(ok.alerts.socLow).toBe(20);
  });

  test("a FIFO as config file or password_file is refused at once, not waited on", () => {
    const fifo = join(dir, "config.fifo");
    execFileSync("mkfifo", [fifo]);
    expect(loadErrors(fifo)).toEqual([`cannot read config file ${fifo} (not a regular file)`]);
    const cfg = join(dir, "fifo-password.yaml");
    writeFileSync(cfg, `mqtt: { password_file: ${fifo} }\n`);
    expect(loadErrors(cfg)).toEqual([`mqtt.password_file: cannot read ${fifo} (not a regular file)`]);
  });

  test("/dev/zero as config file or password_file is refused, not read forever", () => {
    expect(loadErrors("/dev/zero")).toEqual(["cannot read config file /dev/zero (not a regular file)"]);
    const cfg = join(dir, "zero-password.yaml");
    writeFileSync(cfg, "mqtt: { password_file: /dev/zero }\n");
    expect(loadErrors(cfg)).toEqual(["mqtt.password_file: cannot read /dev/zero (not a regular file)"]);
  });

  test("oversized files are refused: config over 1 MiB, password file over 4 KiB", () => {
    const big = join(dir, "big.yaml");
    writeFileSync(big, `# ${"x".repeat(1024 * 1024)}\n`);
    expect(loadErrors(big)).toEqual([`cannot read config file ${big} (larger than 1 MiB)`]);
    const pw = join(dir, "big.pw");
    writeFileSync(pw, "p".repeat(4097));
    const cfg = join(dir, "big-password.yaml");
    writeFileSync(cfg, `mqtt: { password_file: ${pw} }\n`);
    expect(loadErrors(cfg)).toEqual([`mqtt.password_file: cannot read ${pw} (larger than 4 KiB)`]);
    writeFileSync(pw, `${"p".repeat(4000)}\n`);
    expect(loadConfig(cfg, {}).mqtt.password).toBe("p".repeat(4000));
  });
});
