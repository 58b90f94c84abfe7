import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hex } from "../../../test/helpers/hex.js";
import { isProtocolError } from "../errors.js";
import { decodeBatteryCut, encodeBatteryCutResponse, getBatteryCut } from "./batteryCut.js";

describe("COMM_GET_BATTERY_CUT", () => {
  it("request is the bare id; reply is cut start then cut end, float32 ×1000", () => {
    expect(getBatteryCut.encodeRequest()).toEqual(hex("73"));
    // 20S pack: l_battery_cut_start 62.0 V, l_battery_cut_end 60.0 V
    const payload = hex("73 0000f230 0000ea60");
    expect(decodeBatteryCut(payload)).toEqual({ startV: 62, endV: 60 });
    expect(encodeBatteryCutResponse({ startV: 62, endV: 60 })).toEqual(payload);
  });

  it("round-trips any voltages in millivolt steps", () => {
    const mv = fc.integer({ min: 0, max: 200_000 }).map((n) => n / 1000);
    fc.assert(
      fc.property(mv, mv, (startV, endV) => {
        expect(decodeBatteryCut(encodeBatteryCutResponse({ startV, endV }))).toEqual({ startV, endV });
      }),
    );
  });

  it("rejects a short reply with ProtocolError", () => {
    const full = encodeBatteryCutResponse({ startV: 62, endV: 60 });
    for (let n = 0; n < full.length; n++) {
      let err: unknown;
      try {
        decodeBatteryCut(full.subarray(0, n));
      } catch (e) {
        err = e;
      }
      expect(isProtocolError(err), `cut at ${n}`).toBe(true);
    }
  });
});
