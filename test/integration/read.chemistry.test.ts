/**
 * `vesc2mqtt read --chemistry` against the simulator: a pack resting at ~6 % (cells ~3.33 V
 * on the simulator's NMC curve) reads as a different SOC on each chemistry's OCV table, each
 * the table's SOC of the cells the same table prints; a chemistry it does not know is one
 * stderr line and exit 2, before any connection.
 */
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ocvCurve, socFromCellVoltage } from "../../src/battery/index.js";
import { readCommand } from "../../src/cli/read.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";

const FIXED_NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

async function read(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await readCommand(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), env: {} });
  return { code, out, err };
}

/** The table's `SOC est.` and the cell voltages it lists. */
function parsed(out: string): { est: number; cells: number[] } {
  const est = out.match(/^SOC est\. +(\d+) %$/m);
  const cells = [...out.matchAll(/^ +\d+ {2}(\d\.\d{3}) V /gm)].map((m) => Number(m[1]));
  return { est: Number(est?.[1] ?? Number.NaN), cells };
}

describe("vesc2mqtt read --chemistry", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({
      port: 0,
      cells: 20,
      seed: 3,
      clock: () => FIXED_NOW,
      scenario: "idle",
      startSoc: 0.06,
    });
  });
  afterAll(() => sim.close());

  test("each chemistry's table gives the SOC of the printed cells; nmc is the default", async () => {
    const at = ["--tcp", `127.0.0.1:${sim.port}`];
    const seen = new Map<string, number>();
    for (const chemistry of ["nmc", "lfp", "lto"] as const) {
      const { code, out, err } = await read([...at, "--chemistry", chemistry]);
      expect(err).toBe("");
      expect(code).toBe(0);
      const { est, cells } = parsed(out);
      expect(cells).toHaveLength(20);
      const curve = ocvCurve(chemistry);
      const expected = cells.reduce((sum, v) => sum + socFromCellVoltage(curve, v), 0) / cells.length;
      // The printed cells are rounded to the mV: within a point of the table's SOC of them.
      expect(Math.abs(est - expected)).toBeLessThanOrEqual(1);
      seen.set(chemistry, est);
    }
    // ~3.33 V: near empty for NMC, on LFP's plateau, above LTO's full voltage.
    expect(seen.get("nmc")).toBeLessThan(20);
    expect(seen.get("lfp")).toBeGreaterThan(40);
    expect(seen.get("lfp")).toBeLessThan(90);
    expect(seen.get("lto")).toBe(100);
    expect(parsed((await read(at)).out).est).toBe(seen.get("nmc"));
    expect(parsed((await read([...at, "--chemistry", "LFP"])).out).est).toBe(seen.get("lfp"));
  });

  test("a CAN BMS read with --can-id gets the same estimate as the device's own BMS", async () => {
    const at = ["--tcp", `127.0.0.1:${sim.port}`, "--chemistry", "lfp"];
    const own = parsed((await read(at)).out);
    const { code, out, err } = await read([...at, "--can-id", "10"]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toMatch(/^VESC BMS .* CAN id 10/m);
    const node = parsed(out);
    expect(node.cells).toHaveLength(20);
    const curve = ocvCurve("lfp");
    const expected = node.cells.reduce((sum, v) => sum + socFromCellVoltage(curve, v), 0) / node.cells.length;
    expect(Math.abs(node.est - expected)).toBeLessThanOrEqual(1);
    expect(Math.abs(node.est - own.est)).toBeLessThanOrEqual(2);
  });

  test.each([["lead"], ["custom"], [""]])("--chemistry %j is one stderr line and exit 2", async (value) => {
    const before = sim.device.stats.connections;
    const { code, out, err } = await read(["--tcp", `127.0.0.1:${sim.port}`, "--chemistry", value]);
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toBe(
      `vesc2mqtt read: --chemistry: expected nmc, lfp, lto, got "${value}" (see: vesc2mqtt read --help)\n`,
    );
    expect(sim.device.stats.connections).toBe(before);
  });

  test("the built binary: a bad --chemistry is one line, no stack trace, exit 2", () => {
    const bin = join(process.cwd(), "dist/cli/main.js");
    const built = join(process.cwd(), "dist/cli/read.js");
    if (!existsSync(bin)) throw new Error("dist/ is missing: run `npm run build` (npm test does)");
    if (statSync(built).mtimeMs < statSync(join(process.cwd(), "src/cli/read.ts")).mtimeMs)
      throw new Error("dist/cli/read.js is older than src/cli/read.ts: run `npm run build`");
    const r = spawnSync(process.execPath, [bin, "read", "--tcp", "127.0.0.1:1", "--chemistry", "lipo"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toBe(
      'vesc2mqtt read: --chemistry: expected nmc, lfp, lto, got "lipo" (see: vesc2mqtt read --help)\n',
    );
  });
});
