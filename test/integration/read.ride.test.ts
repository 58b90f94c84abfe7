/**
 * `vesc2mqtt read --can-id 84` against the simulator's Floatwheel: the JSON line carries the
 * ride groups, the table a Ride block; a node on old firmware is read without a single
 * request its firmware does not know (counted on the device side).
 */
import { afterEach, describe, expect, test } from "vitest";
import { readCommand } from "../../src/cli/read.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sim(options: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  const s = await startSimulator({ port: 0, seed: 3, canIds: [84], scenario: "riding", ...options });
  cleanups.push(() => s.close());
  return s;
}

async function read(s: Simulator, extra: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const argv = ["--tcp", `127.0.0.1:${s.port}`, "--can-id", "84", ...extra];
  const code = await readCommand(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), env: {} });
  return { code, out, err };
}

describe("vesc2mqtt read --can-id 84 on a Floatwheel", () => {
  test("--json: values, setup, stats, refloat and the derived ride values", async () => {
    const s = await sim();
    const { code, out, err } = await read(s, ["--json"]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const line = JSON.parse(out.trim());
    expect(Object.keys(line)).toEqual(["device", "values", "setup", "stats", "refloat", "ride"]);
    expect(line.device).toMatchObject({ hardware: "ADV500", canId: 84 });
    expect(line.setup.odometerM).toBeGreaterThan(0);
    expect(line.refloat).toMatchObject({ package: "Refloat 1.2.3", rideState: "riding" });
    expect(line.ride.speedKmh).toBeGreaterThan(12);
    expect(line.ride.speedKmh).toBeLessThan(31);
    expect(line.ride).toMatchObject({ state: "riding", footpadLeft: true, footpadRight: true });
  });

  test("the table has a Ride block with the catalogue's labels", async () => {
    const s = await sim();
    const { code, out } = await read(s, []);
    expect(code).toBe(0);
    expect(out).toMatch(/\nRide\n {2}Speed +\d+\.\d km\/h\n/);
    expect(out).toContain("  Package       Refloat 1.2.3");
  });

  test("bldc 3.40: the values only, no error, and nothing else asked", async () => {
    const s = await sim({ firmware: { major: 3, minor: 40 } });
    const { code, out, err } = await read(s, ["--json", "--count", "3", "--interval", "0"]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const lines = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(Object.keys(l)).toEqual(["device", "values"]);
    const forwarded = Object.keys(s.device.stats.requests).filter((k) => k.endsWith("@84"));
    expect(forwarded.sort()).toEqual(["COMM_FW_VERSION@84", "COMM_GET_VALUES@84"]);
  });
});
