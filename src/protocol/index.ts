/** The pure VESC protocol layer: framing, CRC, byte cursor, one codec per command. */
export { ByteReader, ByteWriter } from "./bytes.js";
export { cellStats } from "./cellStats.js";
export type { CommandCodec } from "./codec.js";
export { CommandId, commandName } from "./commandId.js";
export { alive } from "./commands/alive.js";
export {
  BMS_MAX_CELLS,
  BMS_MAX_TEMPS,
  bmsGetValues,
  decodeBmsValues,
  encodeBmsValuesResponse,
} from "./commands/bmsGetValues.js";
export {
  BMS_TEMPERATURE_NOT_APPLICABLE_C,
  BMS_V1_TEMPERATURE_LABELS,
  bmsTemperatureLabel,
  isTemperatureNotApplicable,
} from "./commands/bmsTemperatures.js";
export {
  type CustomConfigRedacted,
  decodeCustomConfigRedacted,
  decodeCustomConfigRequest,
  type ExpressMainConfig,
  encodeCustomConfigRequest,
  encodeCustomConfigResponse,
  getCustomConfig,
  MAIN_CONFIG_T_SIGNATURE,
} from "./commands/customConfig.js";
export { type ForwardCan, forwardCan, unwrapForwardCan, wrapForwardCan } from "./commands/forwardCan.js";
export {
  decodeFwVersion,
  deviceInfoFromFwVersion,
  encodeFwVersionResponse,
  type FwVersion,
  firmwareString,
  fwVersion,
} from "./commands/fwVersion.js";
export {
  ALL_VALUES_MASK,
  decodeValues,
  decodeValuesSelective,
  encodeValuesResponse,
  encodeValuesSelectiveResponse,
  getValues,
  getValuesSelective,
  type SelectiveValues,
  VALUES_LAYOUT,
  valuesMask,
} from "./commands/getValues.js";
export {
  ALL_SETUP_MASK,
  decodeValuesSetup,
  decodeValuesSetupSelective,
  encodeValuesSetupResponse,
  encodeValuesSetupSelectiveResponse,
  getValuesSetup,
  getValuesSetupSelective,
  type SelectiveSetupValues,
  SETUP_BIT_SINCE_FW,
  SETUP_LAYOUT,
  SETUP_SINCE_FW,
  setupMask,
} from "./commands/getValuesSetup.js";
export {
  ALL_STATS_MASK,
  decodeStats,
  encodeStatsResponse,
  getStats,
  STATS_FIELDS,
  STATS_SINCE_FW,
  type StatsReply,
} from "./commands/getStats.js";
export {
  ALL_IMU_MASK,
  decodeImuData,
  encodeImuDataResponse,
  getImuData,
  IMU_CONTROLLER_ID_SINCE_FW,
  IMU_FIELDS,
  IMU_SINCE_FW,
  type ImuReply,
} from "./commands/getImuData.js";
export {
  BATTERY_CUT_SINCE_FW,
  decodeBatteryCut,
  encodeBatteryCutResponse,
  getBatteryCut,
} from "./commands/batteryCut.js";
export {
  type AllDataReply,
  BALANCE_PACKAGE_ID,
  BalanceCommand,
  type BalancePackageReply,
  balanceAllData,
  balanceInfo,
  balanceRunState,
  decodeBalanceAllData,
  decodeBalanceInfo,
  decodeCustomAppData,
  decodeRefloatAlerts,
  decodeRefloatRealtime,
  decodeStateFlags,
  encodeBalanceAllDataResponse,
  encodeBalanceInfoResponse,
  encodeRefloatAlertsResponse,
  encodeRefloatRealtimeResponse,
  encodeStateFlags,
  fromRefloatFloat16,
  type InfoRequest,
  isAllDataFault,
  REALTIME_FLOAT32,
  REALTIME_LAYOUT,
  type RealtimeRequest,
  realtimeMasks,
  refloatAlerts,
  refloatRealtime,
  toRefloatFloat16,
} from "./commands/refloat.js";
export { decodePingCan, pingCan } from "./commands/pingCan.js";
export { crc16 } from "./crc16.js";
export { isProtocolError, ProtocolError, type ProtocolErrorCode } from "./errors.js";
export { FAULT_CODE_NAMES, faultCodeName } from "./faultCode.js";
export {
  DEFAULT_MAX_PAYLOAD,
  type DecodeEvent,
  type DiscardReason,
  encodeFrame,
  FIRMWARE_MAX_PAYLOAD,
  FrameDecoder,
  type FrameDecoderOptions,
  type FrameDecoderStats,
} from "./frame.js";
export { type DecodedReply, decodeReply, KNOWN_REPLY_IDS, tryDecodeReply } from "./registry.js";
