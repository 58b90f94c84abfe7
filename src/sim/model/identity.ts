/**
 * Who the simulated devices say they are (COMM_FW_VERSION): the Express ("VESC Express T",
 * hw type 2, UUID = ESP32 MAC + 6 zero bytes) and its CAN nodes (bldc motor controllers,
 * hw type 0; a VESC BMS, hw type 1), trimmed to the fields a given firmware version sends.
 */
import type { FwVersion } from "../../protocol/index.js";
import { hashNoise, Prng } from "../prng.js";

export const EXPRESS_HARDWARE = "VESC Express T";

type Firmware = { readonly major: number; readonly minor: number };

/** firmware major.minor as a comparable number: 6.05 → 605. */
export const fwNumber = (fw: Firmware): number => fw.major * 100 + fw.minor;

const crcFrom = (seed: number, a: number, b = 0): number =>
  Math.floor((hashNoise(seed, a, b) + 1) * 0x7fffffff) >>> 0;

export function expressFwVersion(seed: number, uuid: string, fw: Firmware): FwVersion {
  return {
    major: fw.major,
    minor: fw.minor,
    firmware: `${fw.major}.${fw.minor}`,
    hardware: EXPRESS_HARDWARE,
    uuid,
    paired: false, // the Express always sends 0
    testVersion: 0,
    hwType: 2, // HW_TYPE_CUSTOM_MODULE
    customConfigCount: 1,
    hasPhaseFilters: false,
    qmlHw: 0,
    qmlApp: 0,
    nrfFlags: 0,
    fwName: "",
    hwConfigCrc: crcFrom(seed, 77),
  };
}

export function canNodeFwVersion(
  seed: number,
  canId: number,
  hardware: string,
  hwType: number,
  fw: Firmware,
): FwVersion {
  return {
    major: fw.major,
    minor: fw.minor,
    firmware: `${fw.major}.${fw.minor}`,
    hardware,
    uuid: stmUuid(seed, canId),
    paired: false,
    testVersion: 0,
    hwType, // HW_TYPE_VESC / HW_TYPE_VESC_BMS
    customConfigCount: 0,
    hasPhaseFilters: false,
    qmlHw: 0,
    qmlApp: 0,
    nrfFlags: 0,
    fwName: "",
    hwConfigCrc: crcFrom(seed, 78, canId),
  };
}

/** Drops FW_VERSION fields newer than `version` (protocol.md §3 field history); 0 = none after the uuid. */
export function trimFwVersion(fw: FwVersion, version: number): FwVersion {
  const {
    paired,
    testVersion,
    hwType,
    customConfigCount,
    hasPhaseFilters,
    qmlHw,
    qmlApp,
    nrfFlags,
    fwName,
    hwConfigCrc,
    ...head
  } = fw;
  if (version < 348) return head;
  if (version < 500) return { ...head, paired };
  if (version < 502) return { ...head, paired, testVersion };
  if (version < 503) return { ...head, paired, testVersion, hwType, customConfigCount };
  if (version < 600)
    return { ...head, paired, testVersion, hwType, customConfigCount, hasPhaseFilters, qmlHw, qmlApp };
  const through600 = {
    ...head,
    paired,
    testVersion,
    hwType,
    customConfigCount,
    hasPhaseFilters,
    qmlHw,
    qmlApp,
    nrfFlags,
    fwName,
  };
  return version < 605 ? through600 : fw;
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

/** A motor controller's 96-bit STM32 UID, from seed and CAN id. */
function stmUuid(seed: number, canId: number): string {
  const rng = new Prng((seed ^ Math.imul(canId + 7, 0x2545f491)) >>> 0);
  return hex(Array.from({ length: 12 }, () => rng.int(0, 255)));
}
