/**
 * Hub behaviour of the simulator: the VESCTOOL login line in front of the frames (right →
 * served, wrong → closed without a byte), slow login, a simulated Express registering out to
 * a hub with `VESC:<id>:<password>\n\0` and serving frames on that socket, and the tcphub
 * emulator (hub-swallow): bytes in the login's read are lost, device bytes sent while no tool
 * is attached are flushed ahead of the next reply; our client connects through it anyway.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { readCommand } from "../../src/cli/read.js";
import { simCommand } from "../../src/cli/sim.js";
import {
  CommandId,
  decodeFwVersion,
  encodeFrame,
  fwVersion,
  wrapForwardCan,
} from "../../src/protocol/index.js";
import { DeviceReader } from "../../src/session/device.js";
import { handshake } from "../../src/session/handshake.js";
import { Session } from "../../src/session/session.js";
import { registerWithHub, SimDevice, type Simulator, startSimulator } from "../../src/sim/index.js";
import { startTcphubEmulator, type TcphubEmulator } from "../../src/sim/tcphubEmulator.js";
import { hubTransport } from "../../src/transport/hub.js";
import { openSocket, SocketTransport } from "../../src/transport/tcp.js";
import type { TransportFactory } from "../../src/transport/transport.js";
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

describe("tcphub emulator (hub-swallow)", () => {
  async function hubAndDevice(device = new SimDevice({ seed: 11, canIds: [84] })) {
    const hub: TcphubEmulator = await startTcphubEmulator();
    open.push(hub);
    const reg = await registerWithHub(device, { host: "127.0.0.1", port: hub.port, ...LOGIN });
    open.push(reg);
    await waitFor(() => hub.devices().includes("EXPRESS1"), { what: "device registered" });
    return { hub, device };
  }

  async function tool(hub: TcphubEmulator): Promise<FrameClient> {
    const c = await FrameClient.tcp(hub.port);
    open.push(c);
    return c;
  }

  test("the Express's trailing 0x00 is lost with its registration read", async () => {
    const { hub } = await hubAndDevice();
    expect(hub.stats.swallowedBytes).toBe(1);
  });

  test("login + 02 01 00 00 00 03 in ONE segment: the device never sees that FW_VERSION", async () => {
    const { hub, device } = await hubAndDevice();
    const c = await tool(hub);
    c.sendRaw(Buffer.concat([Buffer.from("VESCTOOL:express1:pw-123\n"), Buffer.from("020100000003", "hex")]));
    await waitFor(() => hub.stats.toolLogins === 1, { what: "login processed" });
    // Replies keep request order: had the FW_VERSION arrived, its reply would come first.
    expect((await c.request(Uint8Array.of(CommandId.BmsGetValues)))[0]).toBe(CommandId.BmsGetValues);
    expect(device.stats.requests.COMM_FW_VERSION ?? 0).toBe(0);
    expect(hub.stats.swallowedBytes).toBe(1 + 6);
  });

  test("a previous tool's late reply is flushed ahead of ours; the handshake still names the Express", async () => {
    const device = new SimDevice({ seed: 12, canIds: [84], faults: { latencyMs: 60 } });
    const { hub } = await hubAndDevice(device);
    // VESC Tool asks the ADV500 on CAN 84 for its FW_VERSION and leaves before the answer.
    const before = await tool(hub);
    before.sendRaw("VESCTOOL:express1:pw-123\n");
    await waitFor(() => hub.stats.toolLogins === 1, { what: "first login" });
    before.send(wrapForwardCan(84, fwVersion.encodeRequest()));
    await waitFor(() => device.stats.requests["COMM_FW_VERSION@84"] === 1, { what: "forwarded request" });
    await before.close();
    await new Promise((r) => setTimeout(r, 150)); // the ADV500's reply waits in the hub
    const session = new Session(
      await hubTransport({ host: "127.0.0.1", port: hub.port, hubId: "express1", password: "pw-123" })(
        new AbortController().signal,
      ),
    );
    open.push(session);
    const fw = await handshake(session, { confirmIdentity: true, resend: true });
    expect(hub.stats.bufferedBytesFlushed).toBeGreaterThan(0);
    expect(fw.hardware).toBe("VESC Express T");
    expect(fw.uuid).toBe(device.uuid);
  });

  /** A hub login whose line and our first frame leave in one segment, so the hub always swallows it. */
  function corkedLogin(port: number): TransportFactory {
    const url = `hub://127.0.0.1:${port}/express1`;
    return async (signal) => {
      const socket = await openSocket("127.0.0.1", port, url, signal);
      const transport = new SocketTransport(url, socket);
      socket.cork();
      void transport.write(Buffer.from("VESCTOOL:express1:pw-123\n"));
      // After this turn's microtasks: the session's first FW_VERSION joins the login.
      setImmediate(() => socket.uncork());
      return transport;
    };
  }

  test.each([
    ["our hub transport", false],
    ["login and FW_VERSION always in one segment", true],
  ])(
    "20 connects in a row (%s): first reading each time, FW_VERSION resent at most twice, never timed out",
    async (name, corked) => {
      const { hub, device } = await hubAndDevice(new SimDevice({ seed: 13 }));
      const times: number[] = [];
      const resends: number[] = [];
      for (let i = 0; i < 20; i++) {
        const login = performance.now();
        const transport = await (corked
          ? corkedLogin(hub.port)
          : hubTransport({ host: "127.0.0.1", port: hub.port, hubId: "express1", password: "pw-123" }))(
          new AbortController().signal,
        );
        const session = new Session(transport);
        try {
          const fw = await handshake(session, { confirmIdentity: true, resend: true });
          const reading = await new DeviceReader(session, fw, { deviceId: "hub" }).poll();
          times.push(performance.now() - login);
          expect(reading.bms?.cells).toHaveLength(20);
          expect(session.stats.timeouts).toBe(0);
          expect(session.stats.resends).toBeLessThanOrEqual(2);
          resends.push(session.stats.resends);
        } finally {
          await session.close();
        }
        await waitFor(() => hub.stats.toolLogins === i + 1, { what: "login counted" });
      }
      expect(device.stats.requests.COMM_GET_CUSTOM_CONFIG ?? 0).toBe(0);
      if (corked) expect(hub.stats.swallowedBytes).toBeGreaterThanOrEqual(1 + 20 * 6);
      const sorted = [...times].sort((a, b) => a - b);
      console.log(
        `tcphub emulator, ${name}: login → first reading over 20 connects: ` +
          `median ${sorted[10]?.toFixed(1)} ms, max ${sorted[19]?.toFixed(1)} ms; ` +
          `FW_VERSION resends ${resends.join(",")}; swallowed bytes ${hub.stats.swallowedBytes}`,
      );
    },
  );
});

