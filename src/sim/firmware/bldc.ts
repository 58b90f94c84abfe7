/**
 * The bytes a bldc motor controller (e.g. an ADV500 on the Express's CAN bus) writes, version
 * by version: COMM_GET_VALUES and COMM_GET_VALUES_SELECTIVE (bldc `comm/commands.c`) and
 * COMM_FW_VERSION. Scaled values are truncated like `util/buffer.c`, not rounded.
 */
import type { MotorValues } from "../../model/reading.js";
import { ByteWriter, CommandId, type FwVersion } from "../../protocol/index.js";
import { uuidBytes } from "./uuid.js";
import { type Firmware, fwNumber } from "./version.js";

type Field = Exclude<keyof MotorValues, "faultName">;
type Wire = { readonly f16: number } | { readonly f32: number } | "i32" | "u8";

interface ValuesBit {
  readonly bit: number;
  readonly fields: readonly Field[];
  readonly wire: Wire;
  /** First firmware (fwNumber) that sends it. */
  readonly since: number;
}

/**
 * The reply fields in bldc's order. Bits 0–15 are as old as 3.x; pid_pos came in 3.34,
 * controller id and the MOSFET temperatures with the selective request in 3.48, vd/vq in
 * 3.60, the status byte (timeout, kill switch) in 5.03.
 */
export const BLDC_VALUES: readonly ValuesBit[] = [
  { bit: 0, fields: ["tempFet"], wire: { f16: 1e1 }, since: 0 },
  { bit: 1, fields: ["tempMotor"], wire: { f16: 1e1 }, since: 0 },
  { bit: 2, fields: ["currentMotor"], wire: { f32: 1e2 }, since: 0 },
  { bit: 3, fields: ["currentInput"], wire: { f32: 1e2 }, since: 0 },
  { bit: 4, fields: ["currentD"], wire: { f32: 1e2 }, since: 0 },
  { bit: 5, fields: ["currentQ"], wire: { f32: 1e2 }, since: 0 },
  { bit: 6, fields: ["dutyCycle"], wire: { f16: 1e3 }, since: 0 },
  { bit: 7, fields: ["erpm"], wire: { f32: 1 }, since: 0 },
  { bit: 8, fields: ["inputVoltage"], wire: { f16: 1e1 }, since: 0 },
  { bit: 9, fields: ["ampHours"], wire: { f32: 1e4 }, since: 0 },
  { bit: 10, fields: ["ampHoursCharged"], wire: { f32: 1e4 }, since: 0 },
  { bit: 11, fields: ["wattHours"], wire: { f32: 1e4 }, since: 0 },
  { bit: 12, fields: ["wattHoursCharged"], wire: { f32: 1e4 }, since: 0 },
  { bit: 13, fields: ["tachometer"], wire: "i32", since: 0 },
  { bit: 14, fields: ["tachometerAbs"], wire: "i32", since: 0 },
  { bit: 15, fields: ["fault"], wire: "u8", since: 0 },
  { bit: 16, fields: ["pidPosition"], wire: { f32: 1e6 }, since: 334 },
  { bit: 17, fields: ["controllerId"], wire: "u8", since: 348 },
  { bit: 18, fields: ["tempMos1", "tempMos2", "tempMos3"], wire: { f16: 1e1 }, since: 348 },
  { bit: 19, fields: ["voltageD"], wire: { f32: 1e3 }, since: 360 },
  { bit: 20, fields: ["voltageQ"], wire: { f32: 1e3 }, since: 360 },
  { bit: 21, fields: ["status"], wire: "u8", since: 503 },
];

/** COMM_GET_VALUES_SELECTIVE exists since 3.48; older firmware ignores it. */
export const SELECTIVE_SINCE = 348;

/** The plain GET_VALUES reply: every field the firmware knows. */
export function bldcValuesReply(v: MotorValues, fw: Firmware): Uint8Array {
  const w = new ByteWriter().uint8(CommandId.GetValues);
  writeValues(w, v, 0xffffffff, fwNumber(fw));
  return w.finish();
}

/**
 * The selective reply: the requested mask echoed whole, then only the requested fields this
 * firmware knows (a 5.02 controller asked for bit 21 sends no status byte). Undefined =
 * no reply (the command is newer than the firmware).
 */
export function bldcValuesSelectiveReply(v: MotorValues, mask: number, fw: Firmware): Uint8Array | undefined {
  const version = fwNumber(fw);
  if (version < SELECTIVE_SINCE) return undefined;
  const w = new ByteWriter().uint8(CommandId.GetValuesSelective).uint32(mask >>> 0);
  writeValues(w, v, mask >>> 0, version);
  return w.finish();
}

function writeValues(w: ByteWriter, v: MotorValues, mask: number, version: number): void {
  for (const entry of BLDC_VALUES) {
    if (version < entry.since || !((mask >>> entry.bit) & 1)) continue;
    for (const field of entry.fields) writeValue(w, entry.wire, v[field] ?? 0);
  }
}

function writeValue(w: ByteWriter, wire: Wire, value: number): void {
  if (wire === "i32") w.int32(Math.trunc(value));
  else if (wire === "u8") w.uint8(value);
  else if ("f16" in wire) w.float16Truncated(value, wire.f16);
  else w.float32Truncated(value, wire.f32);
}

/** The version (fwNumber) that added each optional FW_VERSION field in bldc `comm/commands.c`. */
const FW_FIELD_SINCE = {
  paired: 348,
  testVersion: 500,
  hwTypeAndConfigCount: 502,
  phaseFiltersAndQml: 503,
  nrfAndName: 600,
  hwConfigCrc: 605,
} as const;

/** A bldc controller's FW_VERSION reply (`layout`: the version whose fields are sent). */
export function bldcFwVersionReply(id: FwVersion, fw: Firmware, layout = fwNumber(fw)): Uint8Array {
  const version = layout;
  const w = new ByteWriter().uint8(CommandId.FwVersion).uint8(fw.major).uint8(fw.minor).string(id.hardware);
  w.bytes(uuidBytes(id.uuid));
  const s = FW_FIELD_SINCE;
  if (version >= s.paired) w.bool(id.paired === true);
  if (version >= s.testVersion) w.uint8(id.testVersion ?? 0);
  if (version >= s.hwTypeAndConfigCount) w.uint8(id.hwType ?? 0).uint8(id.customConfigCount ?? 0);
  if (version >= s.phaseFiltersAndQml)
    w.bool(id.hasPhaseFilters === true)
      .uint8(id.qmlHw ?? 0)
      .uint8(id.qmlApp ?? 0);
  if (version >= s.nrfAndName) w.uint8(id.nrfFlags ?? 0).string(id.fwName ?? "");
  if (version >= s.hwConfigCrc) w.uint32((id.hwConfigCrc ?? 0) >>> 0);
  return w.finish();
}
