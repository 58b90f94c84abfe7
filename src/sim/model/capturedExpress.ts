/**
 * The BMS values as a real VESC Express 6.05 reported them in a capture (a 20S pack whose
 * values a script feeds in, not a CAN BMS): i_in 0 while i_in_ic measures about 0.14 A, SOC,
 * SOH and every Ah/Wh counter 0, 24 temperature slots of which three read and the fourth
 * is a fixed 99.00 °C, no humidity, pressure or max cell temperature, and (by the device's
 * default for this profile) can id 255. Cells, balancing and the charger voltage still come
 * from the pack model.
 */
import type { BmsRecord } from "../firmware/bmsRecord.js";
import { hashNoise } from "../prng.js";

/** Temperature slots the captured Express reports, and the one stuck at 99.00 °C. */
export const CAPTURED_TEMP_SLOTS = 24;
export const CAPTURED_STUCK_SLOT = 3;
export const CAPTURED_STUCK_C = 99;
/** The capture's i_in_ic resolution, A (0.136874, 0.137187, 0.1375 … 0.14625). */
const CURRENT_STEP_A = 0.0003125;
/** The IC temperature moves in quarter degrees in the capture. */
const IC_STEP_C = 0.25;
/** The mean current the captured IC reads beyond i_in (its electronics' own draw), A. */
export const CAPTURED_ELECTRONICS_A = 0.1415;

export function asCapturedExpress(r: BmsRecord, seed: number, tick: number): BmsRecord {
  const temps: number[] = new Array(CAPTURED_TEMP_SLOTS).fill(0);
  for (let i = 0; i < CAPTURED_STUCK_SLOT; i++) temps[i] = r.tempsAdc[i] ?? 0;
  temps[CAPTURED_STUCK_SLOT] = CAPTURED_STUCK_C;
  // What its IC measures: the pack current plus the electronics' own 0.137–0.146 A.
  const measured = r.iIn + CAPTURED_ELECTRONICS_A + 0.0047 * hashNoise(seed, tick, 11);
  return {
    ...r,
    iIn: 0,
    iInIc: Math.round(measured / CURRENT_STEP_A) * CURRENT_STEP_A,
    ahCnt: 0,
    whCnt: 0,
    tempsAdc: temps,
    tempIc: Math.round(r.tempIc / IC_STEP_C) * IC_STEP_C,
    tempHum: 0,
    hum: 0,
    tempMaxCell: 0,
    soc: 0,
    soh: 0,
    ahCntChgTotal: 0,
    whCntChgTotal: 0,
    ahCntDisTotal: 0,
    whCntDisTotal: 0,
    pressure: 0,
    dataVersion: 0,
    status: "",
  };
}
