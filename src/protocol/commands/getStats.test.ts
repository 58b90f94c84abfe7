import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hex } from "../../../test/helpers/hex.js";
import type { RideStats } from "../../model/ride.js";
import { isProtocolError } from "../errors.js";
import { encodeFrame } from "../frame.js";
import { wrapForwardCan } from "./forwardCan.js";
import { ALL_STATS_MASK, decodeStats, encodeStatsResponse, getStats, STATS_FIELDS } from "./getStats.js";

/** Values that float32 holds exactly, so a round trip compares equal. */
const f32 = fc
  .float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })
  .map((x) => (Math.abs(x) < 1.5e-38 ? 0 : x));
const statsArb: fc.Arbitrary<RideStats> = fc.record(
  Object.fromEntries(STATS_FIELDS.map((f) => [f, f32])) as Record<keyof RideStats, fc.Arbitrary<number>>,
);

describe("COMM_GET_STATS", () => {
  it("all 11 fields forwarded to CAN 84 is the frame `02 05 22 54 80 07 ff 4f c0 03`", () => {
    expect(ALL_STATS_MASK).toBe(0x7ff);
    expect(encodeFrame(wrapForwardCan(84, getStats.encodeRequest(ALL_STATS_MASK)))).toEqual(
      hex("02 05 22 54 80 07 ff 4f c0 03"),
    );
    expect(getStats.decodeRequest(hex("80 07 ff"))).toBe(0x7ff);
  });

  it("decodes a reply in bldc's order: u32 mask echo, then float32_auto per bit", () => {
    const payload = hex(`80 000007ff 40b00000 41440000 43af0000 45160000 41080000 42700000
      420e0000 42510000 42200000 42830000 45610000`);
    expect(decodeStats(payload)).toEqual({
      mask: 0x7ff,
      stats: {
        speedAvgMps: 5.5,
        speedMaxMps: 12.25,
        powerAvgW: 350,
        powerMaxW: 2400,
        currentAvgA: 8.5,
        currentMaxA: 60,
        tempMosAvgC: 35.5,
        tempMosMaxC: 52.25,
        tempMotorAvgC: 40,
        tempMotorMaxC: 65.5,
        elapsedS: 3600,
      },
    });
  });

  it("sends only the masked fields (speed max and elapsed time)", () => {
    const payload = hex("80 00000402 41440000 45610000");
    expect(decodeStats(payload)).toEqual({ mask: 0x402, stats: { speedMaxMps: 12.25, elapsedS: 3600 } });
    expect(
      encodeStatsResponse({ mask: 0x402, stats: { speedMaxMps: 12.25, elapsedS: 3600, powerAvgW: 1 } }),
    ).toEqual(payload);
  });

  it("round-trips any mask", () => {
    fc.assert(
      fc.property(statsArb, fc.integer({ min: 0, max: ALL_STATS_MASK }), (all, mask) => {
        const picked: Record<string, number | undefined> = {};
        STATS_FIELDS.forEach((f, bit) => {
          if ((mask >>> bit) & 1) picked[f] = all[f];
        });
        const payload = encodeStatsResponse({ mask, stats: all });
        expect(payload.length).toBe(5 + 4 * Object.keys(picked).length);
        expect(decodeStats(payload)).toEqual({ mask, stats: picked });
      }),
    );
  });

  it("a request mask wider than the firmware's u16 is refused", () => {
    expect(() => getStats.encodeRequest(0x10000)).toThrow(/uint16/);
  });

  it("rejects truncations with ProtocolError", () => {
    const full = encodeStatsResponse({ mask: 0x7ff, stats: {} });
    for (let n = 0; n < full.length; n++) {
      let err: unknown;
      try {
        decodeStats(full.subarray(0, n));
      } catch (e) {
        err = e;
      }
      expect(isProtocolError(err), `cut at ${n}`).toBe(true);
    }
  });
});
