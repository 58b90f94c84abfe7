/**
 * A new transport kind is one row: a throw-away `pipe` kind (a Unix domain socket), defined
 * here and nowhere else, goes through every consumer the table feeds — the config schema,
 * the configuration docs, the CLI flags and usage, device URLs and the factory — and reaches
 * the simulator with a real FW_VERSION handshake. And every real row shows up in each of them.
 */
import { readFileSync } from "node:fs";
import { type Server, type Socket, connect, createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { scratchDataDir } from "../../test/helpers/dataDir.js";
import { CONNECTION_OPTIONS, resolveConnection, resolveConnectionOf } from "../cli/connectionArgs.js";
import { connectionOptionsOf, connectionUsageOf } from "../cli/connectionArgs.js";
import { READ_USAGE } from "../cli/read.js";
import { SCAN_USAGE } from "../cli/scan.js";
import { CONFIG_DOC_PATH, renderConfigDocs, transportKeyDocs } from "../config/docs.js";
import { text } from "../config/fields.js";
import { connectionSchema, connectionSchemaOf } from "../config/schema.js";
import { handshake } from "../session/handshake.js";
import { Session } from "../session/session.js";
import { EXPRESS_HARDWARE, startSimulator } from "../sim/index.js";
import { parseDeviceUrl, parseDeviceUrlOf, transportFromUrlOf } from "./fromSpec.js";
import { type AnyTransportKind, TRANSPORT_KIND_LIST, type TransportKind, transportUrl } from "./kinds.js";
import { StreamTransport } from "./stream.js";
import { type LinkPolicy, PLAIN_LINK, TransportError, withPolicy } from "./transport.js";

interface PipeSpec {
  readonly type: "pipe";
  readonly path: string;
}

const PIPE_LINK: LinkPolicy = { ...PLAIN_LINK, confirmIdentity: true };
const pipeConfig = z.strictObject({ type: z.literal("pipe"), path: text() });

/** The whole kind: opener and row, as a BLE kind would be written. */
const pipe: TransportKind<PipeSpec, typeof pipeConfig> = {
  type: "pipe",
  scheme: "pipe",
  urlForm: "pipe:///SOCKET",
  flag: "pipe",
  flagForm: "--pipe SOCKET",
  flags: [],
  companionFlags: [],
  config: pipeConfig,
  docs: { summary: "a Unix domain socket", keys: { path: "Socket file." } },
  fromFlags: (v) => ({ type: "pipe", path: String(v.pipe) }),
  fromConfig: (c) => ({ type: "pipe", path: c.path }),
  parseUrl(rest, fail) {
    if (!rest.startsWith("/")) fail("expected pipe:///SOCKET");
    return { type: "pipe", path: rest };
  },
  url: (s) => `pipe://${s.path}`,
  unusable: () => undefined,
  open: (s) =>
    withPolicy(
      (signal) =>
        new Promise((resolve, reject) => {
          const socket = connect({ path: s.path, signal });
          socket.once("error", (e) =>
            reject(new TransportError("ConnectFailed", `pipe://${s.path}: ${e.message}`, true, { cause: e })),
          );
          socket.once("connect", () =>
            resolve(new StreamTransport(`pipe://${s.path}`, socket, { end: () => socket.end() })),
          );
        }),
      PIPE_LINK,
    ),
  policy: PIPE_LINK,
};

const TABLE = [...TRANSPORT_KIND_LIST, pipe] as const;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("a kind added as one row", () => {
  test("is a config connection type, with its keys checked and its own errors", () => {
    const schema = connectionSchemaOf(TABLE);
    expect(schema.parse({ type: "pipe", path: " /run/x.sock " })).toEqual({
      type: "pipe",
      path: "/run/x.sock",
    });
    expect(schema.parse({ type: "tcp", host: "h" })).toEqual({ type: "tcp", host: "h", port: 65102 });
    const messages = (v: unknown) => schema.safeParse(v).error?.issues.map((i) => i.message) ?? [];
    expect(messages({ type: "ble" })).toEqual(["expected type tcp, hub, serial or pipe"]);
    expect(messages({ type: "pipe", path: "" })).toEqual(["expected a non-empty string"]);
    expect(schema.safeParse({ type: "pipe", path: "/x", host: "h" }).error?.issues[0]?.code).toBe(
      "unrecognized_keys",
    );
  });

  test("is documented from its row, merged with the kinds that share its keys", () => {
    const schema = z.strictObject({ connection: connectionSchemaOf(TABLE) });
    const doc = renderConfigDocs(schema, {
      connection: "How to reach the device.",
      ...transportKeyDocs("connection", TABLE),
    });
    expect(doc).toContain(
      "| `connection.type` | `tcp` \\| `hub` \\| `serial` \\| `pipe` | required | `tcp`: the VESC Express's own TCP server; `hub`: through a VESC Hub (public, or `vesc2mqtt hub`); `serial`: a USB VESC; `pipe`: a Unix domain socket. |",
    );
    expect(doc).toContain(
      "| `connection.path` | string (serial, pipe only) | required | `serial`: Serial device, e.g. `/dev/ttyACM0`. `pipe`: Socket file. |",
    );
  });

  test("a row whose docs miss a config key, or name one it lacks, stops the docs", () => {
    const undocumented = { ...pipe, docs: { summary: "x", keys: {} } } as AnyTransportKind;
    expect(() => transportKeyDocs("connection", [undocumented])).toThrow(
      'transport "pipe": docs.keys must name exactly its config keys (undocumented: path; not in config: none)',
    );
    const extra = { ...pipe, docs: { summary: "x", keys: { path: "p", baud: "b" } } } as AnyTransportKind;
    expect(() => transportKeyDocs("connection", [extra])).toThrow(/not in config: baud/);
  });

  test("is a CLI flag, in the usage, chosen alone", () => {
    expect(connectionOptionsOf(TABLE)).toHaveProperty("pipe", { type: "string" });
    expect(connectionUsageOf(TABLE).choose).toBe(
      "(--tcp HOST[:PORT] | --hub HOST[:PORT] --hub-id ID | --serial PATH [--baud N] | --pipe SOCKET)",
    );
    const resolved = resolveConnectionOf(TABLE, { pipe: "/run/x.sock" }, {});
    expect(resolved).toMatchObject({
      spec: { type: "pipe", path: "/run/x.sock" },
      url: "pipe:///run/x.sock",
      policy: PIPE_LINK,
      secret: undefined,
      publicRelay: undefined,
    });
    expect(() => resolveConnectionOf(TABLE, { pipe: "/a", tcp: "h" }, {})).toThrow(
      "use only one of --tcp, --hub, --serial, --pipe (got --tcp, --pipe)",
    );
    expect(() => resolveConnectionOf(TABLE, {}, {})).toThrow(/--serial PATH \[--baud N\], or --pipe SOCKET$/);
  });

  test("opens from its URL, carries its policy and completes a handshake with the simulator", async () => {
    const sim = await startSimulator({ port: 0, seed: 5 });
    cleanups.push(() => sim.close());
    const path = join(scratchDataDir(), "vesc.sock");
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      sim.device.serve(socket, { label: "pipe", onClose: () => sockets.delete(socket) });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    );

    const url = `pipe://${path}`;
    expect(parseDeviceUrlOf(TABLE, url)).toEqual({ kind: pipe, spec: { type: "pipe", path } });
    const factory = transportFromUrlOf(TABLE, url);
    expect(factory.policy).toBe(PIPE_LINK);
    const session = new Session(await factory(new AbortController().signal));
    cleanups.push(() => session.close());
    const fw = await handshake(session, { requestTimeoutMs: 2000, confirmIdentity: true });
    expect(fw.hardware).toBe(EXPRESS_HARDWARE);
    expect(sim.device.stats.connections).toBe(1);
  });
});

