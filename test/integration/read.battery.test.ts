/**
 * `vesc2mqtt read` against the simulator replaying the real Express 6.05's bytes (SOC 0,
 * cells ~4.19 V at rest): the table's `SOC est.` is the cells' open-circuit-voltage SOC for
 * NMC, ≥ 95 %, while the BMS's own SOC reads 0.
 */
import { afterEach, expect, test } from "vitest";
import { readCommand } from "../../src/cli/read.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";
import { fw605BmsFrames, framePayload } from "../helpers/fw605Sequence.js";

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

test("read on the real 6.05's bytes: SOC 0 from the BMS, SOC est. ≥ 95 % (NMC OCV)", async () => {
  sim = await startSimulator({
    port: 0,
    seed: 1,
    replay: fw605BmsFrames().map((f) => framePayload(f.frame)),
  });
  let out = "";
  let err = "";
  const code = await readCommand(["--tcp", `127.0.0.1:${sim.port}`, "--count", "3", "--interval", "0"], {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: {},
  });
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(out).toContain("SOC 0 %");
  const estimates = [...out.matchAll(/^SOC est\. +(\d+) %$/gm)].map((m) => Number(m[1]));
  expect(estimates).toHaveLength(3);
  for (const soc of estimates) expect(soc).toBeGreaterThanOrEqual(95);
});
