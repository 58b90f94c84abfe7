/**
 * `vesc2mqtt demo` in-process: starts simulator + embedded aedes broker + bridge, publishes
 * valid discovery on its own broker, and stops cleanly on the abort signal (as on Ctrl-C).
 */
import { createServer, type Server } from "node:net";
import { describe, expect, test } from "vitest";
import { demoCommand } from "../../src/cli/demo.js";
import { validateDiscovery } from "../helpers/haRules.js";
import { canConnect, Recorder } from "../helpers/mosquitto.js";
import { waitFor } from "../helpers/waitFor.js";

describe("vesc2mqtt demo", () => {
  test("starts, publishes valid discovery on its embedded broker, stops cleanly", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const abort = new AbortController();
    const exit = demoCommand(["--mqtt-port", "0", "--web-port", "0"], {
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
      signal: abort.signal,
    });
    const mqttLine = await waitFor(() => out.find((l) => l.includes("MQTT:")), { what: "the MQTT URL line" });
    const url = /mqtt:\/\/[\d.]+:\d+/.exec(mqttLine)?.[0];
    expect(url).toBeDefined();
    expect(out.some((l) => l.includes("dashboard:"))).toBe(true);
    const rec = new Recorder();
    await rec.start(url!);
    try {
      const topic = "homeassistant/device/vesc2mqtt_demo_pack/config";
      const cfg = await waitFor(
        () =>
          rec.json<{ cmps: Record<string, unknown> }>(topic)?.cmps.cell_20_voltage &&
          rec.latest.get("homeassistant/device/vesc2mqtt_demo_pack_can84/config"),
        { what: "demo discovery" },
      );
      expect(cfg).toBeDefined();
      const msgs = [...rec.latest]
        .filter(([t]) => t.startsWith("homeassistant/"))
        .map(([t, p]) => ({ topic: t, payload: p.toString() }));
      expect(validateDiscovery(msgs)).toEqual([]);
      await waitFor(
        () => rec.json<{ bms?: { cells: number[] } }>("vesc2mqtt/demo_pack/state")?.bms?.cells.length === 20,
        { what: "demo state" },
      );
    } finally {
      await rec.stop();
    }
    abort.abort();
    expect(await exit).toBe(0);
    expect(out.at(-1)).toBe("vesc2mqtt demo stopped");
    expect(await canConnect(Number(url!.split(":").at(-1)))).toBe(false);
    expect(err.filter((l) => /error/i.test(l))).toEqual([]);
  });

  test("a busy MQTT port is one clear line and a non-zero exit", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    const err: string[] = [];
    try {
      const code = await demoCommand(["--mqtt-port", String(port), "--web-port", "0"], {
        stdout: () => {},
        stderr: (l) => err.push(l),
      });
      expect(code).toBe(1);
      expect(err).toHaveLength(1);
      expect(err[0]).toContain(`${port}`);
      expect(err[0]).toMatch(/in use/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  test.each([
    [["--cells", "0"], "--cells"],
    [["--mqtt-port", "x"], "--mqtt-port"],
    [["--bogus"], "bogus"],
  ])("bad arguments %j → exit 2", async (argv, expected) => {
    const err: string[] = [];
    expect(await demoCommand(argv, { stdout: () => {}, stderr: (l) => err.push(l) })).toBe(2);
    expect(err[0]).toContain(expected);
  });
});