/** One spec per real row, and the flags that give it. */
const EXAMPLES: Record<string, { spec: Record<string, unknown>; flags: Record<string, string> }> = {
  tcp: { spec: { type: "tcp", host: "127.0.0.1", port: 65102 }, flags: { tcp: "127.0.0.1" } },
  hub: {
    spec: { type: "hub", host: "127.0.0.1", port: 65101, hubId: "garage1", password: "pw" },
    flags: { hub: "127.0.0.1", "hub-id": "garage1" },
  },
  serial: { spec: { type: "serial", path: "/dev/ttyACM0", baud: 115200 }, flags: { serial: "/dev/ttyACM0" } },
};

describe.each(TRANSPORT_KIND_LIST.map((k) => [k.type, k] as const))("the %s row", (type, kind) => {
  const example = EXAMPLES[type];

  test("has an example here (add one for a new row)", () => {
    expect(example).toBeDefined();
  });

  test("is a config connection type whose literal is its name", () => {
    expect(kind.config.shape.type.value).toBe(type);
    const { password: _, ...entry } = example?.spec ?? {};
    expect(connectionSchema.parse(entry)).toMatchObject({ type });
  });

  test("has password keys in its config exactly when it has a password rule", () => {
    const keys = Object.keys(kind.config.shape);
    for (const k of ["password", "passwordFile", "passwordEnv"])
      expect(keys.includes(k), k).toBe(kind.password !== undefined);
  });

  test("is chosen by its CLI flag, which the usage lines list", () => {
    expect(CONNECTION_OPTIONS).toHaveProperty(kind.flag);
    for (const f of kind.flags) expect(CONNECTION_OPTIONS).toHaveProperty(f);
    const env = kind.password ? { [kind.password.env]: "pw" } : {};
    const resolved = resolveConnection(example?.flags ?? {}, env);
    expect(resolved.spec).toEqual(example?.spec);
    expect(resolved.policy).toBe(kind.policy);
    expect(resolved.secret).toBe(kind.password ? "pw" : undefined);
    expect(READ_USAGE).toContain(kind.flagForm);
    expect(SCAN_USAGE).toContain(kind.flagForm);
    if (kind.password) expect(SCAN_USAGE).toContain(`[--${kind.password.fileFlag} F]`);
  });

  test("is printed by transportUrl, which parses back", () => {
    const spec = example?.spec as Parameters<typeof transportUrl>[0];
    const url = transportUrl(spec);
    expect(url.startsWith(`${kind.scheme}://`)).toBe(true);
    expect(parseDeviceUrl(url).type).toBe(type);
  });

  test("is documented in docs/configuration.md, with each of its keys", () => {
    const doc = readFileSync(new URL(`../../${CONFIG_DOC_PATH}`, import.meta.url), "utf8");
    const typeLine = doc.split("\n").find((l) => l.startsWith("| `devices[].connection.type` |")) ?? "";
    expect(typeLine).toContain(`\`${type}\`: ${kind.docs.summary}`);
    for (const key of Object.keys(kind.config.shape).filter((k) => k !== "type")) {
      const snake = key.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
      const line = doc.split("\n").find((l) => l.startsWith(`| \`devices[].connection.${snake}\` |`));
      expect(line, snake).toContain(kind.docs.keys[key]);
    }
  });
});
