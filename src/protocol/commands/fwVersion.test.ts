import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixtureFrame, fixtureRequests, hex } from "../../../test/helpers/hex.js";
import { ProtocolError } from "../errors.js";
import { FrameDecoder } from "../frame.js";
import {
  decodeFwVersion,
  deviceInfoFromFwVersion,
  encodeFwVersionResponse,
  type FwVersion,
  firmwareString,
  fwVersion,
} from "./fwVersion.js";

function payloadOf(frame: Uint8Array): Uint8Array {
  const [event] = new FrameDecoder().push(frame);
  if (event?.kind !== "frame") throw new Error("fixture is not a frame");
  return event.payload;
}

const fwArb: fc.Arbitrary<FwVersion> = fc
  .record({
    major: fc.integer({ min: 0, max: 255 }),
    minor: fc.integer({ min: 0, max: 255 }),
    hardware: fc.stringMatching(/^[ -~]{0,30}$/),
    uuid: fc
      .uint8Array({ minLength: 12, maxLength: 12 })
      .map((b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")),
    paired: fc.boolean(),
    testVersion: fc.integer({ min: 0, max: 255 }),
    hwType: fc.integer({ min: 0, max: 2 }),
    customConfigCount: fc.integer({ min: 0, max: 3 }),
    hasPhaseFilters: fc.boolean(),
    qmlHw: fc.integer({ min: 0, max: 2 }),
    qmlApp: fc.integer({ min: 0, max: 2 }),
    nrfFlags: fc.integer({ min: 0, max: 3 }),
    fwName: fc.stringMatching(/^[ -~]{0,20}$/),
    hwConfigCrc: fc.integer({ min: 0, max: 0xffffffff }),
  })
  .map((r) => ({ ...r, firmware: `${r.major}.${String(r.minor).padStart(2, "0")}` }));

/** The optional tail fields in wire order; cutting at k keeps the first k (old firmware). */
const TAIL: ReadonlyArray<ReadonlyArray<keyof FwVersion>> = [
  ["paired"],
  ["testVersion"],
  ["hwType"],
  ["customConfigCount"],
  ["hasPhaseFilters"],
  ["qmlHw", "qmlApp"],
  ["nrfFlags"],
  ["fwName"],
  ["hwConfigCrc"],
];

describe("COMM_FW_VERSION", () => {
  it("decodes the real VESC Express fw 6.05 reply", () => {
    const fw = decodeFwVersion(payloadOf(fixtureFrame("fwVersion-express-fw65.hex")));
    expect(fw).toEqual({
      firmware: "6.05",
      major: 6,
      minor: 5,
      hardware: "VESC Express T",
      uuid: "aabbccddeeff000000000000",
      paired: false,
      testVersion: 0,
      hwType: 2,
      customConfigCount: 1,
      hasPhaseFilters: false,
      qmlHw: 0,
      qmlApp: 0,
      nrfFlags: 0,
      fwName: "",
      hwConfigCrc: 0xdde859ed,
    });
    expect(deviceInfoFromFwVersion(fw)).toEqual({
      firmware: "6.05",
      hardware: "VESC Express T",
      uuid: "aabbccddeeff000000000000",
      hwType: 2,
      testVersion: 0,
    });
  });

  it("re-encodes the real reply byte for byte", () => {
    const payload = payloadOf(fixtureFrame("fwVersion-express-fw65.hex"));
    expect(encodeFwVersionResponse(decodeFwVersion(payload))).toEqual(payload);
  });

  it("encodes the request VESC Tool sends", () => {
    const frame = fixtureRequests().get("FW_VERSION");
    expect(frame?.subarray(2, 3)).toEqual(fwVersion.encodeRequest());
    expect(() => fwVersion.decodeRequest(Uint8Array.of(0))).not.toThrow();
  });

  it("round-trips any reply, and every old-firmware cut of the optional tail", () => {
    fc.assert(
      fc.property(fwArb, fc.integer({ min: 0, max: TAIL.length }), (full, keep) => {
        const cut: Record<string, unknown> = { ...full };
        for (const fields of TAIL.slice(keep)) for (const f of fields) delete cut[f];
        const fw = cut as unknown as FwVersion;
        expect(decodeFwVersion(encodeFwVersionResponse(fw))).toEqual(fw);
      }),
    );
  });

  it("prints the minor as two digits, as VESC Tool does: 00 06 05 → 6.05", () => {
    expect(decodeFwVersion(hex("00 06 05 00")).firmware).toBe("6.05");
    expect(decodeFwVersion(hex("00 06 06 00")).firmware).toBe("6.06");
    expect(decodeFwVersion(hex("00 05 0a 00")).firmware).toBe("5.10");
    expect(decodeFwVersion(hex("00 07 00 00")).firmware).toBe("7.00");
    // Versions of one major sort as strings (the old "6.5" sorted after "6.06").
    const sorted = ["6.10", "6.06", "6.05", "6.00"].sort();
    expect(sorted).toEqual(["6.00", "6.05", "6.06", "6.10"]);
    expect(firmwareString(6, 5) < firmwareString(6, 6)).toBe(true);
  });

  it("decodes a minimal pre-3.x reply (version only)", () => {
    expect(decodeFwVersion(hex("00 03 28"))).toEqual({
      firmware: "3.40",
      major: 3,
      minor: 40,
      hardware: "",
      uuid: "",
    });
  });

  it("rejects malformed payloads with ProtocolError", () => {
    expect(() => decodeFwVersion(hex("00 06"))).toThrowError(ProtocolError);
    expect(() => decodeFwVersion(hex("00 06 05 41 42"))).toThrowError(/NUL/); // hw name never ends
    expect(() => decodeFwVersion(hex("04 06 05"))).toThrowError(/expected COMM_FW_VERSION/);
    expect(() => decodeFwVersion(new Uint8Array(0))).toThrowError(ProtocolError);
  });
});
