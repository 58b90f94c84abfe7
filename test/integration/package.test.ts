/**
 * The published package: `npm pack` the built tree, unpack it into a scratch project's
 * node_modules and import the documented entry points from outside the repository, the way a
 * user's program would; and `npm i -g` the tarball into a temporary prefix and run
 * `vesc2mqtt demo` from its bin. Dependencies come from npm's cache where it has them;
 * better-sqlite3's prebuilt binary comes from a local mirror (its download host is out of
 * reach here), the path a user on linux-x64/arm64 takes. Compiling from source is the
 * container build's part. Needs `dist/` (npm test builds it first).
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/waitFor.js";

const root = new URL("../..", import.meta.url).pathname;

describe("npm package", () => {
  let scratch = "";
  let tarball = "";

  beforeAll(() => {
    if (!existsSync(join(root, "dist/index.js")))
      throw new Error("dist/ is missing: run `npm run build` (npm test does)");
    scratch = mkdtempSync(join(tmpdir(), "vesc2mqtt-pack-"));
    const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch], {
      cwd: root,
      encoding: "utf8",
    });
    const parsed: unknown = JSON.parse(out);
    const name = Array.isArray(parsed) && typeof parsed[0]?.filename === "string" ? parsed[0].filename : "";
    tarball = join(scratch, name);
    const pkgDir = join(scratch, "app/node_modules/vesc2mqtt");
    mkdirSync(pkgDir, { recursive: true });
    execFileSync("tar", ["-xzf", tarball, "-C", pkgDir, "--strip-components=1"]);
    writeFileSync(
      join(scratch, "app/package.json"),
      JSON.stringify({ name: "app", type: "module", private: true }),
    );
  }, 60_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("ships dist without tests or sources of secrets", () => {
    const list = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n");
    expect(list).toContain("package/dist/index.js");
    expect(list).toContain("package/dist/cli/main.js");
    expect(list).toContain("package/dist/addon/main.js");
    expect(list).toContain("package/src/web/static/index.html");
    expect(list).toContain("package/examples/vesc2mqtt.service");
    expect(list.some((f) => f.startsWith("package/src/") && f.endsWith(".ts"))).toBe(false);
    expect(list.some((f) => f.startsWith("package/ha-addon/") || f.startsWith("package/test/"))).toBe(false);
    expect(list.some((f) => f.endsWith(".test.js"))).toBe(false);
    expect(list.some((f) => /\.(pcap|pcapng)$/.test(f))).toBe(false);
  });

  it("exports the documented library entry points from the package root", () => {
    const program = `
      import { crc16, encodeFrame, FrameDecoder, decodeFwVersion, decodeValues, decodeBmsValues, cellStats } from "vesc2mqtt";
      const frame = encodeFrame(Uint8Array.of(0x60));
      const events = new FrameDecoder().push(frame);
      console.log(JSON.stringify({
        crc: crc16(new TextEncoder().encode("123456789")),
        frame: Array.from(frame),
        kinds: events.map((e) => e.kind),
        types: [typeof decodeFwVersion, typeof decodeValues, typeof decodeBmsValues],
        stats: cellStats([4.1, 4.2]),
      }));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", program], {
      cwd: join(scratch, "app"),
      encoding: "utf8",
    });
    expect(JSON.parse(out)).toEqual({
      crc: 0x31c3,
      frame: [2, 1, 0x60, 0x6c, 0xa6, 3],
      kinds: ["frame"],
      types: ["function", "function", "function"],
      stats: {
        cellMin: 4.1,
        cellMinNumber: 1,
        cellMax: 4.2,
        cellMaxNumber: 2,
        cellAverage: 4.15,
        cellDelta: 0.1,
      },
    });
  });
});

const run = promisify(execFile);

/** Serves the repository's own better-sqlite3 binary the way its release host would (prebuild-install's URL). */
async function prebuildMirror(scratch: string, requests: string[]): Promise<Server> {
  const pkg = join(root, "node_modules/better-sqlite3");
  const { version } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { version: string };
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const archive = join(scratch, name);
  await run("tar", ["-czf", archive, "-C", pkg, "build/Release/better_sqlite3.node"]);
  const body = readFileSync(archive);
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url === `/v${version}/${name}`)
      res.writeHead(200, { "content-type": "application/gzip" }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return server;
}

describe("npm i -g vesc2mqtt", () => {
  let scratch = "";
  let prefix = "";
  let mirror: Server | undefined;
  const mirrorRequests: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(root, "dist/index.js")))
      throw new Error("dist/ is missing: run `npm run build` (npm test does)");
    scratch = mkdtempSync(join(tmpdir(), "vesc2mqtt-global-"));
    prefix = join(scratch, "prefix");
    const { stdout } = await run(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch],
      {
        cwd: root,
        encoding: "utf8",
      },
    );
    const [info] = JSON.parse(stdout) as Array<{ filename: string }>;
    mirror = await prebuildMirror(scratch, mirrorRequests);
    const mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`;
    // Outside the repository, as a user would: only the tarball and the registry (or npm's cache).
    await run(
      "npm",
      [
        "install",
        "--global",
        "--prefix",
        prefix,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        join(scratch, info?.filename ?? ""),
      ],
      {
        cwd: scratch,
        encoding: "utf8",
        timeout: 300_000,
        env: { ...process.env, npm_config_better_sqlite3_binary_host: mirrorUrl },
      },
    );
  }, 300_000);

  afterAll(async () => {
    await new Promise<void>((r) => (mirror ? mirror.close(() => r()) : r()));
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("installs the native addons without a compiler run", () => {
    const lib = join(prefix, "lib/node_modules/vesc2mqtt/node_modules");
    expect(mirrorRequests).toHaveLength(1);
    expect(existsSync(join(lib, "better-sqlite3/build/Release/better_sqlite3.node"))).toBe(true);
    expect(existsSync(join(lib, "better-sqlite3/build/Release/obj"))).toBe(false);
    expect(existsSync(join(lib, "@serialport/bindings-cpp/prebuilds"))).toBe(true);
  });

  it("the installed bin runs `vesc2mqtt demo`: URLs printed, dashboard and history answer, SIGTERM stops it", async () => {
    const bin = join(prefix, "bin", "vesc2mqtt");
    expect(existsSync(bin)).toBe(true);
    const child = spawn(bin, ["demo", "--mqtt-port", "0", "--web-port", "0"], {
      cwd: scratch,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PATH: `${join(prefix, "bin")}:${process.env.PATH ?? ""}` },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      const web = await waitFor(() => /dashboard: +(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], {
        timeoutMs: 20_000,
        what: `the demo's URLs (stderr: ${err})`,
      });
      expect(out).toMatch(/MQTT: +mqtt:\/\/127\.0\.0\.1:\d+/);
      expect((await fetch(`${web}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${web}/`)).text()).toContain("vesc2mqtt");
      // History (better-sqlite3, built by npm for this install) has the demo's readings.
      await waitFor(
        async () => {
          const r = await fetch(`${web}/api/history?device=demo_pack`);
          return r.ok && ((await r.json()) as { rows: number }).rows > 0;
        },
        { timeoutMs: 20_000, what: "history rows from the installed package" },
      );
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(out).toContain("vesc2mqtt demo stopped");
  }, 60_000);
});
