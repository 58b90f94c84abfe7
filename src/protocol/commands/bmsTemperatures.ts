/**
 * What the BMS temperature slots (COMM_BMS_GET_VALUES `temps_adc`) mean. With data_version 1
 * (firmware 6.06 on) the first five slots have fixed roles (bldc lispBM README: IC, cell min,
 * cell max, MOSFET, ambient) and a value at or below −280 °C marks a slot the BMS does not
 * fill. Before that, slots are plain NTC sensors in the BMS's order. Labels follow VESC Tool's
 * BMS page (vesc_tool `pages/pagebms.cpp`). Pure facts: the codec keeps the raw wire values.
 */

/** At or below this, a data_version 1 temperature means "not applicable", not a reading. */
export const BMS_TEMPERATURE_NOT_APPLICABLE_C = -280;

/** Roles of the first slots when data_version is 1, as VESC Tool labels them. */
export const BMS_V1_TEMPERATURE_LABELS: readonly string[] = [
  "IC",
  "Cell Min",
  "Cell Max",
  "Mosfet",
  "Ambient",
];

/** True for the "not applicable" marker (≤ −280 °C; below absolute zero, so never a reading). */
export function isTemperatureNotApplicable(celsius: number): boolean {
  return celsius <= BMS_TEMPERATURE_NOT_APPLICABLE_C;
}

/**
 * Label of temperature slot `index` (0-based). data_version 1: the role for slots 0–4, then
 * "Temperature 1", "Temperature 2" … for the extra sensors (VESC Tool numbers them T1, T2 …
 * after the roles). Older data: "Temperature N" with N = index + 1.
 */
export function bmsTemperatureLabel(index: number, dataVersion: number | undefined): string {
  if (dataVersion === 1) {
    const role = BMS_V1_TEMPERATURE_LABELS[index];
    return role ?? `Temperature ${index - BMS_V1_TEMPERATURE_LABELS.length + 1}`;
  }
  return `Temperature ${index + 1}`;
}
