/**
 * A BMS's state the way the firmware holds it (`bms_values` in vesc_express
 * `main/datatypes.h`, vesc_bms_fw's bms_if getters): SI units, SOC and SOH as fractions
 * 0..1, unquantised single-precision values. The encoders turn it into reply bytes.
 */
export interface BmsRecord {
  readonly vTot: number; // V
  readonly vCharge: number; // V
  readonly iIn: number; // A
  readonly iInIc: number; // A
  readonly ahCnt: number;
  readonly whCnt: number;
  readonly vCell: readonly number[]; // V
  readonly balState: readonly boolean[];
  readonly tempsAdc: readonly number[]; // °C; ≤ −280 = not applicable (data version 1)
  readonly tempIc: number; // °C
  readonly tempHum: number; // °C
  readonly hum: number; // %RH
  readonly tempMaxCell: number; // °C
  readonly soc: number; // 0..1
  readonly soh: number; // 0..1
  /** The CAN id the values came from; 255 (−1 in the firmware) = none, e.g. fed by a script. */
  readonly canId: number;
  readonly ahCntChgTotal: number;
  readonly whCntChgTotal: number;
  readonly ahCntDisTotal: number;
  readonly whCntDisTotal: number;
  readonly pressure: number; // Pa
  /** 1 = the temperature slot convention of firmware 6.06 (IC, cell min, cell max, MOSFET, ambient). */
  readonly dataVersion: number;
  readonly status: string;
}

/** A temperature slot the BMS does not have, under data version 1 (anything ≤ −280 °C). */
export const TEMP_NOT_APPLICABLE = -281;
