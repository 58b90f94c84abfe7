/**
 * The explicit table of reply decoders: payload in, tagged value out. An id we have no codec
 * for decodes to `unknown` (never throws); a known id with a malformed payload throws
 * ProtocolError. Requests the simulator understands are listed the same way.
 */
import type { BmsValues, MotorValues } from "../model/reading.js";
import type { BatteryCut, SetupValues } from "../model/ride.js";
import { ByteReader } from "./bytes.js";
import { CommandId } from "./commandId.js";
import { decodeBmsValues } from "./commands/bmsGetValues.js";
import { type CustomConfigRedacted, decodeCustomConfigRedacted } from "./commands/customConfig.js";
import { decodeFwVersion, type FwVersion } from "./commands/fwVersion.js";
import { decodeValues, decodeValuesSelective, type SelectiveValues } from "./commands/getValues.js";
import {
  decodeValuesSetup,
  decodeValuesSetupSelective,
  type SelectiveSetupValues,
} from "./commands/getValuesSetup.js";
import { decodeBatteryCut } from "./commands/batteryCut.js";
import { decodeImuData, type ImuReply } from "./commands/getImuData.js";
import { decodeStats, type StatsReply } from "./commands/getStats.js";
import { decodePingCan } from "./commands/pingCan.js";
import { type BalancePackageReply, decodeCustomAppData } from "./commands/refloat.js";
import { ProtocolError } from "./errors.js";

export type DecodedReply =
  | { readonly kind: "fwVersion"; readonly value: FwVersion }
  | { readonly kind: "values"; readonly value: MotorValues }
  | { readonly kind: "valuesSelective"; readonly value: SelectiveValues }
  | { readonly kind: "bmsValues"; readonly value: BmsValues }
  | { readonly kind: "valuesSetup"; readonly value: SetupValues }
  | { readonly kind: "valuesSetupSelective"; readonly value: SelectiveSetupValues }
  | { readonly kind: "stats"; readonly value: StatsReply }
  | { readonly kind: "imu"; readonly value: ImuReply }
  | { readonly kind: "batteryCut"; readonly value: BatteryCut }
  | { readonly kind: "customAppData"; readonly value: BalancePackageReply }
  | { readonly kind: "pingCan"; readonly value: number[] }
  | { readonly kind: "customConfig"; readonly value: CustomConfigRedacted }
  | { readonly kind: "print"; readonly value: string }
  | { readonly kind: "unknown"; readonly id: number; readonly payload: Uint8Array };

function decodeText(payload: Uint8Array): string {
  // COMM_PRINT / COMM_LISP_PRINT carry text without a guaranteed NUL.
  const body = payload.subarray(1);
  const nul = body.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? body.subarray(0, nul) : body);
}

const decoders: ReadonlyMap<number, (payload: Uint8Array) => DecodedReply> = new Map<
  number,
  (payload: Uint8Array) => DecodedReply
>([
  [CommandId.FwVersion, (p) => ({ kind: "fwVersion", value: decodeFwVersion(p) })],
  [CommandId.GetValues, (p) => ({ kind: "values", value: decodeValues(p) })],
  [CommandId.GetValuesSelective, (p) => ({ kind: "valuesSelective", value: decodeValuesSelective(p) })],
  [CommandId.BmsGetValues, (p) => ({ kind: "bmsValues", value: decodeBmsValues(p) })],
  [CommandId.GetValuesSetup, (p) => ({ kind: "valuesSetup", value: decodeValuesSetup(p) })],
  [
    CommandId.GetValuesSetupSelective,
    (p) => ({ kind: "valuesSetupSelective", value: decodeValuesSetupSelective(p) }),
  ],
  [CommandId.GetStats, (p) => ({ kind: "stats", value: decodeStats(p) })],
  [CommandId.GetImuData, (p) => ({ kind: "imu", value: decodeImuData(p) })],
  [CommandId.GetBatteryCut, (p) => ({ kind: "batteryCut", value: decodeBatteryCut(p) })],
  [CommandId.CustomAppData, (p) => ({ kind: "customAppData", value: decodeCustomAppData(p) })],
  [CommandId.PingCan, (p) => ({ kind: "pingCan", value: decodePingCan(p) })],
  [CommandId.GetCustomConfig, (p) => ({ kind: "customConfig", value: decodeCustomConfigRedacted(p) })],
  [CommandId.Print, (p) => ({ kind: "print", value: decodeText(p) })],
  [CommandId.LispPrint, (p) => ({ kind: "print", value: decodeText(p) })],
]);

/** Decodes any reply payload by its id byte. Throws ProtocolError only for an empty or malformed payload. */
export function decodeReply(payload: Uint8Array): DecodedReply {
  const id = new ByteReader(payload).uint8("command id");
  const decode = decoders.get(id);
  if (!decode) return { kind: "unknown", id, payload: payload.slice() };
  return decode(payload);
}

/** Like decodeReply, but returns the error instead of throwing (for stream consumers). */
export function tryDecodeReply(
  payload: Uint8Array,
): DecodedReply | { readonly kind: "error"; readonly error: ProtocolError } {
  try {
    return decodeReply(payload);
  } catch (e) {
    if (e instanceof ProtocolError) return { kind: "error", error: e };
    throw e;
  }
}

/** The ids decodeReply has a codec for. */
export const KNOWN_REPLY_IDS: readonly number[] = [...decoders.keys()];
