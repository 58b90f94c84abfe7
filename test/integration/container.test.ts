/**
 * The container image, built and run with podman (runc, cgroupfs, host network: this
 * machine has no container daemon and no registry). The base is made locally with
 * debootstrap (Debian trixie + nodejs) and kept between runs; the image is built from the
 * repository's Containerfile, its npm steps reading the host's npm cache. Then: the bridge in the container with a config in /data reads
 * the simulator on the host, publishes to a real Mosquitto, answers the dashboard, /metrics
 * and its HEALTHCHECK; and the add-on entrypoint turns a sample /data/options.json plus a
 * fake Supervisor's MQTT service into a running bridge. Prints image size and start-up time.
 */
import { execFile, execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Simulator, startSimulator } from "../../src/sim/index.js";
import { freePort, Mosquitto, Recorder } from "../helpers/mosquitto.js";
import { describeWithBinary, MOSQUITTO } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

const run = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;

const PODMAN = "/usr/bin/podman";
const RUNC = "/usr/sbin/runc";
const DEBOOTSTRAP = "/usr/sbin/debootstrap";
/** Kept between runs: debootstrap takes ~30–40 s. */
const BASE_IMAGE = "localhost/vesc2mqtt-base:trixie-node";
const IMAGE = "localhost/vesc2mqtt:ci";
const RUN_UID = 10001; // the image's vesc2mqtt user

let containersConf = "";
const podmanArgs = (args: string[]) => ["--runtime", RUNC, "--cgroup-manager=cgroupfs", ...args];
const podmanEnv = () => ({ ...process.env, CONTAINERS_CONF: containersConf });

async function podman(args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run(PODMAN, podmanArgs(args), {
    env: podmanEnv(),
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

/** Like podman(), but a failure carries the end of the build log (the compiler's message). */
async function podmanShowingOutput(args: string[], timeoutMs: number): Promise<string> {
  try {
    return await podman(args, timeoutMs);
  } catch (e) {
    const { stdout = "", stderr = "" } = e as { stdout?: string; stderr?: string };
    const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-40).join("\n");
    throw new Error(`podman ${args[0]} failed:\n${tail}`);
  }
}

async function imageExists(image: string): Promise<boolean> {
  try {
    await podman(["image", "exists", image]);
    return true;
  } catch {
    return false;
  }
}

/** The Debian mirror apt already uses here (deb822 or one-line sources), else deb.debian.org. */
function debianMirror(): string {
  const files = ["/etc/apt/sources.list"];
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir)) for (const f of readdirSync(dir)) files.push(join(dir, f));
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    const m = /^URIs:\s*(\S+)/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s/m.exec(text);
    if (m?.[1] && !m[1].includes("security")) return m[1];
  }
  return "http://deb.debian.org/debian";
}

