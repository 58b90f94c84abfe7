/**
 * COMM_GET_VALUES_SETUP (47) and COMM_GET_VALUES_SETUP_SELECTIVE (51), bldc ≥ 3.48: speed,
 * battery level, trip, odometer and the Ah/Wh summed over the CAN bus. Layout per bldc
 * `comm/commands.c`; one table drives decode and encode. Unlike GET_VALUES the read resets
 * nothing. The odometer (bit 20) came in 5.02 and the uptime (bit 21) in 5.03; older firmware
 * just leaves them out (SELECTIVE still echoes the mask), so they are decoded by remaining size.
 */
import type { SetupValues } from "../../model/ride.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { type CommandCodec, expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";
import { ProtocolError } from "../errors.js";
import { faultCodeName } from "../faultCode.js";
import { f16, f32, type FieldKind, U32, U8, readField, sizeOf, writeField } from "./fieldKind.js";

type Field = keyof Omit<SetupValues, "faultName">;

export interface SetupBitLayout {
  readonly bit: number;
  readonly field: Field;
  readonly kind: FieldKind;
  /** Bytes on the wire. */
  readonly size: number;
}

const layout = (bit: number, field: Field, kind: FieldKind): SetupBitLayout => ({
  bit,
  field,
  kind,
  size: sizeOf(kind),
});

export const SETUP_LAYOUT: readonly SetupBitLayout[] = [
  layout(0, "tempFet", f16(10)), // °C
  layout(1, "tempMotor", f16(10)), // °C
  layout(2, "currentMotorTotal", f32(100)), // A
  layout(3, "currentInputTotal", f32(100)), // A
  layout(4, "dutyCycle", f16(1000)), // fraction
  layout(5, "erpm", f32(1)),
  layout(6, "speedMps", f32(1000)), // m/s
  layout(7, "inputVoltage", f16(10)), // V
  layout(8, "batteryLevel", f16(1000)), // fraction
  layout(9, "ampHoursTotal", f32(10000)), // Ah
  layout(10, "ampHoursChargedTotal", f32(10000)), // Ah
  layout(11, "wattHoursTotal", f32(10000)), // Wh
  layout(12, "wattHoursChargedTotal", f32(10000)), // Wh
  layout(13, "tripDistanceM", f32(1000)), // m
  layout(14, "tripDistanceAbsM", f32(1000)), // m
  layout(15, "pidPosition", f32(1e6)), // degrees
  layout(16, "fault", U8),
  layout(17, "controllerId", U8),
  layout(18, "vescCount", U8),
  layout(19, "wattHoursLeft", f32(1000)), // Wh
  layout(20, "odometerM", U32), // m, bldc ≥ 5.02
  layout(21, "uptimeMs", U32), // ms, bldc ≥ 5.03
];

/** Bits the firmware appended later (5.02, 5.03): a short reply simply ends before them. */
const FIRST_OPTIONAL_BIT = 20;
export const ALL_SETUP_MASK = 0xffffffff;
/** COMM_GET_VALUES_SETUP exists since bldc 3.48 (older firmware ignores it). */
export const SETUP_SINCE_FW = 348;
/** The fwNumber (major·100 + minor) that added each optional bit. */
export const SETUP_BIT_SINCE_FW: Readonly<Record<number, number>> = { 20: 502, 21: 503 };

function decodeFields(r: ByteReader, mask: number): SetupValues {
  const out: SetupValues = {};
  for (const entry of SETUP_LAYOUT) {
    if (!((mask >>> entry.bit) & 1)) continue;
    if (entry.bit >= FIRST_OPTIONAL_BIT && r.remaining < entry.size) break;
    out[entry.field] = readField(r, entry.kind, entry.field);
  }
  return out.fault === undefined ? out : { ...out, faultName: faultCodeName(out.fault) };
}

/** Masked fields in order; an absent optional field ends the reply, as older firmware's does. */
function encodeFields(w: ByteWriter, values: SetupValues, mask: number): void {
  for (const entry of SETUP_LAYOUT) {
    if (!((mask >>> entry.bit) & 1)) continue;
    const value = values[entry.field];
    if (value === undefined) {
      if (entry.bit >= FIRST_OPTIONAL_BIT) return;
      throw new ProtocolError("ValueOutOfRange", `COMM_GET_VALUES_SETUP field ${entry.field} missing`);
    }
    writeField(w, entry.kind, value);
  }
}

export function decodeValuesSetup(payload: Uint8Array): SetupValues {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.GetValuesSetup, "COMM_GET_VALUES_SETUP");
  return decodeFields(r, ALL_SETUP_MASK);
}

export function encodeValuesSetupResponse(values: SetupValues): Uint8Array {
  const w = new ByteWriter().uint8(CommandId.GetValuesSetup);
  encodeFields(w, values, ALL_SETUP_MASK);
  return w.finish();
}

export interface SelectiveSetupValues {
  readonly mask: number;
  readonly values: SetupValues;
}

export function decodeValuesSetupSelective(payload: Uint8Array): SelectiveSetupValues {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.GetValuesSetupSelective, "COMM_GET_VALUES_SETUP_SELECTIVE");
  const mask = r.uint32("mask");
  return { mask, values: decodeFields(r, mask) };
}

export function encodeValuesSetupSelectiveResponse(response: SelectiveSetupValues): Uint8Array {
  const w = new ByteWriter().uint8(CommandId.GetValuesSetupSelective).uint32(response.mask >>> 0);
  encodeFields(w, response.values, response.mask >>> 0);
  return w.finish();
}

export const getValuesSetup: CommandCodec<void, SetupValues> = {
  id: CommandId.GetValuesSetup,
  name: "COMM_GET_VALUES_SETUP",
  encodeRequest: () => Uint8Array.of(CommandId.GetValuesSetup),
  decodeRequest: (payload) => {
    expectCommand(new ByteReader(payload), CommandId.GetValuesSetup, "COMM_GET_VALUES_SETUP");
  },
  encodeResponse: encodeValuesSetupResponse,
  decodeResponse: decodeValuesSetup,
};

export const getValuesSetupSelective: CommandCodec<number, SelectiveSetupValues> = {
  id: CommandId.GetValuesSetupSelective,
  name: "COMM_GET_VALUES_SETUP_SELECTIVE",
  encodeRequest: (mask) =>
    new ByteWriter()
      .uint8(CommandId.GetValuesSetupSelective)
      .uint32(mask >>> 0)
      .finish(),
  decodeRequest: (payload) => {
    const r = new ByteReader(payload);
    expectCommand(r, CommandId.GetValuesSetupSelective, "COMM_GET_VALUES_SETUP_SELECTIVE");
    return r.uint32("mask");
  },
  encodeResponse: encodeValuesSetupSelectiveResponse,
  decodeResponse: decodeValuesSetupSelective,
};

/** The mask selecting the named fields. */
export function setupMask(fields: readonly Field[]): number {
  let mask = 0;
  for (const entry of SETUP_LAYOUT) if (fields.includes(entry.field)) mask |= 1 << entry.bit;
  return mask >>> 0;
}
