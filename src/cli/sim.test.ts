import { describe, expect, test } from "vitest";
import { CommandId, decodeBmsValues, decodeFwVersion, encodeFrame } from "../protocol/index.js";
import { fileURLToPath } from "node:url";
import { loadReplayFile, type SimulatorFleet } from "../sim/index.js";
import { FrameClient } from "../../test/helpers/simClient.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { parseSimArgs, simCommand } from "./sim.js";

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const ac = new AbortController();
  let fleet: SimulatorFleet | undefined;
  const done = simCommand(argv, {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    env,
    signal: ac.signal,
    onListening: (f) => {
      fleet = f;
    },
  });
  return { out, err, done, stop: () => ac.abort(), fleet: () => fleet };
}

describe("vesc2mqtt sim: flags", () => {
  test.each([
    [["--bogus"], "--bogus"],
    [["--cells", "33"], "--cells"],
    [["--cells", "x"], "--cells"],
    [["--can-ids", "84,foo"], "--can-ids"],
    [["--can-ids", "84,84"], "twice"],
    [["--scenario", "flying"], "--scenario"],
    [["--faults", "latency=-1"], "latency"],
    [["--faults", "warp=9"], "unknown fault"],
    [["--firmware", "six"], "--firmware"],
    [["--firmware", "6.5"], "like 6.05"],
    [["--profile", "real"], "model or express-6.05"],
    [["--replay", "/nonexistent/capture.txt"], "--replay: cannot read /nonexistent/capture.txt (ENOENT)"],
    [["--hub-login", "ab:pw"], "3 characters"],
    [["--hub-login", "express1"], "VESC_HUB_PASSWORD"],
    [["positional"], "positional"],
  ])("%j → one line on stderr, exit 2", async (argv, fragment) => {
    const r = await run(argv);
    expect(await r.done).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(fragment);
    expect(r.err[0]).not.toMatch(/\n\s+at /);
    expect(r.out).toHaveLength(0);
  });

  test("parses every option", () => {
    const parsed = parseSimArgs(
      [
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--cells",
        "16",
        "--temps",
        "3",
        "--can-ids",
        "84,85",
        "--can-hw",
        "ADV500,VESC 6",
        "--bms-can-id",
        "255",
        "--scenario",
        "riding",
        "--firmware",
        "5.02",
        "--profile",
        "express-6.05",
        "--faults",
        "latency=50,jitter=5,split=1,garbage=0.1,garbage-size=8,corrupt=0.05,drop=0.2,stall,reset=once,slow-login=100,old-firmware",
        "--seed",
        "7",
        "--devices",
        "3",
        "--hub-login",
        "express1",
      ],
      { VESC_HUB_PASSWORD: "from-env" },
    );
    expect(parsed).toEqual({
      devices: 3,
      options: {
        port: 0,
        host: "127.0.0.1",
        cells: 16,
        tempSensors: 3,
        canIds: [84, 85],
        canHardware: ["ADV500", "VESC 6"],
        bmsCanId: 255,
        scenario: "riding",
        firmware: { major: 5, minor: 2 },
        profile: "express-6.05",
        seed: 7,
        hubLogin: { id: "express1", password: "from-env" },
        faults: {
          latencyMs: 50,
          jitterMs: 5,
          splitReplies: 1,
          garbageBetweenFrames: 0.1,
          garbageMaxBytes: 8,
          corruptCrcRate: 0.05,
          dropReplyRate: 0.2,
          stall: true,
          resetMidFrame: "once",
          slowLoginMs: 100,
          oldFirmware: true,
        },
      },
    });
    expect(parseSimArgs(["--help"])).toBe("help");
  });
});

