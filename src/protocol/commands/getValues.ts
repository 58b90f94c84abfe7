/**
 * COMM_GET_VALUES (4) and COMM_GET_VALUES_SELECTIVE (50), motor controller telemetry.
 * Layout per bldc `comm/commands.c`; one table drives decode and encode so the two can't
 * drift. Plain GET_VALUES is mask 0xFFFFFFFF. Fields from bit 16 on are optional in both
 * replies, as VESC Tool size-guards them: firmware appends only the fields it knows (pid_pos
 * since 3.34, controller id and MOS temps since 3.48, vd/vq since 3.60, status since 5.03),
 * while SELECTIVE still echoes the requested mask.
 */
import type { MotorValues } from "../../model/reading.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { type CommandCodec, expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";
import { ProtocolError } from "../errors.js";
import { faultCodeName } from "../faultCode.js";
import { f16, f32, type FieldKind, I32, U8, readField, sizeOf, writeField } from "./fieldKind.js";

type Field = keyof Omit<MotorValues, "faultName">;

/** One mask bit: the fields it carries (bit 18 carries three MOS temperatures). */
interface BitLayout {
  readonly bit: number;
  readonly fields: readonly Field[];
  readonly kind: FieldKind;
  /** Bytes this bit occupies on the wire. */
  readonly size: number;
}

const layout = (bit: number, fields: Field[], kind: FieldKind): BitLayout => ({
  bit,
  fields,
  kind,
  size: sizeOf(kind) * fields.length,
});

export const VALUES_LAYOUT: readonly BitLayout[] = [
  layout(0, ["tempFet"], f16(10)), // °C
  layout(1, ["tempMotor"], f16(10)), // °C
  layout(2, ["currentMotor"], f32(100)), // A
  layout(3, ["currentInput"], f32(100)), // A
  layout(4, ["currentD"], f32(100)), // A
  layout(5, ["currentQ"], f32(100)), // A
  layout(6, ["dutyCycle"], f16(1000)), // fraction
  layout(7, ["erpm"], f32(1)), // ERPM
  layout(8, ["inputVoltage"], f16(10)), // V
  layout(9, ["ampHours"], f32(10000)), // Ah
  layout(10, ["ampHoursCharged"], f32(10000)), // Ah
  layout(11, ["wattHours"], f32(10000)), // Wh
  layout(12, ["wattHoursCharged"], f32(10000)), // Wh
  layout(13, ["tachometer"], I32),
  layout(14, ["tachometerAbs"], I32),
  layout(15, ["fault"], U8),
  layout(16, ["pidPosition"], f32(1e6)), // degrees
  layout(17, ["controllerId"], U8),
  layout(18, ["tempMos1", "tempMos2", "tempMos3"], f16(10)), // °C
  layout(19, ["voltageD"], f32(1000)), // V
  layout(20, ["voltageQ"], f32(1000)), // V
  layout(21, ["status"], U8),
];

export const ALL_VALUES_MASK = 0xffffffff;
/** Fields older firmware may leave out of a reply: they were added in bit order, so the missing ones are a suffix. */
const FIRST_OPTIONAL_BIT = 16;

function decodeFields(r: ByteReader, mask: number): MotorValues {
  const out: Partial<Record<Field, number>> = {};
  for (const entry of VALUES_LAYOUT) {
    if (!((mask >>> entry.bit) & 1)) continue;
    if (entry.bit >= FIRST_OPTIONAL_BIT && r.remaining < entry.size) break;
    for (const field of entry.fields) out[field] = readField(r, entry.kind, field);
  }
  const values: MotorValues = out;
  return out.fault === undefined ? values : { ...values, faultName: faultCodeName(out.fault) };
}

/** Masked fields in order; an absent field from bit 16 on ends the reply, as older firmware's does. */
function encodeFields(w: ByteWriter, values: MotorValues, mask: number): void {
  for (const entry of VALUES_LAYOUT) {
    if (!((mask >>> entry.bit) & 1)) continue;
    const present = entry.fields.every((f) => values[f] !== undefined);
    if (!present) {
      if (entry.bit >= FIRST_OPTIONAL_BIT) return;
      throw new ProtocolError("ValueOutOfRange", `COMM_GET_VALUES field ${entry.fields.join("/")} missing`);
    }
    for (const f of entry.fields) writeField(w, entry.kind, values[f] ?? 0);
  }
}

export function decodeValues(payload: Uint8Array): MotorValues {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.GetValues, "COMM_GET_VALUES");
  return decodeFields(r, ALL_VALUES_MASK);
}

/** Plain GET_VALUES reply; fields from bit 16 on are written up to the first absent one. */
export function encodeValuesResponse(values: MotorValues): Uint8Array {
  const w = new ByteWriter().uint8(CommandId.GetValues);
  encodeFields(w, values, ALL_VALUES_MASK);
  return w.finish();
}

export interface SelectiveValues {
  readonly mask: number;
  readonly values: MotorValues;
}

export function decodeValuesSelective(payload: Uint8Array): SelectiveValues {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.GetValuesSelective, "COMM_GET_VALUES_SELECTIVE");
  const mask = r.uint32("mask");
  return { mask, values: decodeFields(r, mask) };
}

export function encodeValuesSelectiveResponse(response: SelectiveValues): Uint8Array {
  const w = new ByteWriter().uint8(CommandId.GetValuesSelective).uint32(response.mask >>> 0);
  encodeFields(w, response.values, response.mask >>> 0);
  return w.finish();
}

export const getValues: CommandCodec<void, MotorValues> = {
  id: CommandId.GetValues,
  name: "COMM_GET_VALUES",
  encodeRequest: () => Uint8Array.of(CommandId.GetValues),
  decodeRequest: (payload) => {
    expectCommand(new ByteReader(payload), CommandId.GetValues, "COMM_GET_VALUES");
  },
  encodeResponse: encodeValuesResponse,
  decodeResponse: decodeValues,
};

export const getValuesSelective: CommandCodec<number, SelectiveValues> = {
  id: CommandId.GetValuesSelective,
  name: "COMM_GET_VALUES_SELECTIVE",
  encodeRequest: (mask) =>
    new ByteWriter()
      .uint8(CommandId.GetValuesSelective)
      .uint32(mask >>> 0)
      .finish(),
  decodeRequest: (payload) => {
    const r = new ByteReader(payload);
    expectCommand(r, CommandId.GetValuesSelective, "COMM_GET_VALUES_SELECTIVE");
    return r.uint32("mask");
  },
  encodeResponse: encodeValuesSelectiveResponse,
  decodeResponse: decodeValuesSelective,
};

/** The mask selecting the named fields. */
export function valuesMask(fields: readonly Field[]): number {
  let mask = 0;
  for (const entry of VALUES_LAYOUT) if (entry.fields.some((f) => fields.includes(f))) mask |= 1 << entry.bit;
  return mask >>> 0;
}
