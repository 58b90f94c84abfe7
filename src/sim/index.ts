/** The simulator: simulated VESC Express devices speaking the real protocol over TCP, a hub or serial. */
export type { BehaviorResult, ConnectionInfo, RequestContext, SimBehavior } from "./behaviors.js";
export { answerLikeFirmware } from "./behaviors.js";
export type { ServeOptions, SimConnection } from "./connection.js";
export {
  DEFAULT_CAN_HARDWARE,
  type HandledRequest,
  SimDevice,
  type SimDeviceOptions,
  SIM_PROFILES,
  type SimProfile,
  type SimStats,
} from "./device.js";
export { type FaultSettings, parseFaults } from "./faults.js";
export { type HubRegistration, registerWithHub } from "./hubClient.js";
export {
  BALANCE_DELTA_V,
  BALANCE_START_V,
  type BmsPhase,
  balanceWanted,
  type Scenario,
} from "./model/bms.js";
export { EXPRESS_HARDWARE } from "./model/identity.js";
export { ocv } from "./model/ocv.js";
export {
  type PackModelOptions,
  type PackProfile,
  type PackStep,
  type PackTruth,
  PackModel,
} from "./model/pack.js";
export { loadReplayFile, parseReplayText, ReplayFileError } from "./replay.js";
export { SIM_SECRETS } from "./secrets.js";
export { type SerialServing, serveSerial } from "./serial.js";
export {
  DEFAULT_SIM_PORT,
  type Simulator,
  type SimulatorFleet,
  type SimulatorOptions,
  startSimulator,
  startSimulatorFleet,
} from "./server.js";
