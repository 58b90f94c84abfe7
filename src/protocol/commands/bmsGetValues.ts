/**
 * COMM_BMS_GET_VALUES (96): the BMS state a VESC Express caches from its BMS's CAN broadcasts
 * (vesc_express `main/bms.c` bms_process_cmd; parser vesc_tool `commands.cpp`). Everything
 * through temp_max_cell is mandatory; soc, soh, can_id, the four totals, pressure,
 * data_version and the status string are an optional tail read only if enough bytes remain
 * (a standalone VESC BMS stops after pressure, old firmware after soh or can_id).
 * soc/soh are sent as fractions ×1000 and decoded to percent, as the JSON contract wants.
 */
import type { BmsValues } from "../../model/reading.js";
import {
  ByteReader,
  ByteWriter,
  boolArrayAt,
  float16ArrayAt,
  float32AutoAt,
  int16At,
  int32At,
} from "../bytes.js";
import { type CommandCodec, expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";
import { ProtocolError } from "../errors.js";

const NAME = "COMM_BMS_GET_VALUES";
/**
 * BMS_MAX_CELLS / BMS_MAX_TEMPS in vesc_express `main/datatypes.h`: what the Express itself
 * stores. Not a decode limit: it copies the counts from CAN unclamped, and VESC Tool reads
 * any count the bytes hold, so the decoder does too.
 */
export const BMS_MAX_CELLS = 50;
export const BMS_MAX_TEMPS = 50;

export function decodeBmsValues(payload: Uint8Array): BmsValues {
  if (payload[0] !== CommandId.BmsGetValues)
    expectCommand(new ByteReader(payload), CommandId.BmsGetValues, NAME);
  return new DecodedBmsValues(payload);
}

function truncated(what: string, need: number, have: number): ProtocolError {
  return new ProtocolError("Truncated", `${NAME}: ${what} need ${need} more bytes, payload has ${have}`);
}

/**
 * A decoded reply, read field by field in wire order. A class rather than an object literal:
 * every reply gets the same keys (the optional tail's undefined when the reply stops before
 * it) and so one hidden class, and V8 cannot pretenure class instances (protocol/arrays.ts),
 * as it did to some of the decoder's literals in some runs of bench/decoder.ts. The fields are
 * `declare`d so the constructor's assignments create them, in wire order, without first
 * defining each as undefined.
 */
class DecodedBmsValues implements BmsValues {
  declare readonly packVoltage: number; // V
  declare readonly chargeVoltage: number; // V
  declare readonly current: number; // A
  declare readonly currentIc: number; // A
  declare readonly ampHours: number;
  declare readonly wattHours: number;
  declare readonly cells: readonly number[]; // V
  declare readonly balancing: readonly boolean[];
  declare readonly temperatures: readonly number[]; // °C
  declare readonly icTemperature: number; // °C
  declare readonly humidityTemperature: number; // °C
  declare readonly humidity: number; // %RH
  declare readonly maxCellTemperature: number; // °C
  declare readonly soc: number | undefined; // percent
  declare readonly soh: number | undefined; // percent
  declare readonly canId: number | undefined;
  declare readonly ampHoursChargedTotal: number | undefined;
  declare readonly wattHoursChargedTotal: number | undefined;
  declare readonly ampHoursDischargedTotal: number | undefined;
  declare readonly wattHoursDischargedTotal: number | undefined;
  declare readonly pressure: number | undefined; // Pa
  declare readonly dataVersion: number | undefined;
  declare readonly status: string | undefined;

  // One range check per block (the fixed head, cells, sensors), then unchecked reads.
  constructor(p: Uint8Array) {
    const n = p.length;
    if (n < 26) throw truncated("v_tot … wh_cnt and cell_num", 25, n - 1);
    this.packVoltage = int32At(p, 1) / 1e6;
    this.chargeVoltage = int32At(p, 5) / 1e6;
    this.current = int32At(p, 9) / 1e6;
    this.currentIc = int32At(p, 13) / 1e6;
    this.ampHours = int32At(p, 17) / 1e3;
    this.wattHours = int32At(p, 21) / 1e3;
    const cellCount = p[25] as number;
    let at = 26;
    if (n - at < cellCount * 3 + 1) throw truncated(`${cellCount} cells`, cellCount * 3 + 1, n - at);
    this.cells = float16ArrayAt(p, at, cellCount, 1e3);
    this.balancing = boolArrayAt(p, at + 2 * cellCount, cellCount);
    at += 3 * cellCount;
    const tempCount = p[at++] as number;
    if (n - at < tempCount * 2 + 8) throw truncated(`${tempCount} sensors`, tempCount * 2 + 8, n - at);
    this.temperatures = float16ArrayAt(p, at, tempCount, 1e2);
    at += 2 * tempCount;
    this.icTemperature = int16At(p, at) / 1e2;
    this.humidityTemperature = int16At(p, at + 2) / 1e2;
    this.humidity = int16At(p, at + 4) / 1e2;
    this.maxCellTemperature = int16At(p, at + 6) / 1e2;
    at += 8;
    // The optional tail: each field is read if its bytes remain. soc/soh: fraction ×1000 → percent.
    let has = n - at >= 2;
    this.soc = has ? int16At(p, at) / 10 : undefined;
    at += has ? 2 : 0;
    has = n - at >= 2;
    this.soh = has ? int16At(p, at) / 10 : undefined;
    at += has ? 2 : 0;
    has = n - at >= 1;
    this.canId = has ? p[at] : undefined;
    at += has ? 1 : 0;
    has = n - at >= 16;
    this.ampHoursChargedTotal = has ? float32AutoAt(p, at) : undefined;
    this.wattHoursChargedTotal = has ? float32AutoAt(p, at + 4) : undefined;
    this.ampHoursDischargedTotal = has ? float32AutoAt(p, at + 8) : undefined;
    this.wattHoursDischargedTotal = has ? float32AutoAt(p, at + 12) : undefined;
    at += has ? 16 : 0;
    has = n - at >= 2;
    this.pressure = has ? int16At(p, at) * 10 : undefined; // raw ×10 → Pa
    at += has ? 2 : 0;
    has = n - at >= 1;
    this.dataVersion = has ? p[at] : undefined;
    at += has ? 1 : 0;
    this.status = n - at >= 1 ? new ByteReader(p, at).string("status") : undefined;
  }
}

/**
 * Writes a reply. The optional tail is written in order up to the first absent field, the way
 * older firmware ends early; the four totals go together.
 */
export function encodeBmsValuesResponse(v: BmsValues): Uint8Array {
  // The counts are single bytes on the wire.
  if (v.cells.length > 0xff || v.balancing.length !== v.cells.length) {
    throw new ProtocolError(
      "ValueOutOfRange",
      `${NAME}: ${v.cells.length} cells / ${v.balancing.length} flags`,
    );
  }
  if (v.temperatures.length > 0xff) {
    throw new ProtocolError("ValueOutOfRange", `${NAME}: ${v.temperatures.length} temperature sensors`);
  }
  const w = new ByteWriter()
    .uint8(CommandId.BmsGetValues)
    .float32(v.packVoltage, 1e6)
    .float32(v.chargeVoltage, 1e6)
    .float32(v.current, 1e6)
    .float32(v.currentIc, 1e6)
    .float32(v.ampHours, 1e3)
    .float32(v.wattHours, 1e3)
    .uint8(v.cells.length);
  for (const c of v.cells) w.float16(c, 1e3);
  for (const b of v.balancing) w.bool(b);
  w.uint8(v.temperatures.length);
  for (const t of v.temperatures) w.float16(t, 1e2);
  w.float16(v.icTemperature, 1e2)
    .float16(v.humidityTemperature, 1e2)
    .float16(v.humidity, 1e2)
    .float16(v.maxCellTemperature, 1e2);
  const totals = [
    v.ampHoursChargedTotal,
    v.wattHoursChargedTotal,
    v.ampHoursDischargedTotal,
    v.wattHoursDischargedTotal,
  ];
  const tail: Array<(() => void) | undefined> = [
    v.soc === undefined ? undefined : () => w.int16(Math.round((v.soc ?? 0) * 10)),
    v.soh === undefined ? undefined : () => w.int16(Math.round((v.soh ?? 0) * 10)),
    v.canId === undefined ? undefined : () => w.uint8(v.canId ?? 255),
    totals.some((t) => t === undefined)
      ? undefined
      : () => {
          for (const t of totals) w.float32Auto(t ?? 0);
        },
    v.pressure === undefined ? undefined : () => w.int16(Math.round((v.pressure ?? 0) / 10)),
    v.dataVersion === undefined ? undefined : () => w.uint8(v.dataVersion ?? 0),
    v.status === undefined ? undefined : () => w.string(v.status ?? ""),
  ];
  for (const write of tail) {
    if (!write) break;
    write();
  }
  return w.finish();
}

export const bmsGetValues: CommandCodec<void, BmsValues> = {
  id: CommandId.BmsGetValues,
  name: NAME,
  encodeRequest: () => Uint8Array.of(CommandId.BmsGetValues),
  decodeRequest: (payload) => {
    expectCommand(new ByteReader(payload), CommandId.BmsGetValues, NAME);
  },
  encodeResponse: encodeBmsValuesResponse,
  decodeResponse: decodeBmsValues,
};