describe("vesc2mqtt sim: running", () => {
  test("prints one line per device, serves them, stops on abort with exit 0", async () => {
    const r = await run(["--port", "0", "--devices", "2", "--can-ids", "84", "--seed", "5"]);
    await waitFor(() => r.fleet(), { what: "listening" });
    expect(r.out).toHaveLength(2);
    for (const line of r.out) {
      expect(line).toMatch(
        /^simulated VESC Express listening on tcp:\/\/127\.0\.0\.1:\d+ \(20 cells, CAN 84\)$/,
      );
    }
    const port = Number(/:(\d+) /.exec(r.out[1] ?? "")?.[1]);
    const c = await FrameClient.tcp(port);
    expect(decodeFwVersion(await c.request(Uint8Array.of(CommandId.FwVersion))).hardware).toBe(
      "VESC Express T",
    );
    await c.close();
    r.stop();
    expect(await r.done).toBe(0);
    expect(r.err).toHaveLength(0);
  });

  test("--replay FILE serves the recorded BMS replies in order over TCP, the rest as an Express 6.05", async () => {
    const capture = fileURLToPath(
      new URL("../../test/fixtures/frames/bms-express-fw605-sequence.txt", import.meta.url),
    );
    const recorded = loadReplayFile(capture);
    const r = await run(["--port", "0", "--replay", capture, "--can-ids", "84"]);
    await waitFor(() => r.fleet(), { what: "listening" });
    expect(r.out[0]).toMatch(/\(20 cells, CAN 84, replaying 139 BMS replies\)$/);
    const c = await FrameClient.tcp(r.fleet()?.sims[0]?.port ?? 0);
    expect(decodeFwVersion(await c.request(Uint8Array.of(CommandId.FwVersion))).firmware).toBe("6.05");
    for (let i = 0; i < 3; i++) {
      expect(Buffer.from(await c.request(Uint8Array.of(CommandId.BmsGetValues)))).toEqual(
        Buffer.from(recorded[i] ?? new Uint8Array()),
      );
    }
    await c.close();
    r.stop();
    expect(await r.done).toBe(0);
  });

  test("--profile express-6.05: i_in 0, SOC 0, 24 temperature slots with slot 4 at 99.00 °C", async () => {
    const r = await run(["--port", "0", "--profile", "express-6.05"]);
    await waitFor(() => r.fleet(), { what: "listening" });
    expect(r.out[0]).toContain("profile express-6.05");
    const c = await FrameClient.tcp(r.fleet()?.sims[0]?.port ?? 0);
    const v = decodeBmsValues(await c.request(Uint8Array.of(CommandId.BmsGetValues)));
    expect(v.current).toBe(0);
    expect(v.currentIc).toBeGreaterThan(0.1);
    expect(v.soc).toBe(0);
    expect(v.temperatures).toHaveLength(24);
    expect(v.temperatures[3]).toBe(99);
    await c.close();
    r.stop();
    expect(await r.done).toBe(0);
  });

  test("--hub-login ID:PASSWORD wants the login line and never prints the password", async () => {
    const r = await run(["--port", "0", "--hub-login", "garage:hunter2", "--cells", "12"]);
    await waitFor(() => r.fleet(), { what: "listening" });
    expect(r.out[0]).toContain("(12 cells, hub login garage)");
    expect(r.out.join("\n")).not.toContain("hunter2");
    const port = r.fleet()?.sims[0]?.port ?? 0;
    const c = await FrameClient.tcp(port);
    c.sendRaw(
      Buffer.concat([
        Buffer.from("VESCTOOL:garage:hunter2\n"),
        encodeFrame(Uint8Array.of(CommandId.BmsGetValues)),
      ]),
    );
    expect(decodeBmsValues(await c.next()).cells).toHaveLength(12);
    await c.close();
    r.stop();
    expect(await r.done).toBe(0);
  });

  test("a taken port is one line on stderr and exit 1", async () => {
    const first = await run(["--port", "0"]);
    await waitFor(() => first.fleet(), { what: "listening" });
    const port = first.fleet()?.sims[0]?.port ?? 0;
    const second = await run(["--port", String(port)]);
    expect(await second.done).toBe(1);
    expect(second.err).toEqual([`vesc2mqtt sim: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`]);
    first.stop();
    expect(await first.done).toBe(0);
  });
});
