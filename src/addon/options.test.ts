/**
 * The add-on entrypoint: sample /data/options.json files and a fake Supervisor on 127.0.0.1
 * (its URL through VESC2MQTT_SUPERVISOR_URL) → the generated config, validated by the
 * project's own config schema. Secrets must stay out of the written file.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { validateConfig } from "../config/load.js";
import { addonCommand } from "./main.js";
import { AddonOptionsError, addonConfig, parseCanNodes } from "./options.js";

const SUPERVISOR_TOKEN = "supervisor-token-for-this-addon";
const BROKER_PASSWORD = "mosquitto-generated-password";

/** Options as the Supervisor writes them for the add-on's default-plus-user settings. */
const SAMPLE_OPTIONS = {
  log_level: "debug",
  devices: [
    {
      id: "pack",
      name: "Battery pack",
      type: "tcp",
      host: "192.168.1.50",
      port: 65102,
      can: "84:motor, 10:bms:Rear pack",
    },
    {
      id: "board",
      type: "hub",
      host: "hub.example.org",
      hub_id: "MyExpress",
      hub_password: "hub-secret-1",
      interval_s: 2,
    },
    { id: "usb", type: "serial", serial_port: "/dev/ttyACM0", baud: 115200, read_bms: false },
  ],
  mqtt: {
    base_topic: "vesc",
    discovery_prefix: "ha",
    discovery: true,
    publish_on_change: true,
    heartbeat_s: 30,
  },
  alerts: {
    cell_under_voltage: 3.1,
    cell_over_voltage: 4.2,
    cell_delta: 0.04,
    temperature_high: 50,
    soc_low: 20,
  },
  history: true,
  history_retention_days: 14,
  metrics: true,
  hub: { enabled: true, on_conflict: "refuse" },
  hub_devices: [{ id: "MyExpress", password: "hub-secret-2" }],
  web_token: "web-secret",
};

