/**
 * The bytes a VESC BMS on the CAN bus writes itself (vesc_bms_fw `commands.c`), for requests
 * forwarded to its CAN id: its own FW_VERSION (firmware 6.00, ends after the custom-config
 * count) and its own BMS reply (ends after pressure: no data version, no status).
 */
import { ByteWriter, CommandId } from "../../protocol/index.js";
import type { BmsRecord } from "./bmsRecord.js";
import { writeBmsHead, writeCanIdAndTotals } from "./express.js";
import { uuidBytes } from "./uuid.js";
import type { Firmware } from "./version.js";

/** FW_VERSION_MAJOR/MINOR of vesc_bms_fw since 2022 (`conf_general.h`). */
export const VESC_BMS_FIRMWARE: Firmware = { major: 6, minor: 0 };
/** HW_NAME_MAX_CHARS: longer hardware names are cut. */
const HW_NAME_MAX_CHARS = 16;

export function vescBmsFwVersionReply(hardware: string, uuid: string): Uint8Array {
  return new ByteWriter()
    .uint8(CommandId.FwVersion)
    .uint8(VESC_BMS_FIRMWARE.major)
    .uint8(VESC_BMS_FIRMWARE.minor)
    .string(hardware.slice(0, HW_NAME_MAX_CHARS))
    .bytes(uuidBytes(uuid))
    .uint8(0) // pairing done
    .uint8(0) // FW_TEST_VERSION_NUMBER
    .uint8(1) // HW_TYPE_VESC_BMS
    .uint8(1) // one custom config
    .finish();
}

/** COMM_BMS_GET_VALUES answered by the BMS itself: can_id is its own controller id. */
export function vescBmsReply(b: BmsRecord): Uint8Array {
  const w = new ByteWriter().uint8(CommandId.BmsGetValues);
  writeBmsHead(w, b);
  writeCanIdAndTotals(w, b);
  return w.float16Truncated(b.pressure, 0.1).finish();
}
