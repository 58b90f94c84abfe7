/**
 * Serial transport through a real pseudo-terminal pair made by socat: the simulator serves
 * one end with serveSerial, the poller and `read --serial` use the other.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, expect, test } from "vitest";
import { readCommand } from "../../src/cli/read.js";
import type { Reading } from "../../src/model/reading.js";
import { decodeBmsValues, encodeBmsValuesResponse } from "../../src/protocol/index.js";
import { withStats } from "../../src/session/device.js";
import { Poller } from "../../src/session/poller.js";
import { SimDevice, serveSerial } from "../../src/sim/index.js";
import { serialTransport } from "../../src/transport/serial.js";
import { SOCAT, describeWithBinary } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Starts `socat -d -d pty,raw,echo=0 pty,raw,echo=0` and reads the two /dev/pts paths from its stderr. */
async function ptyPair(): Promise<[string, string]> {
  const child: ChildProcess = spawn(SOCAT, ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  );
  let text = "";
  child.stderr?.on("data", (d: Buffer) => {
    text += d.toString();
  });
  const paths = await waitFor(
    () => {
      const found = [...text.matchAll(/PTY is (\/dev\/\S+)/g)].map((m) => m[1] as string);
      return found.length >= 2 && /starting data transfer loop/.test(text) ? found : undefined;
    },
    { timeoutMs: 10_000, what: "socat pty paths" },
  );
  return [paths[0] as string, paths[1] as string];
}

describeWithBinary(SOCAT, "serial through a socat pty", () => {
  const FIXED_NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

  test("the poller reads the simulated BMS over serial, and stop() closes the port", async () => {
    const [devicePath, clientPath] = await ptyPair();
    const device = new SimDevice({ cells: 16, seed: 11, clock: () => FIXED_NOW });
    const serving = await serveSerial(device, devicePath);
    cleanups.push(() => serving.close());
    const p = new Poller({
      deviceId: "serial-pack",
      transport: serialTransport({ path: clientPath, baud: 115200 }),
      url: `serial://${clientPath}?baud=115200`,
      intervalMs: 100,
      requestTimeoutMs: 1000,
      backoffInitialMs: 50,
    });
    cleanups.push(() => p.stop());
    const readings: Reading[] = [];
    p.on("reading", (r) => readings.push(r));
    p.start();
    await waitFor(() => readings.length >= 3, { what: "serial readings" });
    await p.stop();
    const expected = withStats(decodeBmsValues(encodeBmsValuesResponse(device.bmsValues())));
    for (const r of readings) expect(r.bms).toEqual(expected);
    expect(device.stats.requests.COMM_FW_VERSION).toBe(1);
    expect(p.status().link).toBe("offline");
  });

  test("read --serial PATH --json", async () => {
    const [devicePath, clientPath] = await ptyPair();
    const device = new SimDevice({ cells: 12, seed: 5, clock: () => FIXED_NOW });
    const serving = await serveSerial(device, devicePath);
    cleanups.push(() => serving.close());
    let out = "";
    let err = "";
    const code = await readCommand(
      ["--serial", clientPath, "--baud", "115200", "--json", "--count", "3", "--interval", "0"],
      {
        stdout: (t) => (out += t),
        stderr: (t) => (err += t),
        env: {},
      },
    );
    expect(err).toBe("");
    expect(code).toBe(0);
    const lines = out
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l.bms.cells).toHaveLength(12);
  });
});