describe("vesc2mqtt sim --hub-swallow", () => {
  test("serves the devices through the tcphub emulator; read gets through it", async () => {
    const abort = new AbortController();
    const lines: string[] = [];
    const running = simCommand(["--hub-swallow", "--hub-login", "garage:pw-swallow", "--port", "0"], {
      stdout: (l) => lines.push(l),
      stderr: (l) => lines.push(l),
      signal: abort.signal,
    });
    try {
      const line = await waitFor(() => lines.find((l) => l.includes("tcphub emulator")), {
        what: "startup line",
      });
      expect(line).toMatch(
        /^simulated VESC Express registered as garage with the tcphub emulator on tcp:\/\/127\.0\.0\.1:\d+$/,
      );
      expect(lines.join("\n")).not.toContain("pw-swallow");
      const port = line.split(":").at(-1) ?? "";
      let out = "";
      const code = await readCommand(["--hub", `127.0.0.1:${port}`, "--hub-id", "garage", "--json"], {
        stdout: (t) => (out += t),
        stderr: (t) => (out += t),
        env: { VESC_HUB_PASSWORD: "pw-swallow" },
      });
      expect(code).toBe(0);
      expect(JSON.parse(out).bms.cells).toHaveLength(20);
    } finally {
      abort.abort();
      expect(await running).toBe(0);
    }
  });

  test("needs --hub-login", async () => {
    const lines: string[] = [];
    expect(await simCommand(["--hub-swallow"], { stderr: (l) => lines.push(l) })).toBe(2);
    expect(lines).toEqual(["vesc2mqtt sim: --hub-swallow needs --hub-login ID"]);
  });
});
