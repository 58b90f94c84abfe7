/**
 * The vesc2mqtt library. The protocol layer is pure and stable (see docs/library.md);
 * transports, the session/poller and the simulator are exported for programs that talk to
 * devices themselves.
 */
export * from "./protocol/index.js";
export { implausibleCount, packCurrent, packPower, toBmsReading } from "./model/bmsReading.js";
export { BMS_LIMITS, isPlausible, type Range } from "./model/plausibility.js";
export type {
  BmsReading,
  BmsValues,
  CanNodeKind,
  CanNodeReading,
  CellStats,
  DeviceInfo,
  DeviceStatus,
  LinkState,
  MotorValues,
  Reading,
} from "./model/reading.js";
