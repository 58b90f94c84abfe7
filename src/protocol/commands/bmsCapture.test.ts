/**
 * The 139 consecutive BMS replies of a real VESC Express 6.05 (20S) decoded as one stream:
 * what the device really sends, including its quirks (i_in 0, a slot stuck at 99.00 °C).
 */
import { describe, expect, it } from "vitest";
import { fw605BmsFrames } from "../../../test/helpers/fw605Sequence.js";
import { toBmsReading } from "../../model/bmsReading.js";
import type { BmsValues } from "../../model/reading.js";
import { FrameDecoder } from "../frame.js";
import { decodeBmsValues, encodeBmsValuesResponse } from "./bmsGetValues.js";

describe("real VESC Express 6.05 BMS capture", () => {
  const frames = fw605BmsFrames().map((f) => f.frame);
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  frames.reduce((at, f) => {
    stream.set(f, at);
    return at + f.length;
  }, 0);

  const decoder = new FrameDecoder();
  const events = decoder.push(stream);
  const payloads = events.flatMap((e) => (e.kind === "frame" ? [e.payload.slice()] : []));
  const values: BmsValues[] = payloads.map((p) => decodeBmsValues(p));

  it("holds 139 frames that decode with no CRC error, discard or protocol error", () => {
    expect(frames).toHaveLength(139);
    expect(events.every((e) => e.kind === "frame")).toBe(true);
    expect(payloads).toHaveLength(139);
    expect(decoder.stats.crcErrors).toBe(0);
    expect(decoder.stats.bytesDiscarded).toBe(0);
    expect(values).toHaveLength(139);
  });

  it("reports 20 cells, i_in 0, i_in_ic 0.137–0.154 A and slot 4 at exactly 99.00 °C", () => {
    for (const v of values) {
      expect(v.cells).toHaveLength(20);
      expect(v.current).toBe(0);
      // 0.137–0.154 A to the mA (the lowest is 0.136874 A)
      expect(v.currentIc).toBeGreaterThanOrEqual(0.1365);
      expect(v.currentIc).toBeLessThan(0.1545);
      expect(v.temperatures[3]).toBe(99);
      expect(v.soc).toBe(0);
      expect(v.dataVersion).toBeUndefined();
    }
    const ic = values.map((v) => v.currentIc);
    // It measures: 136.874 mA to 146.250 mA over the 21 s.
    expect(Math.min(...ic)).toBe(0.136874);
    expect(Math.max(...ic)).toBe(0.14625);
    // Slots 1–3 move while slot 4 does not (it is a placeholder).
    expect(new Set(values.map((v) => v.temperatures[0])).size).toBeGreaterThan(1);
  });

  it("re-encodes every reply byte for byte", () => {
    values.forEach((v, i) => {
      expect(encodeBmsValuesResponse(v)).toEqual(payloads[i]);
    });
  });

  it("reads as ≈ 12 W with the IC current as the pack current, nothing implausible", () => {
    for (const v of values) {
      const bms = toBmsReading(v);
      expect(bms.packCurrent).toBe(v.currentIc);
      expect(bms.packPower).toBeCloseTo(v.packVoltage * v.currentIc, 5);
      expect(bms.packPower).toBeGreaterThan(11);
      expect(bms.packPower).toBeLessThan(13);
      expect(bms.implausible).toBeUndefined();
      expect(bms.temperatures).toBe(v.temperatures);
    }
  });
});
