/** Battery intelligence computed by the bridge from BMS readings (docs/battery.md). */
export {
  type BatteryEstimate,
  BatteryEstimator,
  type BatteryEstimatorOptions,
  type BatterySnapshot,
  BatterySnapshotError,
  batterySnapshotSchema,
  type SocSource,
} from "./battery.js";
export {
  type BatteryConfig,
  type BatteryConfigInput,
  batteryConfigSchema,
  DEFAULT_BATTERY_CONFIG,
  type DeviceBatteryConfig,
  deviceBatterySchema,
} from "./config.js";
export {
  CHEMISTRIES,
  type Chemistry,
  cellSocs,
  cellVoltageAtSoc,
  type OcvCurve,
  OcvCurveError,
  type OcvPoint,
  ocvCurve,
  packSocFromCells,
  socFromCellVoltage,
} from "./chemistry.js";
export type { EnergyTotals } from "./counters.js";
export { driftingCells, highResistanceCells, weakestCell } from "./cellHealth.js";