async function ensureBaseImage(): Promise<void> {
  if (await imageExists(BASE_IMAGE)) return;
  const dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-rootfs-"));
  try {
    await run(
      DEBOOTSTRAP,
      ["--variant=minbase", "--include=nodejs", "trixie", join(dir, "rootfs"), debianMirror()],
      {
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    execFileSync(
      "sh",
      [
        "-c",
        `tar -C "$1" -c . | "$2" "$@"`,
        "sh",
        join(dir, "rootfs"),
        PODMAN,
        ...podmanArgs(["import", "-", BASE_IMAGE]),
      ],
      {
        env: podmanEnv(),
        stdio: ["ignore", "ignore", "inherit"],
        timeout: 120_000,
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A TLS-inspecting proxy's CA (as this machine's Node uses) reaches npm inside the build. */
function caArgs(): string[] {
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  if (!ca || !existsSync(ca)) return [];
  return [
    "-v",
    `${ca}:/run/ca.crt:ro`,
    "--build-arg",
    "NODE_EXTRA_CA_CERTS=/run/ca.crt",
    "--build-arg",
    "npm_config_cafile=/run/ca.crt",
  ];
}

/** The host's npm cache (filled by `npm ci`) serves the build's npm ci: fewer downloads, works offline. */
function npmCacheArgs(): string[] {
  const cache = join(homedir(), ".npm");
  if (!existsSync(join(cache, "_cacache"))) return [];
  return ["-v", `${cache}:/root/.npm`, "--build-arg", "npm_config_prefer_offline=true"];
}

async function buildImage(): Promise<void> {
  await podmanShowingOutput(
    [
      "build",
      "--format",
      "docker", // OCI images drop HEALTHCHECK
      "--network=host",
      "--jobs=2", // the deps (SQLite compile) and build (tsc) stages side by side
      ...caArgs(),
      ...npmCacheArgs(),
      "--build-arg",
      `BASE=${BASE_IMAGE}`,
      "-t",
      IMAGE,
      "-f",
      join(root, "Containerfile"),
      root,
    ],
    900_000,
  );
}

/** A folder for /data, owned by the image's user as a real volume would be. */
function dataDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chownSync(dir, RUN_UID, RUN_UID);
  chmodSync(dir, 0o700);
  return dir;
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

interface DevicesAnswer {
  devices: Array<{ deviceId: string; reading?: { bms?: { cells: number[] } } }>;
}

async function cellsOf(webUrl: string, deviceId: string): Promise<number[] | undefined> {
  try {
    const d = (await getJson(`${webUrl}/api/devices`)) as DevicesAnswer;
    return d.devices.find((x) => x.deviceId === deviceId)?.reading?.bms?.cells;
  } catch {
    return undefined;
  }
}

async function logsOf(name: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(PODMAN, podmanArgs(["logs", name]), { env: podmanEnv() });
    return `${stdout}${stderr}`;
  } catch (e) {
    return String(e);
  }
}

describeWithBinary(PODMAN, "container image", () => {
  describeWithBinary(RUNC, "(runc)", () => {
    describeWithBinary(DEBOOTSTRAP, "(debootstrap)", () => {
      describeWithBinary(MOSQUITTO, "built and run with podman", () => {
        let work = "";
        let sim: Simulator;
        let broker: Mosquitto;
        const containers: string[] = [];
        const dirs: string[] = [];

        beforeAll(async () => {
          work = mkdtempSync(join(tmpdir(), "vesc2mqtt-podman-"));
          containersConf = join(work, "containers.conf");
          // runc cannot set RLIMIT_NOFILE here.
          writeFileSync(containersConf, "[containers]\ndefault_ulimits = []\n");
          const t0 = Date.now();
          await ensureBaseImage();
          const t1 = Date.now();
          await buildImage();
          const t2 = Date.now();
          const size = Number(await podman(["image", "inspect", "--format", "{{.Size}}", IMAGE]));
          const base = Number(await podman(["image", "inspect", "--format", "{{.Size}}", BASE_IMAGE]));
          console.log(
            `container: base ${((t1 - t0) / 1000).toFixed(1)} s, build ${((t2 - t1) / 1000).toFixed(1)} s; image ${(size / 1e6).toFixed(0)} MB = base ${(base / 1e6).toFixed(0)} MB + ${((size - base) / 1e6).toFixed(0)} MB`,
          );
          sim = await startSimulator({ host: "127.0.0.1", port: 0, cells: 14, seed: 11 });
          broker = new Mosquitto();
          await broker.start();
        }, 1_200_000);

        afterAll(async () => {
          for (const name of containers) await podman(["rm", "-f", "-t", "0", name]).catch(() => undefined);
          await sim?.close();
          await broker?.dispose();
          for (const d of dirs) rmSync(d, { recursive: true, force: true });
          if (work) rmSync(work, { recursive: true, force: true });
        });

        test("runs the bridge with /data/vesc2mqtt.yaml: reads the simulator, MQTT, dashboard, /metrics, healthcheck", async () => {
          const data = dataDir("vesc2mqtt-data-");
          dirs.push(data);
          const webPort = await freePort();
          writeFileSync(
            join(data, "vesc2mqtt.yaml"),
            [
              "data_dir: /data",
              `mqtt: { url: "mqtt://127.0.0.1:${broker.port}", client_id: vesc2mqtt-ci }`,
              "devices:",
              `  - { id: ci_pack, connection: { type: tcp, host: 127.0.0.1, port: ${sim.port} }, interval_s: 0.5 }`,
              `web: { host: 127.0.0.1, port: ${webPort} }`,
              "",
            ].join("\n"),
          );
          const recorder = new Recorder();
          await recorder.start(broker.url);
          const name = `vesc2mqtt-ci-${process.pid}`;
          containers.push(name);
          const webUrl = `http://127.0.0.1:${webPort}`;
          const started = Date.now();
          await podman([
            "run",
            "-d",
            "--name",
            name,
            "--network=host",
            "-v",
            `${data}:/data`,
            "-e",
            `VESC2MQTT_HEALTH_URL=${webUrl}/healthz`,
            IMAGE,
          ]);
          try {
            const cells = await waitFor(() => cellsOf(webUrl, "ci_pack"), {
              timeoutMs: 30_000,
              intervalMs: 50,
              what: "the first reading in the container",
            });
            console.log(`container: start-up to first reading ${Date.now() - started} ms`);
            expect(cells).toHaveLength(14);

            const page = await fetch(`${webUrl}/`);
            expect(page.status).toBe(200);
            expect(await page.text()).toContain('src="static/app.js"');
            const metrics = await (await fetch(`${webUrl}/metrics`)).text();
            expect(metrics).toMatch(/\{[^}]*device="ci_pack"[^}]*\}/);
            await waitFor(() => recorder.json("vesc2mqtt/ci_pack/state"), {
              timeoutMs: 15_000,
              what: "the device's state on MQTT",
            });
            expect(await podman(["healthcheck", "run", name])).toBe("");
            expect(await podman(["exec", name, "id", "-u"])).toBe(String(RUN_UID));
            await waitFor(() => existsSync(join(data, "history.db")), { what: "history.db in /data" });
            expect(statSync(join(data, "history.db")).uid).toBe(RUN_UID);
          } catch (e) {
            console.log(await logsOf(name));
            throw e;
          } finally {
            await recorder.stop();
          }
          // SIGTERM (through tini) stops the bridge cleanly.
          await podman(["stop", "-t", "15", name]);
          expect(await podman(["inspect", "--format", "{{.State.ExitCode}}", name])).toBe("0");
          expect(await logsOf(name)).toContain("vesc2mqtt stopped");
        }, 120_000);

        describe("the Home Assistant add-on entrypoint", () => {
          let supervisor: Server;
          const asked: string[] = [];

          beforeAll(async () => {
            supervisor = createServer((req, res) => {
              asked.push(`${req.url} ${req.headers.authorization}`);
              res.writeHead(200, { "content-type": "application/json" }).end(
                JSON.stringify({
                  result: "ok",
                  data: {
                    host: "127.0.0.1",
                    port: broker.port,
                    ssl: false,
                    username: "addons",
                    password: "addon-broker-pw-7731",
                  },
                }),
              );
            });
            await new Promise<void>((r) => supervisor.listen(0, "127.0.0.1", () => r()));
          });
          afterAll(async () => {
            await new Promise<void>((r) => (supervisor ? supervisor.close(() => r()) : r()));
          });

          test("sample /data/options.json + the Supervisor's broker → config in /data → readings", async () => {
            const data = dataDir("vesc2mqtt-addon-");
            dirs.push(data);
            const webPort = await freePort();
            const options = {
              log_level: "info",
              devices: [
                {
                  id: "addon_pack",
                  name: "Add-on pack",
                  type: "tcp",
                  host: "127.0.0.1",
                  port: sim.port,
                  interval_s: 0.5,
                },
              ],
              mqtt: { base_topic: "vesc_addon" },
              alerts: { cell_delta: 0.05 },
              hub: { enabled: false },
              hub_devices: [],
            };
            writeFileSync(join(data, "options.json"), JSON.stringify(options), { mode: 0o644 });
            const recorder = new Recorder();
            await recorder.start(broker.url);
            const name = `vesc2mqtt-ci-addon-${process.pid}`;
            containers.push(name);
            const port = (supervisor.address() as AddressInfo).port;
            await podman([
              "run",
              "-d",
              "--name",
              name,
              "--network=host",
              "-v",
              `${data}:/data`,
              "-e",
              "SUPERVISOR_TOKEN=ci-supervisor-token",
              "-e",
              `VESC2MQTT_SUPERVISOR_URL=http://127.0.0.1:${port}`,
              IMAGE,
              "addon",
              "--web-host",
              "127.0.0.1",
              "--web-port",
              String(webPort),
            ]);
            try {
              // The add-on's dashboard accepts only the ingress proxy; the health URL answers anyone.
              const webUrl = `http://127.0.0.1:${webPort}`;
              await waitFor(async () => (await fetch(`${webUrl}/healthz`).catch(() => undefined))?.ok, {
                timeoutMs: 30_000,
                what: "the add-on's /healthz",
              });
              await waitFor(() => recorder.json("vesc_addon/addon_pack/state"), {
                timeoutMs: 20_000,
                what: "the add-on's readings on MQTT",
              });
              expect(asked).toEqual(["/services/mqtt Bearer ci-supervisor-token"]);
              const generated = readFileSync(join(data, "vesc2mqtt.yaml"), "utf8");
              expect(generated).toContain(`url: mqtt://127.0.0.1:${broker.port}`);
              expect(generated).not.toContain("addon-broker-pw-7731");
            } catch (e) {
              console.log(await logsOf(name));
              throw e;
            } finally {
              await recorder.stop();
            }
            await podman(["stop", "-t", "15", name]);
            expect(await podman(["inspect", "--format", "{{.State.ExitCode}}", name])).toBe("0");
          }, 120_000);
        });
      });
    });
  });
});
