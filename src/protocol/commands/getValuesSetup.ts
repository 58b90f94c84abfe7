/**
 * COMM_GET_VALUES_SETUP (47) and COMM_GET_VALUES_SETUP_SELECTIVE (51), bldc ≥ 3.48: speed,
 * battery level, trip, odometer and the Ah/Wh summed over the CAN bus. Layout per bldc
 * `comm/commands.c`; one MaskedLayout table drives decode and encode of both. Unlike
 * GET_VALUES the read resets nothing. The odometer (bit 20) came in 5.02 and the uptime
 * (bit 21) in 5.03; older firmware just leaves them out (SELECTIVE still echoes the mask),
 * so they are decoded by remaining size.
 */
import type { SetupValues } from "../../model/ride.js";
import type { CommandCodec } from "../codec.js";
import { CommandId } from "../commandId.js";
import { f16, f32, type FieldKind, U32, U8 } from "./fieldKind.js";
import { ALL_BITS_MASK, type MaskedBit, MaskedLayout, maskedBit } from "./maskedLayout.js";

type Field = keyof Omit<SetupValues, "faultName">;

/** Every SETUP bit carries one field, named here too. */
export interface SetupBitLayout extends MaskedBit<Field> {
  readonly field: Field;
}

const bit = (n: number, field: Field, kind: FieldKind, since?: number): SetupBitLayout => ({
  ...maskedBit(n, [field], kind, since),
  field,
});

export const SETUP_LAYOUT: readonly SetupBitLayout[] = [
  bit(0, "tempFet", f16(10)), // °C
  bit(1, "tempMotor", f16(10)), // °C
  bit(2, "currentMotorTotal", f32(100)), // A
  bit(3, "currentInputTotal", f32(100)), // A
  bit(4, "dutyCycle", f16(1000)), // fraction
  bit(5, "erpm", f32(1)),
  bit(6, "speedMps", f32(1000)), // m/s
  bit(7, "inputVoltage", f16(10)), // V
  bit(8, "batteryLevel", f16(1000)), // fraction
  bit(9, "ampHoursTotal", f32(10000)), // Ah
  bit(10, "ampHoursChargedTotal", f32(10000)), // Ah
  bit(11, "wattHoursTotal", f32(10000)), // Wh
  bit(12, "wattHoursChargedTotal", f32(10000)), // Wh
  bit(13, "tripDistanceM", f32(1000)), // m
  bit(14, "tripDistanceAbsM", f32(1000)), // m
  bit(15, "pidPosition", f32(1e6)), // degrees
  bit(16, "fault", U8),
  bit(17, "controllerId", U8),
  bit(18, "vescCount", U8),
  bit(19, "wattHoursLeft", f32(1000)), // Wh
  bit(20, "odometerM", U32, 502), // m
  bit(21, "uptimeMs", U32, 503), // ms
];

const layout = new MaskedLayout({
  full: { id: CommandId.GetValuesSetup, name: "COMM_GET_VALUES_SETUP" },
  selective: { id: CommandId.GetValuesSetupSelective, name: "COMM_GET_VALUES_SETUP_SELECTIVE" },
  bits: SETUP_LAYOUT,
  faultField: "fault",
});

export const ALL_SETUP_MASK = ALL_BITS_MASK;
/** COMM_GET_VALUES_SETUP exists since bldc 3.48 (older firmware ignores it). */
export const SETUP_SINCE_FW = 348;
/** The fwNumber (major·100 + minor) that added each optional bit. */
export const SETUP_BIT_SINCE_FW: Readonly<Record<number, number>> = layout.sinceByBit();

export interface SelectiveSetupValues {
  readonly mask: number;
  readonly values: SetupValues;
}

export const decodeValuesSetup = (payload: Uint8Array): SetupValues => layout.decodeFull(payload);

export const encodeValuesSetupResponse = (values: SetupValues): Uint8Array => layout.encodeFull(values);

export const decodeValuesSetupSelective = (payload: Uint8Array): SelectiveSetupValues =>
  layout.decodeSelective(payload);

export const encodeValuesSetupSelectiveResponse = (response: SelectiveSetupValues): Uint8Array =>
  layout.encodeSelective(response);

export const getValuesSetup: CommandCodec<void, SetupValues> = layout.fullCodec();

export const getValuesSetupSelective: CommandCodec<number, SelectiveSetupValues> = layout.selectiveCodec();

/** The mask selecting the named fields. */
export const setupMask = (fields: readonly Field[]): number => layout.mask(fields);
