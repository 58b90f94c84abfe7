/**
 * Hub behaviour of the simulator: the VESCTOOL login line in front of the frames (right →
 * served, wrong → closed without a byte), slow login, and a simulated Express registering
 * out to a hub with `VESC:<id>:<password>\n\0` and serving frames on that socket.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { CommandId, decodeFwVersion, encodeFrame } from "../../src/protocol/index.js";
import { registerWithHub, SimDevice, type Simulator, startSimulator } from "../../src/sim/index.js";
import { FrameClient } from "../helpers/simClient.js";
import { waitFor } from "../helpers/waitFor.js";

const FW = Uint8Array.of(CommandId.FwVersion);
const LOGIN = { id: "express1", password: "pw-123" };
const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function hubSim(extra: Parameters<typeof startSimulator>[0] = {}): Promise<Simulator> {
  const s = await startSimulator({ port: 0, seed: 3, hubLogin: LOGIN, ...extra });
  open.push(s);
  return s;
}

async function client(s: Simulator): Promise<FrameClient> {
  const c = await FrameClient.tcp(s.port);
  open.push(c);
  return c;
}

describe("simulator behind a hub login", () => {
  test("the right login line, then frames in the same write: served", async () => {
    const s = await hubSim();
    const c = await client(s);
    c.sendRaw(Buffer.concat([Buffer.from("VESCTOOL:express1:pw-123\n"), encodeFrame(FW)]));
    expect(decodeFwVersion(await c.next()).hardware).toBe("VESC Express T");
  });

  test("ids are case-insensitive and may be split across writes, like the reference hub", async () => {
    const s = await hubSim();
    const c = await client(s);
    c.sendRaw("VESCTOOL:EXPRESS");
    c.sendRaw("1:pw-123\n");
    expect((await c.request(FW))[0]).toBe(CommandId.FwVersion);
  });

  test.each([
    ["wrong password", "VESCTOOL:express1:PW-123\n"],
    ["wrong id", "VESCTOOL:express2:pw-123\n"],
    ["device line", "VESC:express1:pw-123\n"],
    ["no login, just a frame", `${Buffer.from(encodeFrame(FW)).toString("latin1")}\n`],
    ["four tokens", "VESCTOOL:express1:pw-123:x\n"],
  ])("%s: closed without a byte", async (_name, line) => {
    const s = await hubSim();
    const c = await client(s);
    c.sendRaw(Buffer.from(line, "latin1"));
    await c.closedPromise;
    expect(c.received).toBe(0);
    expect(s.device.stats.loginFailures).toBe(1);
  });

  test("slow login: frames sent right after the line are still answered, in order", async () => {
    const s = await hubSim({ faults: { slowLoginMs: 150 } });
    const c = await client(s);
    c.sendRaw(Buffer.concat([Buffer.from("VESCTOOL:express1:pw-123\n"), encodeFrame(FW)]));
    c.send(Uint8Array.of(CommandId.BmsGetValues));
    expect((await c.next())[0]).toBe(CommandId.FwVersion);
    expect((await c.next())[0]).toBe(CommandId.BmsGetValues);
  });
});

describe("registerWithHub", () => {
  test("sends VESC:<id>:<password>\\n plus a 0x00, then serves frames on the hub socket", async () => {
    let hubSide: Socket | undefined;
    const server: Server = createServer((s) => {
      hubSide = s;
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    open.push({
      close: () =>
        new Promise<void>((r) => {
          hubSide?.destroy();
          server.close(() => r());
        }),
    });
    const port = (server.address() as { port: number }).port;
    const device = new SimDevice({ seed: 9 });
    const reg = await registerWithHub(device, { host: "127.0.0.1", port, id: "dev-1", password: "s3cret" });
    open.push(reg);
    await waitFor(() => hubSide, { what: "hub accepted the device" });
    const tool = new FrameClient(hubSide as Socket);
    const line: number[] = [];
    tool.stream.prependListener("data", (b: Buffer) => line.push(...b));
    await waitFor(() => line.length >= "VESC:dev-1:s3cret\n".length + 1, { what: "registration line" });
    expect(Buffer.from(line.slice(0, 19)).toString("latin1")).toBe("VESC:dev-1:s3cret\n\0");
    expect(decodeFwVersion(await tool.request(FW)).uuid).toBe(device.uuid);
    // The line and its trailing 0x00 are garbage to a frame decoder; it resyncs past them.
    expect(tool.decoder.stats.bytesDiscarded).toBeGreaterThan(0);
    await reg.close();
    await tool.closedPromise;
  });
});
