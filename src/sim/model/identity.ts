/**
 * Who the simulated devices say they are (COMM_FW_VERSION): the Express ("VESC Express T",
 * hw type 2, UUID = ESP32 MAC + 6 zero bytes) and its CAN nodes (bldc motor controllers,
 * hw type 0; a VESC BMS, hw type 1), trimmed to the fields a given firmware version sends.
 */
import { type FwVersion, firmwareString } from "../../protocol/index.js";
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
    firmware: firmwareString(fw.major, fw.minor),
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
    firmware: firmwareString(fw.major, fw.minor),
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

/** The firmware version (fwNumber) that added each optional FW_VERSION field (protocol.md §3 field history). */
const FW_FIELD_SINCE: ReadonlyArray<readonly [keyof FwVersion, number]> = [
  ["paired", 348],
  ["testVersion", 500],
  ["hwType", 502],
  ["customConfigCount", 502],
  ["hasPhaseFilters", 503],
  ["qmlHw", 503],
  ["qmlApp", 503],
  ["nrfFlags", 600],
  ["fwName", 600],
  ["hwConfigCrc", 605],
];

/** Drops FW_VERSION fields newer than `version` (protocol.md §3 field history); 0 = none after the uuid. */
export function trimFwVersion(fw: FwVersion, version: number): FwVersion {
  const out: Partial<Record<keyof FwVersion, unknown>> = { ...fw };
  for (const [field, since] of FW_FIELD_SINCE) if (version < since) delete out[field];
  return out as FwVersion;
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