let dir = "";
let supervisor: Server;
let supervisorUrl = "";
const seen: Array<{ url: string; auth: string | undefined }> = [];
let answer: { status: number; body: unknown } = { status: 200, body: {} };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-addon-"));
  supervisor = createServer((req, res) => {
    seen.push({ url: req.url ?? "", auth: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${SUPERVISOR_TOKEN}`) {
      res
        .writeHead(401, { "content-type": "application/json" })
        .end('{"result":"error","message":"Unauthorized"}');
      return;
    }
    res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((r) => supervisor.listen(0, "127.0.0.1", () => r()));
  supervisorUrl = `http://127.0.0.1:${(supervisor.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => supervisor.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const MOSQUITTO_SERVICE = {
  result: "ok",
  data: {
    addon: "core_mosquitto",
    host: "core-mosquitto",
    port: 1883,
    ssl: false,
    protocol: "3.1.1",
    username: "addons",
    password: BROKER_PASSWORD,
  },
};

async function runAddon(options: unknown, env: Record<string, string> = {}) {
  const optionsPath = join(dir, "options.json");
  writeFileSync(optionsPath, JSON.stringify(options));
  const out: string[] = [];
  const err: string[] = [];
  const code = await addonCommand(["--options", optionsPath, "--config", "/data/vesc2mqtt.yaml", "--print"], {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    env: { SUPERVISOR_TOKEN, VESC2MQTT_SUPERVISOR_URL: supervisorUrl, ...env },
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("add-on options → config", () => {
  test("sample options + the Supervisor's Mosquitto service make a valid config", async () => {
    answer = { status: 200, body: MOSQUITTO_SERVICE };
    seen.length = 0;
    const r = await runAddon(SAMPLE_OPTIONS);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(seen).toEqual([{ url: "/services/mqtt", auth: `Bearer ${SUPERVISOR_TOKEN}` }]);
    for (const secret of [BROKER_PASSWORD, "hub-secret-1", "hub-secret-2", "web-secret", SUPERVISOR_TOKEN])
      expect(r.out).not.toContain(secret);

    const generated = addonConfig(SAMPLE_OPTIONS, MOSQUITTO_SERVICE.data);
    expect(parse(r.out)).toEqual(generated.config);
    const c = validateConfig(parse(r.out), { env: generated.env, baseDir: dir });
    expect(c.logLevel).toBe("debug");
    expect(c.dataDir).toBe("/data");
    expect(c.history.path).toBe("/data/history.db");
    expect(c.history.retentionDays).toBe(14);
    expect(c.mqtt).toMatchObject({
      url: "mqtt://core-mosquitto:1883",
      username: "addons",
      password: BROKER_PASSWORD,
      baseTopic: "vesc",
      discoveryPrefix: "ha",
      discovery: true,
      publishOnChange: true,
      heartbeatS: 30,
    });
    expect(c.web).toMatchObject({
      host: "0.0.0.0",
      port: 8099,
      token: "web-secret",
      ingress: { enabled: true, trustedProxy: "172.30.32.2" },
    });
    expect(c.devices.map((d) => d.connection)).toEqual([
      { type: "tcp", host: "192.168.1.50", port: 65102 },
      {
        type: "hub",
        host: "hub.example.org",
        port: 65101,
        hubId: "MyExpress",
        passwordEnv: "VESC2MQTT_DEVICE_1_HUB_PASSWORD",
        password: "hub-secret-1",
      },
      { type: "serial", path: "/dev/ttyACM0", baud: 115200 },
    ]);
    expect(c.devices[0]?.can).toEqual([
      { id: 84, kind: "motor" },
      { id: 10, kind: "bms", name: "Rear pack" },
    ]);
    expect(c.devices[0]?.name).toBe("Battery pack");
    expect(c.devices[1]?.intervalS).toBe(2);
    expect(c.devices[2]?.readBms).toBe(false);
    expect(c.alerts.cellDelta).toBe(0.04);
    expect(c.alerts.socLow).toBe(20);
    expect(c.alerts).toMatchObject({ cellUnderVoltage: 3.1, cellOverVoltage: 4.2, temperatureHigh: 50 });
    expect(c.history.enabled).toBe(true);
    expect(c.hub).toMatchObject({ enabled: true, host: "0.0.0.0", port: 65101, onConflict: "refuse" });
    expect(c.hub.devices[0]).toMatchObject({ id: "MyExpress", password: "hub-secret-2" });
  });

  test("a manual broker in the options wins and the Supervisor is not asked", async () => {
    seen.length = 0;
    const options = {
      devices: [],
      mqtt: { url: "mqtts://broker.lan:8883", username: "me", password: "pw-1" },
    };
    const r = await runAddon(options);
    expect(r.code).toBe(0);
    expect(seen).toEqual([]);
    const generated = addonConfig(options, undefined);
    const c = validateConfig(parse(r.out), { env: generated.env, baseDir: dir });
    expect(c.mqtt).toMatchObject({ url: "mqtts://broker.lan:8883", username: "me", password: "pw-1" });
    expect(r.out).not.toContain("pw-1");
    expect(c.hub.enabled).toBe(false);
    expect(c.web.token).toBeNull();
  });

  test("the defaults in ha-addon/vesc2mqtt/config.yaml make a valid config", () => {
    const manifest = parse(
      readFileSync(new URL("../../ha-addon/vesc2mqtt/config.yaml", import.meta.url), "utf8"),
    ) as {
      options: unknown;
      ingress_port: number;
      schema: Record<string, unknown>;
    };
    const generated = addonConfig(manifest.options, MOSQUITTO_SERVICE.data);
    const c = validateConfig(generated.config, { env: generated.env, baseDir: dir });
    expect(c.web.port).toBe(manifest.ingress_port);
    expect(c.devices).toHaveLength(1);
    // The sample (checked end to end above) uses every option of the schema, nested ones too;
    // mqtt's url/username/password are the manual-broker test's.
    const keys = (o: object) => Object.keys(o).sort();
    const schema = manifest.schema as Record<
      string,
      Record<string, unknown> | Array<Record<string, unknown>>
    >;
    expect(keys(SAMPLE_OPTIONS)).toEqual(keys(schema));
    const sampleDeviceKeys = [...new Set(SAMPLE_OPTIONS.devices.flatMap((d) => Object.keys(d)))].sort();
    expect(sampleDeviceKeys).toEqual(keys((schema.devices as Array<Record<string, unknown>>)[0] ?? {}));
    expect([...keys(SAMPLE_OPTIONS.mqtt), "password", "url", "username"].sort()).toEqual(
      keys(schema.mqtt ?? {}),
    );
    expect(keys(SAMPLE_OPTIONS.alerts)).toEqual(keys(schema.alerts ?? {}));
    expect(keys(SAMPLE_OPTIONS.hub)).toEqual(keys(schema.hub ?? {}));
  });

  test("TLS broker from the Supervisor becomes mqtts://", () => {
    const g = addonConfig({}, { host: "core-mosquitto", port: 8883, ssl: true });
    expect((g.config.mqtt as { url: string }).url).toBe("mqtts://core-mosquitto:8883");
    expect(g.env).toEqual({});
  });

  test("no broker anywhere: one clear line and exit 2", async () => {
    answer = { status: 400, body: { result: "error", message: "Service not enabled" } };
    const r = await runAddon({ devices: [] });
    expect(r.code).toBe(2);
    expect(r.err).toContain("the Supervisor has no MQTT service (400: Service not enabled)");
    expect(r.err).toContain("no MQTT broker: install and start the Mosquitto broker add-on, or set mqtt.url");
    expect(r.err).not.toContain("    at ");
  });

  test("a wrong SUPERVISOR_TOKEN is reported, not retried forever", async () => {
    answer = { status: 200, body: MOSQUITTO_SERVICE };
    seen.length = 0;
    const r = await runAddon({ devices: [] }, { SUPERVISOR_TOKEN: "wrong" });
    expect(r.code).toBe(2);
    expect(seen.length).toBe(1);
    expect(r.err).toContain("the Supervisor refused SUPERVISOR_TOKEN (401)");
  });

  test("an unreachable Supervisor is retried a bounded number of times", async () => {
    const r = await runAddon({ devices: [] }, { VESC2MQTT_SUPERVISOR_URL: "http://127.0.0.1:1" });
    expect(r.code).toBe(2);
    expect(r.err).toContain("cannot reach the Supervisor");
  }, 15_000);

  test("options the schema rejects are listed in the user's words", async () => {
    answer = { status: 200, body: MOSQUITTO_SERVICE };
    const r = await runAddon({
      devices: [{ id: "Bad Id", type: "tcp", host: "x" }],
      alerts: { soc_low: -1 },
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain("devices[0].id: expected a string of a-z, 0-9, _ or -");
    expect(r.err).toContain("alerts.soc_low");
  });

  test("type-specific fields are required with a clear message", () => {
    expect(() =>
      addonConfig({ devices: [{ id: "a", type: "hub", host: "h", hub_id: "x" }] }, MOSQUITTO_SERVICE.data),
    ).toThrow(new AddonOptionsError("devices[0].hub_password: required for type hub"));
    expect(() => addonConfig({ devices: [{ id: "a", type: "serial" }] }, MOSQUITTO_SERVICE.data)).toThrow(
      "devices[0].serial_port: required for type serial",
    );
    expect(() => parseCanNodes("84:motor, 300", "can")).toThrow('can: "300" is not');
  });

  test("the real run writes the config with mode 0600 and no secrets, then the bridge starts", async () => {
    answer = { status: 200, body: MOSQUITTO_SERVICE };
    const optionsPath = join(dir, "options-run.json");
    const configPath = join(dir, "run.yaml");
    // A broker that refuses connections is fine: the bridge starts and retries in the background.
    writeFileSync(
      optionsPath,
      JSON.stringify({ ...SAMPLE_OPTIONS, devices: [], hub: { enabled: false }, hub_devices: [] }),
    );
    const stop = new AbortController();
    const out: string[] = [];
    const err: string[] = [];
    const running = addonCommand(
      ["--options", optionsPath, "--config", configPath, "--web-host", "127.0.0.1", "--web-port", "0"],
      {
        stdout: (l) => out.push(l),
        stderr: (l) => err.push(l),
        env: { SUPERVISOR_TOKEN, VESC2MQTT_SUPERVISOR_URL: supervisorUrl },
        signal: stop.signal,
      },
    );
    const deadline = Date.now() + 15_000;
    while (!out.some((l) => l.startsWith("vesc2mqtt running")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    const code = await running;
    expect(out.join("\n")).toContain("vesc2mqtt running: 0 device(s) → mqtt://core-mosquitto:1883");
    expect(code).toBe(0);
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    const text = readFileSync(configPath, "utf8");
    expect(text).not.toContain(BROKER_PASSWORD);
    expect(text).not.toContain("web-secret");
    expect(err.join("\n")).not.toContain(BROKER_PASSWORD);
    expect(parse(text)).toMatchObject({ data_dir: dir, web: { host: "127.0.0.1", port: 0 } });
  }, 30_000);
});
