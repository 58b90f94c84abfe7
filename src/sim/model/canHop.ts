/**
 * What the Express's BMS cache holds after the BMS's CAN broadcasts (vesc_bms_fw
 * `comm_can.c` sends, vesc_express `main/bms.c` bms_process_can_frame receives): voltages,
 * currents and counters travel as float32_auto (exact singles), cells as int16 mV,
 * temperatures and humidity as int16 ×100, pressure as int16 ×0.1, SOC and SOH as one byte
 * ×255 and the hottest cell as whole degrees (int8), each truncated by the sender.
 */
import type { BmsRecord } from "../firmware/bmsRecord.js";

const f = Math.fround;
/** buffer_append_float16 then buffer_get_float16: (float)(int16_t)(v * scale) / scale. */
const float16 = (v: number, scale: number): number => f(Math.trunc(f(f(v) * f(scale))) / f(scale));
/** float32_auto carries a single exactly; subnormals become 0. */
const single = (v: number): number => (Math.abs(v) < 1.1754943508222875e-38 ? 0 : f(v));
/** (uint8_t)(x * 255.0) on the BMS, (float)byte / 255.0 on the Express. */
const byteFraction = (x: number): number => f(Math.min(255, Math.max(0, Math.trunc(x * 255))) / 255);

export function asReceivedOverCan(r: BmsRecord): BmsRecord {
  return {
    ...r,
    vTot: single(r.vTot),
    vCharge: single(r.vCharge),
    iIn: single(r.iIn),
    iInIc: single(r.iInIc),
    ahCnt: single(r.ahCnt),
    whCnt: single(r.whCnt),
    vCell: r.vCell.map((v) => float16(v, 1e3)),
    tempsAdc: r.tempsAdc.map((t) => float16(t, 1e2)),
    tempIc: float16(r.tempIc, 1e2),
    tempHum: float16(r.tempHum, 1e2),
    hum: float16(r.hum, 1e2),
    tempMaxCell: Math.max(-128, Math.min(127, Math.trunc(r.tempMaxCell))),
    soc: byteFraction(r.soc),
    soh: byteFraction(r.soh),
    ahCntChgTotal: single(r.ahCntChgTotal),
    whCntChgTotal: single(r.whCntChgTotal),
    ahCntDisTotal: single(r.ahCntDisTotal),
    whCntDisTotal: single(r.whCntDisTotal),
    pressure: float16(r.pressure, 0.1),
    // The status string arrives in five 8-byte CAN frames.
    status: r.status.slice(0, 40),
  };
}
