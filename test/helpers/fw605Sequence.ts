/**
 * The 139 consecutive COMM_BMS_GET_VALUES replies of a real VESC Express (firmware 6.05,
 * 20S) and its FW_VERSION reply, as whole frames with their capture times.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DeviceInfo } from "../../src/model/reading.js";
import { FrameDecoder, decodeFwVersion, deviceInfoFromFwVersion } from "../../src/protocol/index.js";
import { fixtureFrame, hex } from "./hex.js";

export interface CapturedFrame {
  /** Seconds since the first frame of the capture. */
  readonly atS: number;
  /** The whole frame (start byte … end byte). */
  readonly frame: Uint8Array;
}

export function fw605BmsFrames(): CapturedFrame[] {
  const path = fileURLToPath(new URL("../fixtures/frames/bms-express-fw605-sequence.txt", import.meta.url));
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => {
      const [at, frame] = l.trim().split(/\s+/);
      return { atS: Number(at), frame: hex(frame ?? "") };
    });
}

/** The payload of one whole frame. */
export function framePayload(frame: Uint8Array): Uint8Array {
  for (const ev of new FrameDecoder().push(frame)) if (ev.kind === "frame") return ev.payload.slice();
  throw new Error("fixture frame did not decode");
}

/** The identity the real Express reported (firmware 6.05, "VESC Express T"). */
export function fw605DeviceInfo(): DeviceInfo {
  return deviceInfoFromFwVersion(decodeFwVersion(framePayload(fixtureFrame("fwVersion-express-fw65.hex"))));
}
