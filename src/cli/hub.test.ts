import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
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

const ENV = { PW_OK: "fine-pw-1", PW_COLON: "pw:with-colon", PW_B: "fine-pw-2" };

test.each([
  [["--bogus"]],
  [["--port", "70000"]],
  [["--on-conflict", "maybe"]],
  [["--allow", "dev1"]],
  [["--allow", "dev1:UNSET_VAR_FOR_TEST"]],
  [["--config", "/nonexistent/vesc2mqtt.yaml"]],
  // With a free port, so that the mistake is the only reason to stop.
  [["--port", "0", "--host", "127.0.0.1", "--allow", "dev1:PW_COLON"]],
  [["--port", "0", "--host", "127.0.0.1", "--allow", "ab:PW_OK"]],
  [["--port", "0", "--host", "127.0.0.1", "--allow", "dev1:PW_OK", "--allow", "DEV 1:PW_B"]],
])("a mistake (%j) is one line on stderr and exit 2", async (argv) => {
  const r = run(argv, ENV);
  expect(await r.done).toBe(2);
  expect(r.err.length).toBe(1);
  expect(r.err[0]).toMatch(/^vesc2mqtt hub: /);
  expect(r.err[0]).not.toMatch(/fine-pw|with-colon/);
  expect(r.out).toEqual([]);
});

describe("hub --config refuses devices the hub could never serve, as the flags do", () => {
  test.each([
    [
      "a ':' in a password",
      "- { id: dev1, password_env: PW_COLON }",
      "hub.devices[0]: the password must not contain ':'",
    ],
    ["an empty password", '- { id: dev1, password: "" }', "hub.devices[0]: the password is empty"],
    ["a 2-character id", "- { id: ab, password_env: PW_OK }", 'hub.devices[0]: the id "ab" is too short'],
    [
      "the same id twice (case and spaces ignored)",
      "- { id: dev1, password_env: PW_OK }\n    - { id: DEV 1, password_env: PW_B }",
      'hub.devices[1]: the id "DEV 1" is already given by hub.devices[0]',
    ],
  ])("%s", async (_name, devices, message) => {
    const dir = mkdtempSync(join(tmpdir(), "hubcli-"));
    dirs.push(dir);
    const file = join(dir, "config.yaml");
    writeFileSync(file, `hub:\n  host: 127.0.0.1\n  port: 0\n  devices:\n    ${devices}\n`);
    const r = run(["--config", file], ENV);
    expect(await r.done).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(`vesc2mqtt hub: `);
    expect(r.err[0]).toContain(message);
    expect(r.err[0]).not.toMatch(/fine-pw|with-colon/);
    expect(r.out).toEqual([]);
  });

  test("a config device and an --allow with the same id clash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hubcli-"));
    dirs.push(dir);
    const file = join(dir, "config.yaml");
    writeFileSync(
      file,
      "hub:\n  host: 127.0.0.1\n  port: 0\n  devices:\n    - { id: dev1, password_env: PW_OK }\n",
    );
    const r = run(["--config", file, "--allow", "Dev1:PW_B"], ENV);
    expect(await r.done).toBe(2);
    expect(r.err).toEqual([
      'vesc2mqtt hub: --allow Dev1:PW_B: the id "Dev1" is already given by hub.devices[0] (ids ignore case and spaces)',
    ]);
  });
});
