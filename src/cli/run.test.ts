/** `vesc2mqtt run`: config mistakes → a list on stderr and exit 2 (no secret, no stack); a good config runs and stops. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { Recorder } from "../../test/helpers/mosquitto.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { startSimulator } from "../sim/index.js";
import { runCommand } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCommand(argv, { stdout: (l) => out.push(l), stderr: (l) => err.push(l), env });
  return { code, out, err };
}

describe("vesc2mqtt run: user mistakes", () => {
  test("a config with mistakes lists each on stderr and exits 2, without the password", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      `mqtt: { url: "http://x", password: TopSecret-123 }
devices:
  - { id: pack, connection: { type: tcp, host: h, port: 99999 } }
`,
    );
    const r = await run(["--config", file]);
    expect(r.code).toBe(2);
    expect(r.err[0]).toBe(`vesc2mqtt run: ${file}: 2 configuration errors`);
    expect(r.err.slice(1)).toEqual([
      "  - mqtt.url: expected a URL starting with mqtt://, mqtts://, ws:// or wss://",
      "  - devices[0].connection.port: expected a number 1–65535",
    ]);
    expect(r.err.join("\n")).not.toContain("TopSecret-123");
    expect(r.err.join("\n")).not.toMatch(/\n\s+at /);
  });

  test("a missing config file is one error, exit 2", async () => {
    const r = await run(["--config", join(dir, "nope.yaml")]);
    expect(r.code).toBe(2);
    expect(r.err[1]).toContain("cannot read config file");
  });

  test("an unknown flag is exit 2, one line pointing at --help", async () => {
    const r = await run(["--confg", "x"]);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^vesc2mqtt run: Unknown option '--confg'.*\(see: vesc2mqtt run --help\)$/);
  });
});

describe("vesc2mqtt run: a good config", () => {
  test("runs the bridge with an embedded broker and stops on the signal with exit 0", async () => {
    const sim = await startSimulator({ host: "127.0.0.1", port: 0, cells: 8, seed: 3 });
    const file = join(dir, "good.yaml");
    writeFileSync(
      file,
      `log_level: warn
mqtt: { embedded: { enabled: true, port: 0 } }
web: { enabled: false }
history: { enabled: false }
devices:
  - { id: bench, connection: { type: tcp, host: 127.0.0.1, port: ${sim.port} }, interval_s: 0.2 }
`,
    );
    const out: string[] = [];
    const err: string[] = [];
    const abort = new AbortController();
    const exit = runCommand(["--config", file], {
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
      env: {},
      signal: abort.signal,
    });
    const line = await waitFor(() => out.find((l) => l.startsWith("vesc2mqtt running")), {
      what: "running line",
    });
    const url = /mqtt:\/\/[\d.]+:\d+/.exec(line)?.[0];
    const rec = new Recorder();
    await rec.start(url!);
    try {
      await waitFor(
        () => rec.json<{ bms?: { cells: number[] } }>("vesc2mqtt/bench/state")?.bms?.cells.length === 8,
        { what: "state" },
      );
    } finally {
      await rec.stop();
      abort.abort();
      expect(await exit).toBe(0);
      await sim.close();
    }
    expect(err).toEqual([]);
  });
});
