/**
 * The simulator on a real pty pair made by socat: serveSerial on one end, `serialport` on
 * the other, frames both ways through the kernel's tty layer.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { SerialPort } from "serialport";
import { afterEach, expect, test } from "vitest";
import { CommandId, decodeBmsValues, decodeFwVersion, wrapForwardCan } from "../../src/protocol/index.js";
import { SimDevice, serveSerial } from "../../src/sim/index.js";
import { describeWithBinary, SOCAT } from "../helpers/require.js";
import { FrameClient } from "../helpers/simClient.js";
import { waitFor } from "../helpers/waitFor.js";

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** Starts socat and returns the two /dev/pts paths it reports on stderr. */
async function ptyPair(): Promise<[string, string]> {
  const proc: ChildProcess = spawn(SOCAT, ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    await exited;
  });
  let err = "";
  proc.stderr?.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const paths = await waitFor(
    () => {
      const found = [...err.matchAll(/PTY is (\/dev\/pts\/\d+)/g)].map((m) => m[1] ?? "");
      return found.length >= 2 ? found : undefined;
    },
    { what: "socat pty paths" },
  );
  return [paths[0] ?? "", paths[1] ?? ""];
}

describeWithBinary(SOCAT, "simulator over a socat pty pair", () => {
  test("answers FW_VERSION, BMS values and a forwarded CAN request through serialport", async () => {
    const [deviceEnd, clientEnd] = await ptyPair();
    const t = 1_700_000_000_000;
    const device = new SimDevice({ seed: 21, canIds: [84], clock: () => t });
    const serving = await serveSerial(device, deviceEnd, 115200);
    cleanups.push(() => serving.close());
    const port = new SerialPort({ path: clientEnd, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    const c = new FrameClient(port);
    cleanups.push(async () => {
      if (port.isOpen) await c.close();
    });
    expect(decodeFwVersion(await c.request(Uint8Array.of(CommandId.FwVersion))).uuid).toBe(device.uuid);
    expect(decodeBmsValues(await c.request(Uint8Array.of(CommandId.BmsGetValues)))).toEqual(
      device.bmsValues(),
    );
    expect(
      decodeFwVersion(await c.request(wrapForwardCan(84, Uint8Array.of(CommandId.FwVersion)))).hardware,
    ).toBe("ADV500");
    expect(device.connections).toBe(1);
    await serving.close();
    await waitFor(() => device.connections === 0, { what: "serial connection closed" });
  });

  test("split=1 replies still decode over the tty", async () => {
    const [deviceEnd, clientEnd] = await ptyPair();
    const device = new SimDevice({ seed: 22, faults: { splitReplies: 1 } });
    const serving = await serveSerial(device, deviceEnd);
    cleanups.push(() => serving.close());
    const port = new SerialPort({ path: clientEnd, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    const c = new FrameClient(port);
    cleanups.push(async () => {
      if (port.isOpen) await c.close();
    });
    expect(decodeBmsValues(await c.request(Uint8Array.of(CommandId.BmsGetValues))).cells).toHaveLength(20);
  });
});
