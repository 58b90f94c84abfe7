/**
 * Who the simulated devices say they are in COMM_FW_VERSION: the Express ("VESC Express T",
 * UUID = ESP32 MAC + 6 zero bytes), its bldc motor controllers and a VESC BMS on CAN (96-bit
 * STM32 UIDs). The firmware encoders decide which of these fields a version sends.
 */
import type { FwVersion } from "../../protocol/index.js";
import type { ExpressIdentity } from "../firmware/express.js";
import { hashNoise, Prng } from "../prng.js";

export const EXPRESS_HARDWARE = "VESC Express T";

const crcFrom = (seed: number, a: number, b = 0): number =>
  Math.floor((hashNoise(seed, a, b) + 1) * 0x7fffffff) >>> 0;

export function expressIdentity(seed: number, uuid: string): ExpressIdentity {
  return { hardware: EXPRESS_HARDWARE, uuid, fwName: "", hwConfigCrc: crcFrom(seed, 77) };
}

/** A bldc controller's identity; the version fields are filled in by the encoder. */
export function motorIdentity(seed: number, canId: number, hardware: string): FwVersion {
  return {
    major: 0,
    minor: 0,
    firmware: "",
    hardware,
    uuid: stmUuid(seed, canId),
    paired: false,
    testVersion: 0,
    hwType: 0, // HW_TYPE_VESC
    customConfigCount: 0,
    hasPhaseFilters: false,
    qmlHw: 0,
    qmlApp: 0,
    nrfFlags: 0,
    fwName: "",
    hwConfigCrc: crcFrom(seed, 78, canId),
  };
}

function hex(bytes: number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Express UUID: the ESP32 factory MAC (6 bytes, from the seed) + 6 zero bytes. */
export function macUuid(seed: number): string {
  const rng = new Prng(seed ^ 0x3ac);
  const mac = [0xe4, 0xb0, 0x63, rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)]; // an Espressif OUI
  return `${hex(mac)}000000000000`;
}

/** A CAN node's 96-bit STM32 UID, from seed and CAN id. */
export function stmUuid(seed: number, canId: number): string {
  const rng = new Prng((seed ^ Math.imul(canId + 7, 0x2545f491)) >>> 0);
  return hex(Array.from({ length: 12 }, () => rng.int(0, 255)));
}
