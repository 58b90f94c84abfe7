/**
 * COMM_BMS_GET_VALUES (96): the BMS state a VESC Express caches from its BMS's CAN broadcasts
 * (vesc_express `main/bms.c` bms_process_cmd; parser vesc_tool `commands.cpp`). Everything
 * through temp_max_cell is mandatory; soc, soh, can_id, the four totals, pressure,
 * data_version and the status string are an optional tail read only if enough bytes remain
 * (a standalone VESC BMS stops after pressure, old firmware after soh or can_id).
 * soc/soh are sent as fractions ×1000 and decoded to percent, as the JSON contract wants.
 */
import type { BmsValues } from "../../model/reading.js";
import { ByteReader, ByteWriter } from "../bytes.js";
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
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.BmsGetValues, NAME);
  return new DecodedBmsValues(r);
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

  constructor(r: ByteReader) {
    this.packVoltage = r.float32(1e6, "v_tot");
    this.chargeVoltage = r.float32(1e6, "v_charge");
    this.current = r.float32(1e6, "i_in");
    this.currentIc = r.float32(1e6, "i_in_ic");
    this.ampHours = r.float32(1e3, "ah_cnt");
    this.wattHours = r.float32(1e3, "wh_cnt");
    const cellCount = r.uint8("cell_num");
    if (r.remaining < cellCount * 3 + 1) {
      throw new ProtocolError(
        "Truncated",
        `${NAME}: ${cellCount} cells need ${cellCount * 3 + 1} more bytes, payload has ${r.remaining}`,
      );
    }
    this.cells = r.float16Array(cellCount, 1e3, "v_cell");
    this.balancing = r.boolArray(cellCount, "bal_state");
    const tempCount = r.uint8("temp_adc_num");
    if (r.remaining < tempCount * 2 + 8) {
      throw new ProtocolError(
        "Truncated",
        `${NAME}: ${tempCount} sensors need ${tempCount * 2 + 8} more bytes, payload has ${r.remaining}`,
      );
    }
    this.temperatures = r.float16Array(tempCount, 1e2, "temps_adc");
    this.icTemperature = r.float16(1e2, "temp_ic");
    this.humidityTemperature = r.float16(1e2, "temp_hum");
    this.humidity = r.float16(1e2, "hum");
    this.maxCellTemperature = r.float16(1e2, "temp_max_cell");
    // The optional tail, read while bytes remain. soc/soh: fraction ×1000 → percent.
    this.soc = r.remaining >= 2 ? r.int16("soc") / 10 : undefined;
    this.soh = r.remaining >= 2 ? r.int16("soh") / 10 : undefined;
    this.canId = r.remaining >= 1 ? r.uint8("can_id") : undefined;
    const totals = r.remaining >= 16;
    this.ampHoursChargedTotal = totals ? r.float32Auto("ah_cnt_chg_total") : undefined;
    this.wattHoursChargedTotal = totals ? r.float32Auto("wh_cnt_chg_total") : undefined;
    this.ampHoursDischargedTotal = totals ? r.float32Auto("ah_cnt_dis_total") : undefined;
    this.wattHoursDischargedTotal = totals ? r.float32Auto("wh_cnt_dis_total") : undefined;
    this.pressure = r.remaining >= 2 ? r.int16("pressure") * 10 : undefined; // raw ×10 → Pa
    this.dataVersion = r.remaining >= 1 ? r.uint8("data_version") : undefined;
    this.status = r.remaining >= 1 ? r.string("status") : undefined;
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
