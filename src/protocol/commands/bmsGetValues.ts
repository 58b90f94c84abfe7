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
/** BMS_MAX_CELLS / BMS_MAX_TEMPS in vesc_express `main/datatypes.h`. */
export const BMS_MAX_CELLS = 50;
export const BMS_MAX_TEMPS = 50;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// Field labels for error messages, built once: a template string per cell per reply was the
// decoder's main source of garbage (bench/decoder.ts profile).
const label = (name: string, n: number) => Array.from({ length: n }, (_, i) => `${name}[${i}]`);
const CELL_LABELS = label("v_cell", BMS_MAX_CELLS);
const BAL_LABELS = label("bal_state", BMS_MAX_CELLS);
const TEMP_LABELS = label("temps_adc", BMS_MAX_TEMPS);

export function decodeBmsValues(payload: Uint8Array): BmsValues {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.BmsGetValues, NAME);
  const packVoltage = r.float32(1e6, "v_tot"); // V
  const chargeVoltage = r.float32(1e6, "v_charge"); // V
  const current = r.float32(1e6, "i_in"); // A
  const currentIc = r.float32(1e6, "i_in_ic"); // A
  const ampHours = r.float32(1e3, "ah_cnt"); // Ah
  const wattHours = r.float32(1e3, "wh_cnt"); // Wh
  const cellCount = r.uint8("cell_num");
  if (cellCount > BMS_MAX_CELLS) {
    throw new ProtocolError(
      "InvalidPayload",
      `${NAME}: ${cellCount} cells exceeds BMS_MAX_CELLS ${BMS_MAX_CELLS}`,
    );
  }
  if (r.remaining < cellCount * 3 + 1) {
    throw new ProtocolError(
      "Truncated",
      `${NAME}: ${cellCount} cells need ${cellCount * 3 + 1} more bytes, payload has ${r.remaining}`,
    );
  }
  const cells: number[] = [];
  for (let i = 0; i < cellCount; i++) cells.push(r.float16(1e3, CELL_LABELS[i])); // V
  const balancing: boolean[] = [];
  for (let i = 0; i < cellCount; i++) balancing.push(r.bool(BAL_LABELS[i]));
  const tempCount = r.uint8("temp_adc_num");
  if (tempCount > BMS_MAX_TEMPS) {
    throw new ProtocolError(
      "InvalidPayload",
      `${NAME}: ${tempCount} sensors exceeds BMS_MAX_TEMPS ${BMS_MAX_TEMPS}`,
    );
  }
  const temperatures: number[] = [];
  for (let i = 0; i < tempCount; i++) temperatures.push(r.float16(1e2, TEMP_LABELS[i])); // °C
  const out: Mutable<BmsValues> = {
    packVoltage,
    chargeVoltage,
    current,
    currentIc,
    ampHours,
    wattHours,
    cells,
    balancing,
    temperatures,
    icTemperature: r.float16(1e2, "temp_ic"), // °C
    humidityTemperature: r.float16(1e2, "temp_hum"), // °C
    humidity: r.float16(1e2, "hum"), // %RH
    maxCellTemperature: r.float16(1e2, "temp_max_cell"), // °C
  };
  if (r.remaining >= 2) out.soc = r.int16("soc") / 10; // fraction ×1000 → percent
  if (r.remaining >= 2) out.soh = r.int16("soh") / 10;
  if (r.remaining >= 1) out.canId = r.uint8("can_id");
  if (r.remaining >= 16) {
    out.ampHoursChargedTotal = r.float32Auto("ah_cnt_chg_total");
    out.wattHoursChargedTotal = r.float32Auto("wh_cnt_chg_total");
    out.ampHoursDischargedTotal = r.float32Auto("ah_cnt_dis_total");
    out.wattHoursDischargedTotal = r.float32Auto("wh_cnt_dis_total");
  }
  if (r.remaining >= 2) out.pressure = r.int16("pressure") * 10; // raw ×10 → Pa
  if (r.remaining >= 1) out.dataVersion = r.uint8("data_version");
  if (r.remaining >= 1) out.status = r.string("status");
  return out;
}

/**
 * Writes a reply. The optional tail is written in order up to the first absent field, the way
 * older firmware ends early; the four totals go together.
 */
export function encodeBmsValuesResponse(v: BmsValues): Uint8Array {
  if (v.cells.length > BMS_MAX_CELLS || v.balancing.length !== v.cells.length) {
    throw new ProtocolError(
      "ValueOutOfRange",
      `${NAME}: ${v.cells.length} cells / ${v.balancing.length} flags`,
    );
  }
  if (v.temperatures.length > BMS_MAX_TEMPS) {
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
