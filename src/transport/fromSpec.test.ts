import { describe, expect, test } from "vitest";
import { isTransportError } from "./transport.js";
import { parseDeviceUrl, transportFromUrl, transportUrl } from "./fromSpec.js";

describe("parseDeviceUrl", () => {
  test.each([
    ["tcp://10.0.0.5:65102", { type: "tcp", host: "10.0.0.5", port: 65102 }],
    ["tcp://express.local", { type: "tcp", host: "express.local", port: 65102 }],
    ["tcp://[::1]:1234", { type: "tcp", host: "::1", port: 1234 }],
    [
      "hub://veschub.vedder.se/express1",
      { type: "hub", host: "veschub.vedder.se", port: 65101, hubId: "express1" },
    ],
    ["hub://127.0.0.1:7000/my%20id/", { type: "hub", host: "127.0.0.1", port: 7000, hubId: "my id" }],
    ["serial:///dev/ttyACM0?baud=115200", { type: "serial", path: "/dev/ttyACM0", baud: 115200 }],
    ["serial:///dev/ttyUSB1", { type: "serial", path: "/dev/ttyUSB1", baud: 115200 }],
    ["SERIAL:///dev/pts/3?baud=9600", { type: "serial", path: "/dev/pts/3", baud: 9600 }],
  ])("%s", (url, expected) => {
    expect(parseDeviceUrl(url)).toEqual(expected);
  });

  test.each([
    ["http://x"],
    ["tcp://"],
    ["tcp://host:0"],
    ["tcp://host:70000"],
    ["tcp://host/path"],
    ["hub://host:65101"],
    ["serial://dev/tty"],
    ["serial:///dev/tty?baud=abc"],
    ["10.0.0.5"],
    ["hub://host/%zz"],
    ["serial:///dev/%E0"],
  ])("rejects %s with a non-recoverable TransportError", (url) => {
    let caught: unknown;
    try {
      parseDeviceUrl(url);
    } catch (e) {
      caught = e;
    }
    expect(isTransportError(caught)).toBe(true);
    expect(isTransportError(caught) && caught.recoverable).toBe(false);
  });

  test("a password in the URL is refused and never echoed", () => {
    let message = "";
    try {
      parseDeviceUrl("hub://id:hunter2@host:65101/x");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/credentials/);
    expect(message).not.toContain("hunter2");
  });
});

describe("transportUrl", () => {
  test("never contains the hub password", () => {
    const url = transportUrl({ type: "hub", host: "h", port: 65101, hubId: "dev", password: "s3cret" });
    expect(url).toBe("hub://h:65101/dev");
    expect(url).not.toContain("s3cret");
  });

  test("round-trips through parseDeviceUrl", () => {
    for (const url of [
      "tcp://10.1.2.3:65102",
      "hub://h:65101/dev",
      "serial:///dev/ttyACM0?baud=115200",
      "tcp://[::1]:5",
    ]) {
      expect(transportUrl(parseDeviceUrl(url))).toBe(url);
    }
  });

  test("transportFromUrl wants a password for a hub", () => {
    expect(() => transportFromUrl("hub://h/dev")).toThrow(/password is required/);
    expect(typeof transportFromUrl("hub://h/dev", { password: "x" })).toBe("function");
  });
});
