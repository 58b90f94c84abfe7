import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixtureRequests, hex } from "../../../test/helpers/hex.js";
import { encodeFrame } from "../frame.js";
import { alive } from "./alive.js";
import {
  decodeCustomConfigRedacted,
  decodeCustomConfigRequest,
  encodeCustomConfigRequest,
  encodeCustomConfigResponse,
  type ExpressMainConfig,
} from "./customConfig.js";
import { unwrapForwardCan, wrapForwardCan } from "./forwardCan.js";
import { decodePingCan, pingCan } from "./pingCan.js";

const requests = fixtureRequests();

describe("COMM_PING_CAN", () => {
  it("encodes the real request and decodes the real reply `3e 54` (one node, id 84)", () => {
    expect(encodeFrame(pingCan.encodeRequest())).toEqual(requests.get("PING_CAN"));
    expect(decodePingCan(hex("3e 54"))).toEqual([84]);
    expect(decodePingCan(hex("3e"))).toEqual([]);
  });
  it("round-trips any id list", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 254 })), (ids) => {
        expect(decodePingCan(pingCan.encodeResponse(ids))).toEqual(ids);
      }),
    );
  });
});

describe("COMM_FORWARD_CAN", () => {
  it("wraps exactly like VESC Tool (real frames)", () => {
    expect(encodeFrame(wrapForwardCan(10, Uint8Array.of(4)))).toEqual(
      requests.get("FORWARD_CAN_10_GET_VALUES"),
    );
    expect(encodeFrame(wrapForwardCan(84, Uint8Array.of(0)))).toEqual(
      requests.get("FORWARD_CAN_84_FW_VERSION"),
    );
  });
  it("unwrap(wrap(x)) = x", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ minLength: 1, maxLength: 500 }),
        (id, inner) => {
          expect(unwrapForwardCan(wrapForwardCan(id, inner))).toEqual({ canId: id, inner });
        },
      ),
    );
  });
  it("rejects an empty inner payload both ways", () => {
    expect(() => wrapForwardCan(1, new Uint8Array(0))).toThrowError(/empty/);
    expect(() => unwrapForwardCan(hex("22 01"))).toThrowError(/no inner payload/);
  });
});

describe("COMM_ALIVE", () => {
  it("is the one-byte request of the real frame and expects no reply", () => {
    expect(encodeFrame(alive.encodeRequest())).toEqual(requests.get("ALIVE"));
    expect(alive.expectsReply).toBe(false);
  });
});

describe("COMM_GET_CUSTOM_CONFIG", () => {
  const secrets: ExpressMainConfig = {
    controllerId: 2,
    canBaudRate: 2,
    canStatusRateHz: 20,
    wifiMode: 1,
    wifiStaSsid: "HomeNet",
    wifiStaKey: "wifi-PASSWORD-123",
    wifiApSsid: "VESC WiFi",
    wifiApKey: "ap-PASSWORD-456",
    useTcpLocal: true,
    useTcpHub: true,
    tcpHubUrl: "hub.example",
    tcpHubPort: 65101,
    tcpHubId: "express1",
    tcpHubPass: "hub-PASSWORD-789",
    bleMode: 1,
    bleName: "Express",
    blePin: 123456,
    bleServiceCapacity: 0,
    bleChrDescrCapacity: 0,
  };

  it("encodes the real request for index 0", () => {
    expect(encodeFrame(encodeCustomConfigRequest(0))).toEqual(requests.get("GET_CUSTOM_CONFIG_0"));
    expect(decodeCustomConfigRequest(hex("5d 00"))).toBe(0);
  });

  it("decodes the reply to a redacted value that keeps no byte of it", () => {
    const payload = encodeCustomConfigResponse(secrets);
    const decoded = decodeCustomConfigRedacted(payload);
    expect(decoded).toEqual({
      kind: "customConfig",
      redacted: true,
      length: payload.length,
      description: `custom config received, ${payload.length} bytes, redacted`,
    });
    const text = JSON.stringify(decoded);
    for (const secret of [
      secrets.wifiStaKey,
      secrets.wifiApKey,
      secrets.tcpHubPass,
      "HomeNet",
      "express1",
      "123456",
    ]) {
      expect(text).not.toContain(secret);
    }
    // No reference to the payload survives: no Uint8Array anywhere in the value.
    expect(Object.values(decoded).some((v) => v instanceof Uint8Array)).toBe(false);
  });

  it("serialises main_config_t with the stock signature (simulator side)", () => {
    const payload = encodeCustomConfigResponse(secrets);
    expect(Array.from(payload.subarray(0, 6))).toEqual([0x5d, 0x00, 0x74, 0x80, 0x95, 0x9e]);
  });
});
