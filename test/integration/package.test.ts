/**
 * The published package: `npm pack` the built tree, unpack it into a scratch project's
 * node_modules and import the documented entry points from outside the repository, the way a
 * user's program would. Needs `dist/` (npm test builds it first).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

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
