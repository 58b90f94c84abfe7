/**
 * COMM_GET_VALUES (4) and COMM_GET_VALUES_SELECTIVE (50), motor controller telemetry.
 * Layout per bldc `comm/commands.c`; one MaskedLayout table drives decode and encode of both
 * so they can't drift. Plain GET_VALUES is mask 0xFFFFFFFF. Fields from bit 16 on are
 * optional in both replies, as VESC Tool size-guards them: firmware appends only the fields
 * it knows (pid_pos since 3.34, controller id and MOS temps since 3.48, vd/vq since 3.60,
 * status since 5.03), while SELECTIVE still echoes the requested mask.
 */
import type { MotorValues } from "../../model/reading.js";
import type { CommandCodec } from "../codec.js";
import { CommandId } from "../commandId.js";
import { f16, f32, I32, U8 } from "./fieldKind.js";
import { ALL_BITS_MASK, type MaskedBit, MaskedLayout, maskedBit as bit } from "./maskedLayout.js";

type Field = keyof Omit<MotorValues, "faultName">;

export const VALUES_LAYOUT: readonly MaskedBit<Field>[] = [
  bit(0, ["tempFet"], f16(10)), // °C
  bit(1, ["tempMotor"], f16(10)), // °C
  bit(2, ["currentMotor"], f32(100)), // A
  bit(3, ["currentInput"], f32(100)), // A
  bit(4, ["currentD"], f32(100)), // A
  bit(5, ["currentQ"], f32(100)), // A
  bit(6, ["dutyCycle"], f16(1000)), // fraction
  bit(7, ["erpm"], f32(1)), // ERPM
  bit(8, ["inputVoltage"], f16(10)), // V
  bit(9, ["ampHours"], f32(10000)), // Ah
  bit(10, ["ampHoursCharged"], f32(10000)), // Ah
  bit(11, ["wattHours"], f32(10000)), // Wh
  bit(12, ["wattHoursCharged"], f32(10000)), // Wh
  bit(13, ["tachometer"], I32),
  bit(14, ["tachometerAbs"], I32),
  bit(15, ["fault"], U8),
  bit(16, ["pidPosition"], f32(1e6), 334), // degrees
  bit(17, ["controllerId"], U8, 348),
  bit(18, ["tempMos1", "tempMos2", "tempMos3"], f16(10), 348), // °C
  bit(19, ["voltageD"], f32(1000), 360), // V
  bit(20, ["voltageQ"], f32(1000), 360), // V
  bit(21, ["status"], U8, 503),
];

const layout = new MaskedLayout({
  full: { id: CommandId.GetValues, name: "COMM_GET_VALUES" },
  selective: { id: CommandId.GetValuesSelective, name: "COMM_GET_VALUES_SELECTIVE" },
  bits: VALUES_LAYOUT,
  faultField: "fault",
});

export const ALL_VALUES_MASK = ALL_BITS_MASK;

export interface SelectiveValues {
  readonly mask: number;
  readonly values: MotorValues;
}

export const decodeValues = (payload: Uint8Array): MotorValues => layout.decodeFull(payload);

/** Plain GET_VALUES reply; fields from bit 16 on are written up to the first absent one. */
export const encodeValuesResponse = (values: MotorValues): Uint8Array => layout.encodeFull(values);

export const decodeValuesSelective = (payload: Uint8Array): SelectiveValues =>
  layout.decodeSelective(payload);

export const encodeValuesSelectiveResponse = (response: SelectiveValues): Uint8Array =>
  layout.encodeSelective(response);

export const getValues: CommandCodec<void, MotorValues> = layout.fullCodec();

export const getValuesSelective: CommandCodec<number, SelectiveValues> = layout.selectiveCodec();

/** The mask selecting the named fields. */
export const valuesMask = (fields: readonly Field[]): number => layout.mask(fields);
