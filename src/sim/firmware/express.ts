/**
 * The bytes a VESC Express writes, version by version: COMM_FW_VERSION (vesc_express
 * `main/commands.c`), COMM_BMS_GET_VALUES from its BMS cache (`main/bms.c`
 * bms_process_cmd) and COMM_GET_CUSTOM_CONFIG (`main/config/confparser.c`). Scaled values
 * are truncated like `util/buffer.c`, not rounded.
 */
import { ByteWriter, CommandId, type ExpressMainConfig } from "../../protocol/index.js";
import { bldcFwVersionReply } from "./bldc.js";
import type { BmsRecord } from "./bmsRecord.js";
import { uuidBytes } from "./uuid.js";
import { type Firmware, fwNumber } from "./version.js";

/**
 * The version from which each optional part of the BMS reply is sent. The Express's BMS
 * code (6.02) started with can id and totals; the 5.0x cuts are those of bldc `bms.c`, the
 * code it was ported from, for simulated firmware older than any Express.
 */
export const BMS_TAIL_SINCE = {
  canIdAndTotals: 503,
  pressure: 605,
  dataVersionAndStatus: 606,
} as const;

/** bms_process_cmd's COMM_BMS_GET_VALUES reply for firmware `fw`. */
export function expressBmsReply(b: BmsRecord, fw: Firmware): Uint8Array {
  const version = fwNumber(fw);
  const w = new ByteWriter().uint8(CommandId.BmsGetValues);
  writeBmsHead(w, b);
  if (version >= BMS_TAIL_SINCE.canIdAndTotals) writeCanIdAndTotals(w, b);
  if (version >= BMS_TAIL_SINCE.pressure) w.float16Truncated(b.pressure, 0.1);
  if (version >= BMS_TAIL_SINCE.dataVersionAndStatus) w.uint8(b.dataVersion).string(b.status);
  return w.finish();
}

/** v_tot … soh, the part every firmware with BMS support sends (shared with vesc_bms_fw). */
export function writeBmsHead(w: ByteWriter, b: BmsRecord): void {
  w.float32Truncated(b.vTot, 1e6)
    .float32Truncated(b.vCharge, 1e6)
    .float32Truncated(b.iIn, 1e6)
    .float32Truncated(b.iInIc, 1e6)
    .float32Truncated(b.ahCnt, 1e3)
    .float32Truncated(b.whCnt, 1e3)
    .uint8(b.vCell.length);
  for (const v of b.vCell) w.float16Truncated(v, 1e3);
  for (const on of b.balState) w.bool(on);
  w.uint8(b.tempsAdc.length);
  for (const t of b.tempsAdc) w.float16Truncated(t, 1e2);
  w.float16Truncated(b.tempIc, 1e2)
    .float16Truncated(b.tempHum, 1e2)
    .float16Truncated(b.hum, 1e2)
    .float16Truncated(b.tempMaxCell, 1e2)
    .float16Truncated(b.soc, 1e3)
    .float16Truncated(b.soh, 1e3);
}

/** can_id and the four float32_auto totals. */
export function writeCanIdAndTotals(w: ByteWriter, b: BmsRecord): void {
  w.uint8(b.canId)
    .float32Auto(b.ahCntChgTotal)
    .float32Auto(b.whCntChgTotal)
    .float32Auto(b.ahCntDisTotal)
    .float32Auto(b.whCntDisTotal);
}

/** What the Express puts in its FW_VERSION reply besides the version. */
export interface ExpressIdentity {
  readonly hardware: string;
  /** 24 hex chars: the ESP32 factory MAC, then 6 zero bytes. */
  readonly uuid: string;
  readonly fwName: string;
  /** main_calc_hw_crc() */
  readonly hwConfigCrc: number;
}

/**
 * The Express's FW_VERSION reply. 6.00 ends after the custom-config count; phase filters and
 * QML flags came in 6.02, NRF flags, firmware name and hw config CRC in 6.05. Layouts older
 * than any Express (below 6.00) follow bldc's history, the code the Express's came from.
 */
export function expressFwVersionReply(id: ExpressIdentity, fw: Firmware, layout = fwNumber(fw)): Uint8Array {
  const version = layout;
  if (version < 600) {
    const asBldc = { ...id, major: fw.major, minor: fw.minor, firmware: "", hwType: 2, customConfigCount: 1 };
    return bldcFwVersionReply(asBldc, fw, version);
  }
  const w = new ByteWriter().uint8(CommandId.FwVersion).uint8(fw.major).uint8(fw.minor).string(id.hardware);
  w.bytes(uuidBytes(id.uuid))
    .uint8(0) // pairing done: always 0 on the Express
    .uint8(0) // FW_TEST_VERSION_NUMBER
    .uint8(2) // HW_TYPE_CUSTOM_MODULE
    .uint8(1); // one custom config
  if (version >= 602) w.uint8(0).uint8(0).uint8(0); // no phase filters, no HW QML, no app QML
  if (version >= 605)
    w.uint8(0)
      .string(id.fwName)
      .uint32(id.hwConfigCrc >>> 0); // no NRF flags
  return w.finish();
}

/** MAIN_CONFIG_T_SIGNATURE by firmware: 6.05 is the one the real 6.05 Express sends (9c 8e 25 ea). */
export function mainConfigSignature(fw: Firmware): number {
  const version = fwNumber(fw);
  if (version >= 606) return 1954583966;
  if (version >= 605) return 2626561514;
  return 723227950;
}

/**
 * The COMM_GET_CUSTOM_CONFIG reply `[93, conf_ind, main_config_t]`. The two BLE capacity
 * fields came with 6.05's signature; older firmware ends after the BLE pin.
 */
export function expressCustomConfigReply(c: ExpressMainConfig, fw: Firmware, index = 0): Uint8Array {
  const w = new ByteWriter()
    .uint8(CommandId.GetCustomConfig)
    .uint8(index)
    .uint32(mainConfigSignature(fw))
    .int16(c.controllerId)
    .uint8(c.canBaudRate)
    .int16(c.canStatusRateHz)
    .uint8(c.wifiMode)
    .string(c.wifiStaSsid)
    .string(c.wifiStaKey)
    .string(c.wifiApSsid)
    .string(c.wifiApKey)
    .bool(c.useTcpLocal)
    .bool(c.useTcpHub)
    .string(c.tcpHubUrl)
    .uint16(c.tcpHubPort)
    .string(c.tcpHubId)
    .string(c.tcpHubPass)
    .uint8(c.bleMode)
    .string(c.bleName)
    .uint32(c.blePin);
  if (fwNumber(fw) >= 605) w.uint32(c.bleServiceCapacity).uint32(c.bleChrDescrCapacity);
  return w.finish();
}
