import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hex } from "../../../test/helpers/hex.js";
import type { ImuValues } from "../../model/ride.js";
import { isProtocolError } from "../errors.js";
import { decodeImuData, encodeImuDataResponse, getImuData, IMU_FIELDS } from "./getImuData.js";

const f32 = fc
  .float({ noNaN: true, noDefaultInfinity: true, min: -1e4, max: 1e4 })
  .map((x) => (Math.abs(x) < 1.5e-38 ? 0 : x));

describe("COMM_GET_IMU_DATA", () => {
  it("request carries a u16 mask", () => {
    expect(getImuData.encodeRequest(0xffff)).toEqual(hex("41 ff ff"));
    expect(getImuData.decodeRequest(hex("41 00 07"))).toBe(7);
  });

  it("decodes roll/pitch/yaw before 6.05 (no trailing id) and from 6.05 (id byte appended)", () => {
    // roll 0.05 rad, pitch -0.02 rad, yaw 1.25 rad; mask echoed as u16
    const before = hex("41 0007 3d4ccccd bca3d70a 3fa00000");
    const since605 = hex("41 0007 3d4ccccd bca3d70a 3fa00000 54");
    const rpy = { roll: Math.fround(0.05), pitch: Math.fround(-0.02), yaw: 1.25 };
    expect(decodeImuData(before)).toEqual({ mask: 7, imu: rpy });
    expect(decodeImuData(since605)).toEqual({ mask: 7, imu: { ...rpy, controllerId: 84 } });
    expect(encodeImuDataResponse({ mask: 7, imu: { ...rpy, controllerId: 84 } })).toEqual(since605);
  });

  it("round-trips any mask, with and without the controller id", () => {
    fc.assert(
      fc.property(
        fc.array(f32, { minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.option(fc.integer({ min: 0, max: 254 }), { nil: undefined }),
        (nums, mask, id) => {
          const all: ImuValues = Object.fromEntries(IMU_FIELDS.map((f, i) => [f, nums[i]]));
          const picked: ImuValues = {};
          IMU_FIELDS.forEach((f, bit) => {
            if ((mask >>> bit) & 1) picked[f] = all[f];
          });
          if (id !== undefined) picked.controllerId = id;
          const payload = encodeImuDataResponse({
            mask,
            imu: id === undefined ? all : { ...all, controllerId: id },
          });
          expect(decodeImuData(payload)).toEqual({ mask, imu: picked });
        },
      ),
    );
  });

  it("one mask with and without the id byte, in turn, decodes to exactly its keys each time", () => {
    const rpy = { roll: 0.5, pitch: -0.25, yaw: 1.25 };
    const since605 = encodeImuDataResponse({ mask: 7, imu: { ...rpy, controllerId: 84 } });
    const before = since605.subarray(0, since605.length - 1);
    for (const payload of [since605, before, since605, before]) {
      const keys = payload === since605 ? ["roll", "pitch", "yaw", "controllerId"] : ["roll", "pitch", "yaw"];
      expect(Object.keys(decodeImuData(payload).imu)).toEqual(keys);
    }
  });

  it("rejects truncated masked fields with ProtocolError", () => {
    const full = encodeImuDataResponse({ mask: 0xffff, imu: {} });
    expect(full.length).toBe(3 + 64);
    for (let n = 0; n < full.length; n++) {
      let err: unknown;
      try {
        decodeImuData(full.subarray(0, n));
      } catch (e) {
        err = e;
      }
      expect(isProtocolError(err), `cut at ${n}`).toBe(true);
    }
  });
});
