/**
 * COMM_FW_VERSION (0). Layout per bldc `comm/commands.c` and vesc_express `main/commands.c`;
 * every field after the version bytes is optional, read only if enough bytes remain, in the
 * order VESC Tool's parser uses (vesc_tool `commands.cpp`), so old firmware decodes too.
 */
import { ByteReader, ByteWriter } from "../bytes.js";
import { type CommandCodec, expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";
import type { DeviceInfo } from "../../model/reading.js";

export interface FwVersion extends DeviceInfo {
  readonly major: number;
  readonly minor: number;
  readonly paired?: boolean;
  readonly customConfigCount?: number;
  readonly hasPhaseFilters?: boolean;
  readonly qmlHw?: number;
  readonly qmlApp?: number;
  readonly nrfFlags?: number;
  /** main_calc_hw_crc(), fw 6.05+ */
  readonly hwConfigCrc?: number;
}

const NAME = "COMM_FW_VERSION";

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(12);
  for (let i = 0; i < 12; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16) || 0;
  return out;
}

/**
 * "6.05" for 6/5: the firmware defines the minor as a two-digit number (FW_VERSION_MINOR 05)
 * and VESC Tool prints it zero-padded, so versions of one major also sort as strings.
 */
export function firmwareString(major: number, minor: number): string {
  return `${major}.${String(minor).padStart(2, "0")}`;
}

export function decodeFwVersion(payload: Uint8Array): FwVersion {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.FwVersion, NAME);
  const major = r.uint8("fw major");
  const minor = r.uint8("fw minor");
  const fw: { -readonly [K in keyof FwVersion]: FwVersion[K] } = {
    firmware: firmwareString(major, minor),
    hardware: "",
    uuid: "",
    major,
    minor,
  };
  if (r.remaining >= 1) fw.hardware = r.string("hw name");
  if (r.remaining >= 12) fw.uuid = toHex(r.bytesN(12, "uuid"));
  if (r.remaining >= 1) fw.paired = r.bool("pairing done");
  if (r.remaining >= 1) fw.testVersion = r.uint8("test version");
  if (r.remaining >= 1) fw.hwType = r.uint8("hw type");
  if (r.remaining >= 1) fw.customConfigCount = r.uint8("custom config count");
  if (r.remaining >= 1) fw.hasPhaseFilters = r.bool("phase filters");
  if (r.remaining >= 2) {
    fw.qmlHw = r.uint8("qml hw");
    fw.qmlApp = r.uint8("qml app");
  }
  if (r.remaining >= 1) fw.nrfFlags = r.uint8("nrf flags");
  if (r.remaining >= 1) fw.fwName = r.string("fw name");
  if (r.remaining >= 4) fw.hwConfigCrc = r.uint32("hw config crc");
  return fw;
}

/** Writes the reply; optional fields are written in order up to the first absent one (old firmware). */
export function encodeFwVersionResponse(fw: FwVersion): Uint8Array {
  const w = new ByteWriter().uint8(CommandId.FwVersion).uint8(fw.major).uint8(fw.minor);
  w.string(fw.hardware);
  if (fw.uuid.length !== 24) return w.finish();
  w.bytes(fromHex(fw.uuid));
  const tail: Array<(() => void) | undefined> = [
    fw.paired === undefined ? undefined : () => w.bool(fw.paired === true),
    fw.testVersion === undefined ? undefined : () => w.uint8(fw.testVersion ?? 0),
    fw.hwType === undefined ? undefined : () => w.uint8(fw.hwType ?? 0),
    fw.customConfigCount === undefined ? undefined : () => w.uint8(fw.customConfigCount ?? 0),
    fw.hasPhaseFilters === undefined ? undefined : () => w.bool(fw.hasPhaseFilters === true),
    fw.qmlHw === undefined || fw.qmlApp === undefined
      ? undefined
      : () => w.uint8(fw.qmlHw ?? 0).uint8(fw.qmlApp ?? 0),
    fw.nrfFlags === undefined ? undefined : () => w.uint8(fw.nrfFlags ?? 0),
    fw.fwName === undefined ? undefined : () => w.string(fw.fwName ?? ""),
    fw.hwConfigCrc === undefined ? undefined : () => w.uint32(fw.hwConfigCrc ?? 0),
  ];
  for (const write of tail) {
    if (!write) break;
    write();
  }
  return w.finish();
}

/** The identity part of a FW_VERSION reply, in the JSON contract's shape. */
export function deviceInfoFromFwVersion(fw: FwVersion, canId?: number): DeviceInfo {
  return {
    firmware: fw.firmware,
    hardware: fw.hardware,
    uuid: fw.uuid,
    ...(canId === undefined ? {} : { canId }),
    ...(fw.hwType === undefined ? {} : { hwType: fw.hwType }),
    ...(fw.fwName ? { fwName: fw.fwName } : {}),
    ...(fw.testVersion === undefined ? {} : { testVersion: fw.testVersion }),
  };
}

export const fwVersion: CommandCodec<void, FwVersion> = {
  id: CommandId.FwVersion,
  name: NAME,
  encodeRequest: () => Uint8Array.of(CommandId.FwVersion),
  decodeRequest: (payload) => {
    expectCommand(new ByteReader(payload), CommandId.FwVersion, NAME);
  },
  encodeResponse: encodeFwVersionResponse,
  decodeResponse: decodeFwVersion,
};
