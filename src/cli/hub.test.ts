import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { encodeFrame } from "../protocol/frame.js";
import { framesIn, openPeer, type Peer, registerDevice } from "../../test/helpers/hubPeers.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { hubCommand } from "./hub.js";

const peers: Peer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const ac = new AbortController();
  const done = hubCommand(argv, {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    env,
    signal: ac.signal,
  });
  return { out, err, stop: () => ac.abort(), done };
}

async function listeningPort(out: string[]): Promise<number> {
  const line = await waitFor(() => out.find((l) => l.includes("listening on")), { what: "listening line" });
  return Number(/:(\d+)$/.exec(line)?.[1]);
}

test("hub --allow pins a device, prints where it listens and stops cleanly with exit 0", async () => {
  const r = run(["--host", "127.0.0.1", "--port", "0", "--allow", "Board1:BOARD1_PW"], {
    BOARD1_PW: "pw-from-env",
  });
  const port = await listeningPort(r.out);
  const intruder = await openPeer(port, "VESC:other:x\n");
  peers.push(intruder);
  await intruder.closed;
  const dev = await registerDevice(port, "board1", "pw-from-env");
  peers.push(dev);
  const tool = await openPeer(port, "VESCTOOL:BOARD1:pw-from-env\n");
  peers.push(tool);
  await waitFor(async () => {
    tool.write(encodeFrame(Uint8Array.of(0)));
    await new Promise((res) => setTimeout(res, 50));
    return framesIn(tool.bytes()).length > 0;
  });
  r.stop();
  expect(await r.done).toBe(0);
  await tool.closed;
  expect(r.out.at(-1)).toBe("vesc2mqtt hub stopped");
  expect([...r.out, ...r.err].join("\n")).not.toContain("pw-from-env");
});

test("hub takes its settings from the config file's hub section", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hubcli-"));
  dirs.push(dir);
  const file = join(dir, "config.yaml");
  writeFileSync(
    file,
    "hub:\n  enabled: true\n  host: 127.0.0.1\n  port: 0\n  on_conflict: refuse\n  devices:\n    - id: cfgdev\n      password_env: CFG_PW\n",
  );
  const r = run(["--config", file], { CFG_PW: "cfg-secret" });
  const port = await listeningPort(r.out);
  const wrong = await openPeer(port, "VESC:cfgdev:nope\n");
  peers.push(wrong);
  await wrong.closed;
  const dev = await registerDevice(port, "cfgdev", "cfg-secret");
  peers.push(dev);
  const first = await openPeer(port, "VESCTOOL:cfgdev:cfg-secret\n");
  peers.push(first);
  await new Promise((res) => setTimeout(res, 100));
  const second = await openPeer(port, "VESCTOOL:cfgdev:cfg-secret\n");
  peers.push(second);
  await second.closed; // refuse: the newcomer goes
  expect(first.isClosed()).toBe(false);
  r.stop();
  expect(await r.done).toBe(0);
});

test.each([
  [["--bogus"]],
  [["--port", "70000"]],
  [["--on-conflict", "maybe"]],
  [["--allow", "dev1"]],
  [["--allow", "dev1:UNSET_VAR_FOR_TEST"]],
  [["--config", "/nonexistent/vesc2mqtt.yaml"]],
])("a mistake (%j) is one line on stderr and exit 2", async (argv) => {
  const r = run(argv);
  expect(await r.done).toBe(2);
  expect(r.err.length).toBe(1);
  expect(r.err[0]).toMatch(/^vesc2mqtt hub: /);
  expect(r.out).toEqual([]);
});
