/**
 * The transport table is the one place a kind is described: the config's `connection.type`
 * values are exactly the rows (table.test.ts: a new row needs nothing else), a row's URL
 * parses back to its spec, and the factory it makes carries the row's link policy and
 * refuses, not recoverably, a spec that can never connect.
 */
import { describe, expect, test } from "vitest";
import { ConfigError, parseConfig } from "../config/load.js";
import { connectionSchema } from "../config/schema.js";
import { parseDeviceUrl } from "./fromSpec.js";
import {
  TRANSPORT_KINDS,
  TRANSPORT_KIND_NAMES,
  createTransportFactory,
  transportKind,
  transportUrl,
} from "./kinds.js";
import { type ConnectionSpec, isTransportError } from "./transport.js";

const EXAMPLES: { readonly [K in ConnectionSpec["type"]]: Extract<ConnectionSpec, { type: K }> } = {
  tcp: { type: "tcp", host: "127.0.0.1", port: 65102 },
  hub: { type: "hub", host: "127.0.0.1", port: 65101, hubId: "garage1", password: "pw" },
  serial: { type: "serial", path: "/dev/ttyACM0", baud: 115200 },
};

describe("the transport table", () => {
  test("its kinds are exactly the config's connection types", () => {
    const configTypes = connectionSchema.options.map((o) => o.shape.type.value).sort();
    expect([...TRANSPORT_KIND_NAMES].sort()).toEqual(configTypes);
  });

  test.each(TRANSPORT_KIND_NAMES)(
    "%s: a config entry → spec → URL → the same spec (no password in the URL)",
    (type) => {
      const spec = EXAMPLES[type];
      const kind = transportKind(type);
      const entry = connectionSchema.parse(spec);
      expect(kind.type).toBe(type);
      expect(kind.fromConfig(entry as Parameters<typeof kind.fromConfig>[0])).toEqual(spec);
      const url = transportUrl(spec);
      expect(url.startsWith(`${kind.scheme}://`)).toBe(true);
      expect(url).not.toContain("pw");
      const { password: _, ...withoutPassword } = spec as ConnectionSpec & { password?: string };
      expect(parseDeviceUrl(url)).toEqual(withoutPassword);
    },
  );

  test.each(TRANSPORT_KIND_NAMES)("%s: the factory carries the row's link policy", (type) => {
    expect(createTransportFactory(EXAMPLES[type]).policy).toBe(transportKind(type).policy);
  });

  test("only the hub relays: it alone yields when closed after replies, resends and confirms the identity", () => {
    expect(TRANSPORT_KINDS.hub.policy).toMatchObject({
      yieldWhenClosedAfterReplies: true,
      resendFirstRequest: true,
      confirmIdentity: true,
    });
    expect(TRANSPORT_KINDS.tcp.policy).toMatchObject({
      yieldWhenClosedAfterReplies: false,
      quickFailuresBeforeYield: 3,
    });
    expect(TRANSPORT_KINDS.serial.policy).toMatchObject({
      yieldWhenClosedAfterReplies: false,
      quickFailuresBeforeYield: 0,
    });
  });

  test.each([
    ["a ':' in the hub id", { hubId: "garage:1" }],
    ["a ':' in the password", { password: "p:w" }],
    ["a newline in the password", { password: "p\nw" }],
  ])(
    "a hub spec with %s is refused on every attempt, not recoverably, without the password",
    async (_what, patch) => {
      const spec = { ...EXAMPLES.hub, ...patch };
      expect(TRANSPORT_KINDS.hub.unusable(spec)).toMatch(/must not contain/);
      const factory = createTransportFactory(spec);
      for (let i = 0; i < 2; i++) {
        const error = await factory(new AbortController().signal).catch((e: unknown) => e);
        expect(isTransportError(error) && error.recoverable).toBe(false);
        expect(String((error as Error).message)).not.toContain(spec.password);
      }
    },
  );

  test("a usable hub spec and every tcp/serial spec has no such problem", () => {
    expect(TRANSPORT_KINDS.hub.unusable(EXAMPLES.hub)).toBeUndefined();
    expect(TRANSPORT_KINDS.tcp.unusable(EXAMPLES.tcp)).toBeUndefined();
    // A missing device node is a board not plugged in yet: worth retrying.
    expect(
      TRANSPORT_KINDS.serial.unusable({ type: "serial", path: "/dev/does-not-exist", baud: 115200 }),
    ).toBeUndefined();
  });
});

describe("the table's unusable check in the config", () => {
  test("a configured hub device whose id holds ':' is refused at load, without the password", () => {
    const yaml = [
      "devices:",
      "  - id: garage",
      "    connection: { type: hub, host: 127.0.0.1, hub_id: 'garage:1', password: s3cret-pw }",
    ].join("\n");
    let error: unknown;
    try {
      parseConfig(yaml, { env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = String((error as Error).message);
    expect(text).toContain("devices[0].connection: hub id and password must not contain ':' or newlines");
    expect(text).not.toContain("s3cret-pw");
  });
});
