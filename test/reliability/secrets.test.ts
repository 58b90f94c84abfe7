/**
 * Secrets: the simulated Express answers COMM_GET_CUSTOM_CONFIG with fake but recognisable
 * WiFi/AP/hub passwords and BLE pin (SIM_SECRETS), and its hub login uses the hub password
 * too. No command asks for the custom config unless a device opts in
 * (`custom_config_handshake: true`): the devices count every request on their side. The built CLI runs `read` (tcp and hub, human and --json, a wrong
 * password), `scan`, and `run` (the bridge, debug logging, with web, history and metrics)
 * against a real Mosquitto. Not one secret may appear in stdout/stderr, in any MQTT message
 * (a recorder subscribed to `#`), in the history database file, or in any dashboard response.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { SIM_SECRETS, type Simulator, startSimulator } from "../../src/sim/index.js";
import { freePort, Mosquitto, Recorder } from "../helpers/mosquitto.js";
import { describeWithBinary, MOSQUITTO } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const SECRETS = [
  SIM_SECRETS.wifiPassword,
  SIM_SECRETS.hubPassword,
  SIM_SECRETS.apPassword,
  String(SIM_SECRETS.blePin),
];
const HUB_ID = "secretpack";

/** Which secrets occur in `bytes` (as UTF-8 and as UTF-16LE, the two encodings a leak could take). */
function leaks(bytes: Buffer | string): string[] {
  const b = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  return SECRETS.filter((s) => b.includes(Buffer.from(s, "utf8")) || b.includes(Buffer.from(s, "utf16le")));
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describeWithBinary(MOSQUITTO, "no simulator secret leaks from any command or sink", () => {
  const broker = new Mosquitto();
  const rec = new Recorder();
  const dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-secrets-"));
  let tcpSim: Simulator;
  let hubSim: Simulator;
  const outputs: Array<[string, string]> = [];
  let bridge: ChildProcess | undefined;
  let bridgeOut = "";
  let webPort = 0;

  beforeAll(async () => {
    expect(existsSync(MAIN), "dist/cli/main.js (npm test builds it first)").toBe(true);
    await broker.start();
    await rec.start(broker.url);
    tcpSim = await startSimulator({ port: 0, seed: 41, cells: 16 });
    hubSim = await startSimulator({
      port: 0,
      seed: 42,
      cells: 16,
      hubLogin: { id: HUB_ID, password: SIM_SECRETS.hubPassword },
    });
  });

  afterAll(async () => {
    if (bridge && bridge.exitCode === null) {
      const exited = new Promise((r) => bridge?.once("exit", r));
      bridge.kill("SIGKILL");
      await exited;
    }
    await rec.client?.endAsync();
    await broker.dispose();
    await tcpSim?.close();
    await hubSim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("read and scan: stdout and stderr", async () => {
    const hub = ["--hub", `127.0.0.1:${hubSim.port}`, "--hub-id", HUB_ID];
    const env = { VESC_HUB_PASSWORD: SIM_SECRETS.hubPassword };
    const runs: Array<[string, Run]> = [
      [
        "read --tcp --json",
        await cli(["read", "--tcp", `127.0.0.1:${tcpSim.port}`, "--count", "2", "--interval", "0", "--json"]),
      ],
      ["read --hub --json", await cli(["read", ...hub, "--count", "2", "--interval", "0", "--json"], env)],
      ["read --hub (table)", await cli(["read", ...hub, "--count", "1"], env)],
      ["scan --hub", await cli(["scan", ...hub], env)],
      // A wrong password (another secret) must not be echoed in the error.
      [
        "read --hub, wrong password",
        await cli(["read", ...hub, "--timeout", "2"], { VESC_HUB_PASSWORD: SIM_SECRETS.apPassword }),
      ],
    ];
    for (const [name, r] of runs) outputs.push([name, r.out + r.err]);
    const ok = runs.slice(0, 4).map(([name, r]) => [name, r.code]);
    expect(ok).toEqual(runs.slice(0, 4).map(([name]) => [name, 0]));
    expect(runs[4]?.[1].code).not.toBe(0);
    expect(runs[1]?.[1].out).toContain('"cells"');
    // Nothing asks for the custom config by default: not read, not scan, not through a hub.
    expect(hubSim.device.stats.requests.COMM_GET_CUSTOM_CONFIG ?? 0).toBe(0);
    expect(tcpSim.device.stats.requests.COMM_GET_CUSTOM_CONFIG ?? 0).toBe(0);
    expect(hubSim.device.stats.requests.COMM_FW_VERSION ?? 0).toBeGreaterThan(0);
    for (const [name, text] of outputs) expect(leaks(text), name).toEqual([]);
  });

  test("the bridge: logs, MQTT traffic, dashboard responses, history database", async () => {
    webPort = await freePort();
    const config = join(dir, "vesc2mqtt.yaml");
    writeFileSync(
      config,
      [
        "log_level: debug",
        `data_dir: ${dir}`,
        "mqtt:",
        `  url: ${broker.url}`,
        "  client_id: secrets-bridge",
        "web:",
        "  host: 127.0.0.1",
        `  port: ${webPort}`,
        "history:",
        `  path: ${join(dir, "history.db")}`,
        "devices:",
        "  - id: hubpack",
        `    connection: { type: hub, host: 127.0.0.1, port: ${hubSim.port}, hub_id: ${HUB_ID}, password_env: SECRETS_TEST_HUB_PW }`,
        "    interval_s: 0.2",
        // Opted in: the secrets really cross the wire, and must still go nowhere.
        "    custom_config_handshake: true",
        "  - id: tcppack",
        `    connection: { type: tcp, host: 127.0.0.1, port: ${tcpSim.port} }`,
        "    interval_s: 0.2",
        "",
      ].join("\n"),
    );
    const configRequests = (s: Simulator) => s.device.stats.requests.COMM_GET_CUSTOM_CONFIG ?? 0;
    const before = configRequests(tcpSim) + configRequests(hubSim);
    const proc = spawn(process.execPath, [MAIN, "run", "--config", config], {
      env: { ...process.env, SECRETS_TEST_HUB_PW: SIM_SECRETS.hubPassword },
      stdio: ["ignore", "pipe", "pipe"],
    });
    bridge = proc;
    proc.stdout?.on("data", (d: Buffer) => (bridgeOut += d.toString()));
    proc.stderr?.on("data", (d: Buffer) => (bridgeOut += d.toString()));
    const states = (id: string) => rec.messages.filter((m) => m.topic === `vesc2mqtt/${id}/state`).length;
    await waitFor(() => states("hubpack") >= 5 && states("tcppack") >= 5, {
      timeoutMs: 20_000,
      what: `state messages (bridge output so far: ${bridgeOut.slice(-500)})`,
    });
    // The opted-in hub device asked (once per connection); the default tcp device never did.
    expect(configRequests(hubSim) - before).toBeGreaterThanOrEqual(1);
    expect(configRequests(tcpSim)).toBe(0);

    const web = `http://127.0.0.1:${webPort}`;
    const now = Date.now();
    const paths = [
      "/",
      "/api/devices",
      "/api/hub",
      "/api/alerts",
      "/metrics",
      ...["hubpack", "tcppack"].flatMap((d) => [
        `/api/history?device=${d}&from=${now - 3_600_000}&to=${now + 60_000}`,
        `/api/history.csv?device=${d}&from=${now - 3_600_000}&to=${now + 60_000}`,
      ]),
    ];
    const bodies: Array<[string, number, Buffer]> = [];
    for (const p of paths) {
      const res = await fetch(web + p);
      bodies.push([p, res.status, Buffer.from(await res.arrayBuffer())]);
    }
    // The live event stream: read for a moment, then hang up.
    const abort = new AbortController();
    const events = await fetch(`${web}/api/events`, { signal: abort.signal });
    let sse = "";
    const reader = events.body?.getReader();
    const until = Date.now() + 1500;
    while (reader && Date.now() < until) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 300)),
      ]);
      if (chunk?.value) sse += Buffer.from(chunk.value).toString();
    }
    abort.abort();
    await reader?.cancel().catch(() => undefined);
    bodies.push(["/api/events", events.status, Buffer.from(sse)]);
    expect(bodies.filter(([, status]) => status === 200).length).toBeGreaterThanOrEqual(8);
    expect(sse).toContain("hubpack");

    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    proc.kill("SIGTERM");
    expect(await exited).toBe(0);

    for (const [p, , body] of bodies) expect(leaks(body), `GET ${p}`).toEqual([]);
    expect(rec.messages.length).toBeGreaterThan(20);
    const mqttLeaks = rec.messages.filter((m) => leaks(m.payload).length > 0 || leaks(m.topic).length > 0);
    expect(mqttLeaks.map((m) => m.topic)).toEqual([]);
    expect(leaks(bridgeOut), "bridge stdout/stderr").toEqual([]);
    expect(bridgeOut).toContain("hubpack"); // debug logging really ran
    const dbFiles = readdirSync(dir).filter((f) => f.startsWith("history.db"));
    expect(dbFiles).toContain("history.db");
    for (const f of dbFiles) expect(leaks(readFileSync(join(dir, f))), f).toEqual([]);
  });
});
