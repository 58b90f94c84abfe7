/**
 * `vesc2mqtt read` and `scan` in-process (readCommand/scanCommand with captured output)
 * against the simulator, plus one spawned run of the built binary for the
 * "one line, no stack trace" guarantee.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { readCommand } from "../../src/cli/read.js";
import { scanCommand } from "../../src/cli/scan.js";
import { CommandId, decodeBmsValues, encodeBmsValuesResponse } from "../../src/protocol/index.js";
import { withStats } from "../../src/session/device.js";
import { SIM_SECRETS, type Simulator, startSimulator } from "../../src/sim/index.js";

const FIXED_NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sim(options: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  const s = await startSimulator({ port: 0, cells: 20, seed: 3, clock: () => FIXED_NOW, ...options });
  cleanups.push(() => s.close());
  return s;
}

async function run(
  command: typeof readCommand,
  argv: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await command(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), env });
  return { code, out, err };
}

const secrets = Object.values(SIM_SECRETS).map(String);

describe("vesc2mqtt read", () => {
  test("--count 100 --interval 0 --json: 100 NDJSON readings on ONE connection with ONE handshake", async () => {
    const s = await sim();
    const { code, out, err } = await run(readCommand, [
      "--tcp",
      `127.0.0.1:${s.port}`,
      "--count",
      "100",
      "--interval",
      "0",
      "--json",
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const lines = out.trimEnd().split("\n");
    expect(lines).toHaveLength(100);
    const expected = withStats(decodeBmsValues(encodeBmsValuesResponse(s.device.bmsValues())));
    for (const line of lines) {
      const obj = JSON.parse(line);
      expect(Object.keys(obj).sort()).toEqual(["bms", "device"]);
      expect(obj.device).toEqual({ firmware: "6.05", hardware: "VESC Express T", uuid: s.device.uuid });
      expect(obj.bms).toEqual(JSON.parse(JSON.stringify(expected)));
    }
    expect(s.device.stats.connections).toBe(1);
    expect(s.device.stats.requests.COMM_FW_VERSION).toBe(1);
    expect(s.device.stats.requests.COMM_BMS_GET_VALUES).toBe(100);
  });

  test("the JSON shape matches the contract, fields not sent by old firmware omitted", async () => {
    const s = await sim({ faults: { oldFirmware: true } });
    const { code, out } = await run(readCommand, ["--tcp", `127.0.0.1:${s.port}`, "--json"]);
    expect(code).toBe(0);
    const obj = JSON.parse(out);
    for (const key of [
      "packVoltage",
      "chargeVoltage",
      "current",
      "currentIc",
      "ampHours",
      "wattHours",
      "cells",
      "balancing",
      "temperatures",
      "icTemperature",
      "humidity",
      "humidityTemperature",
      "maxCellTemperature",
      "stats",
    ]) {
      expect(obj.bms).toHaveProperty(key);
    }
    expect(obj.bms).not.toHaveProperty("pressure");
    expect(obj.bms).not.toHaveProperty("ampHoursChargedTotal");
    expect(Object.keys(obj.bms.stats).sort()).toEqual([
      "cellAverage",
      "cellDelta",
      "cellMax",
      "cellMaxNumber",
      "cellMin",
      "cellMinNumber",
    ]);
    expect(obj.bms.stats.cellMin).toBe(Math.min(...obj.bms.cells));
  });

  test("human output is a table with one bar per cell, min/max and balancing marked", async () => {
    const s = await sim();
    const cells = [4.176, 4.178, 4.178, 4.182, 4.184, 4.18, 4.176, 4.18];
    const balancing = cells.map((_, i) => i === 3 || i === 4);
    s.device.defineBehavior({
      onRequest(payload) {
        if (payload[0] !== CommandId.BmsGetValues) return { handled: false };
        return {
          handled: true,
          reply: encodeBmsValuesResponse({ ...s.device.bmsValues(), cells, balancing }),
        };
      },
    });
    const { code, out } = await run(readCommand, ["--tcp", `127.0.0.1:${s.port}`]);
    expect(code).toBe(0);
    expect(out).toContain("VESC Express T");
    expect(out).toMatch(/8S\s+min 4\.176 V \(#1\)\s+max 4\.184 V \(#5\)/);
    const cellLines = out.split("\n").filter((l) => /^\s+\d+\s+\d\.\d{3} V/.test(l));
    expect(cellLines).toHaveLength(8);
    expect(cellLines.map((l) => /\bmin\b/.test(l))).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(cellLines.map((l) => /\bmax\b/.test(l))).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
    ]);
    expect(cellLines.map((l) => l.includes("balancing"))).toEqual(balancing);
    expect(cellLines.every((l) => /[█░]{24}/.test(l))).toBe(true);
  });

  test("--can-id reads a motor controller's values and a CAN BMS through FORWARD_CAN", async () => {
    const s = await sim({ canIds: [84] });
    const motor = await run(readCommand, [
      "--tcp",
      `127.0.0.1:${s.port}`,
      "--can-id",
      "84",
      "--json",
      "--count",
      "2",
      "--interval",
      "0",
    ]);
    expect(motor.code).toBe(0);
    for (const line of motor.out.trimEnd().split("\n")) {
      const obj = JSON.parse(line);
      expect(obj.device).toMatchObject({ hardware: "ADV500", canId: 84 });
      expect(obj.values.controllerId).toBe(84);
      expect(obj.values.inputVoltage).toBeCloseTo(s.device.motorValues(84).inputVoltage ?? Number.NaN, 1);
      expect(obj.bms).toBeUndefined();
    }
    expect(s.device.stats.requests["COMM_FW_VERSION@84"]).toBe(1);
    const bms = await run(readCommand, ["--tcp", `127.0.0.1:${s.port}`, "--can-id", "10", "--json"]);
    expect(bms.code).toBe(0);
    const obj = JSON.parse(bms.out);
    expect(obj.device).toMatchObject({ hardware: "VESC BMS", canId: 10 });
    expect(obj.bms.cells).toHaveLength(20);
    expect(s.device.stats.requests.COMM_PING_CAN).toBeUndefined();
  });

  test("within --count, a dropped connection is re-opened and the run completes", async () => {
    const s = await sim();
    let bmsRequests = 0;
    s.device.defineBehavior({
      onRequest(payload) {
        // The third reading's reply is cut in half and the connection reset.
        if (payload[0] === CommandId.BmsGetValues && ++bmsRequests === 3)
          s.device.faults = { ...s.device.faults, resetMidFrame: "once" };
        return { handled: false };
      },
    });
    const r = await run(readCommand, [
      "--tcp",
      `127.0.0.1:${s.port}`,
      "--count",
      "5",
      "--interval",
      "0",
      "--json",
      "--timeout",
      "1",
    ]);
    expect(r.code).toBe(0);
    expect(r.out.trimEnd().split("\n")).toHaveLength(5);
    expect(r.err).toMatch(/reconnecting/);
    expect(s.device.stats.connections).toBe(2);
  });

  test("through a hub: logs in, FW_VERSION confirmed, no GET_CUSTOM_CONFIG, never prints the secrets", async () => {
    const s = await sim({ hubLogin: { id: "pack1", password: "pw-xyz" } });
    const r = await run(readCommand, ["--hub", `127.0.0.1:${s.port}`, "--hub-id", "pack1", "--json"], {
      VESC_HUB_PASSWORD: "pw-xyz",
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).bms.cells).toHaveLength(20);
    // The custom config (WiFi/hub passwords) is never asked for; the identity is confirmed.
    expect(s.device.stats.requests.COMM_GET_CUSTOM_CONFIG ?? 0).toBe(0);
    expect(s.device.stats.requests.COMM_FW_VERSION).toBe(2);
    for (const secret of [...secrets, "pw-xyz"]) expect(r.out + r.err).not.toContain(secret);
  });

  test("the password can come from --hub-password-file", async () => {
    const s = await sim({ hubLogin: { id: "pack1", password: "from-file" } });
    const dir = mkdtempSync(join(tmpdir(), "v2m-read-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "pw");
    writeFileSync(file, "from-file\n");
    const r = await run(readCommand, [
      "--hub",
      `127.0.0.1:${s.port}`,
      "--hub-id",
      "pack1",
      "--hub-password-file",
      file,
      "--json",
    ]);
    expect(r.code).toBe(0);
  });

  test("a wrong hub password gives the one clear line, exit 1, no password", async () => {
    const s = await sim({ hubLogin: { id: "pack1", password: "right-pw" } });
    const r = await run(readCommand, ["--hub", `127.0.0.1:${s.port}`, "--hub-id", "pack1"], {
      VESC_HUB_PASSWORD: "wrong-pw-42",
    });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err.trimEnd().split("\n")).toHaveLength(1);
    expect(r.err).toContain("hub closed the connection after login: wrong hub id/password or device offline");
    expect(r.err).not.toContain("wrong-pw-42");
    expect(r.err).not.toContain("right-pw");
  });

  test.each([
    [["--tcp", "127.0.0.1:1"], 1, /connection refused/],
    [["--tcp", "no-such-host.invalid"], 1, /no such host/],
    [["--hub", "127.0.0.1:1", "--hub-id", "x"], 2, /VESC_HUB_PASSWORD/],
    [["--hub", "127.0.0.1:1"], 2, /--hub-id/],
    [[], 2, /--tcp/],
    [["--tcp", "h", "--serial", "/dev/x"], 2, /only one/],
    [["--tcp", "h", "--bogus"], 2, /bogus/],
    [["--tcp", "h:99999"], 2, /port/],
    [["--tcp", "h", "--count", "0"], 2, /--count/],
    [["--tcp", "h", "--interval", "-1"], 2, /--interval/],
    [["--tcp", "h", "--can-id", "300"], 2, /--can-id/],
    [["--serial", "/dev/v2m-does-not-exist"], 1, /cannot open/],
  ])("read %j → exit %i, one line on stderr", async (argv, exitCode, message) => {
    const r = await run(readCommand, argv);
    expect(r.code).toBe(exitCode);
    expect(r.err.split("\n")[0]).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.out).toBe("");
  });

  test("a device that never answers: a timeout error, exit 1", async () => {
    const s = await sim({ faults: { stall: true } });
    const r = await run(readCommand, ["--tcp", `127.0.0.1:${s.port}`, "--timeout", "0.2"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no reply to COMM_FW_VERSION within 200 ms/);
    expect(r.err.trimEnd().split("\n")).toHaveLength(1);
  });
});

describe("vesc2mqtt scan", () => {
  test("pings CAN, then FW_VERSION of each id through FORWARD_CAN", async () => {
    const s = await sim({ canIds: [84, 20], canHardware: ["ADV500", "Stormcore"] });
    const r = await run(scanCommand, ["--tcp", `127.0.0.1:${s.port}`]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^20\s+Stormcore\s+6\.05/m);
    expect(r.out).toMatch(/^84\s+ADV500\s+6\.05/m);
    expect(r.out).toMatch(/^10\s+VESC BMS/m);
    expect(s.device.stats.requests.COMM_PING_CAN).toBe(1);
    for (const id of [10, 20, 84]) expect(s.device.stats.requests[`COMM_FW_VERSION@${id}`]).toBe(1);
    const json = await run(scanCommand, ["--tcp", `127.0.0.1:${s.port}`, "--json"]);
    const obj = JSON.parse(json.out);
    expect(obj.can.map((n: { canId: number }) => n.canId)).toEqual([10, 20, 84]);
  });

  // 500 repeats keep the reply within the firmware's 512-byte payload, which the decoder enforces.
  test("a PING_CAN reply listing one id 500 times (and 255) costs one FW_VERSION", async () => {
    const s = await sim({ canIds: [7] });
    s.device.defineBehavior({
      onRequest: (payload) =>
        payload[0] === CommandId.PingCan
          ? { handled: true, reply: Uint8Array.of(CommandId.PingCan, ...new Array(500).fill(7), 255, 7) }
          : { handled: false },
    });
    const r = await run(scanCommand, ["--tcp", `127.0.0.1:${s.port}`, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).can.map((n: { canId: number }) => n.canId)).toEqual([7]);
    expect(s.device.stats.requests["COMM_FW_VERSION@7"]).toBe(1);
    expect(s.device.stats.requests.COMM_FORWARD_CAN).toBe(1);
  });

  test("warns on stderr when run against the public hub", async () => {
    // The public hub name is only recognised, never contacted: the connect goes nowhere fast.
    const r = await run(
      scanCommand,
      ["--hub", "veschub.vedder.se:1", "--hub-id", "x", "--timeout", "0.001"],
      { VESC_HUB_PASSWORD: "p" },
    );
    expect(r.err).toMatch(/warning: scanning through the public hub veschub\.vedder\.se/);
    expect(r.code).toBe(1);
  });

  test("usage mistakes exit 2", async () => {
    const r = await run(scanCommand, ["--nope"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^vesc2mqtt scan: Unknown option '--nope'.*\(see: vesc2mqtt scan --help\)\n$/);
  });
});

describe("the built binary", () => {
  const bin = join(process.cwd(), "dist/cli/main.js");
  test("mistakes print one line and no stack trace", () => {
    const fresh = (): boolean =>
      existsSync(bin) &&
      ["src/cli/read.ts", "src/cli/scan.ts", "src/cli/connectionArgs.ts"].every(
        (src) =>
          statSync(join(process.cwd(), src)).mtimeMs <=
          statSync(join(process.cwd(), "dist/cli", src.slice(8).replace(/\.ts$/, ".js"))).mtimeMs,
      );
    if (!fresh()) {
      // `npm test` builds first; a bare `vitest run` with a missing or stale dist builds here.
      spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { encoding: "utf8", timeout: 120_000 });
    }
    expect(fresh(), "dist/cli is built from the current sources").toBe(true);
    for (const [args, code] of [
      [["read", "--tcp", "127.0.0.1:1"], 1],
      [["read", "--frobnicate"], 2],
      [["scan", "--hub", "127.0.0.1:1", "--hub-id", "a"], 2],
    ] as const) {
      const r = spawnSync(process.execPath, [bin, ...args], {
        encoding: "utf8",
        timeout: 20_000,
        env: { ...process.env, VESC_HUB_PASSWORD: "" },
      });
      expect(r.status, r.stderr).toBe(code);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.split("\n")[0]).toMatch(/^vesc2mqtt (read|scan): /);
    }
  }, 180_000);
});
