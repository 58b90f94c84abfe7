/**
 * COMM_GET_CUSTOM_CONFIG (93). On a VESC Express the reply is its serialized main_config_t,
 * which holds the WiFi password, the hub id + password and the BLE pin in plain text
 * (vesc_express `main/config/confparser.c`). So the reply decoder keeps NOTHING of it but
 * its length: no field, no byte, no copy. VESC Tool sends the request during its handshake
 * and hub peers expect it; we send it for compatibility and throw the answer away.
 */
import { ByteReader, ByteWriter } from "../bytes.js";
import { expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";

const NAME = "COMM_GET_CUSTOM_CONFIG";

/** What is left of a custom-config reply after redaction. */
export interface CustomConfigRedacted {
  readonly kind: "customConfig";
  readonly redacted: true;
  /** Length of the whole reply payload, bytes. */
  readonly length: number;
  readonly description: string;
}

export function decodeCustomConfigRedacted(payload: Uint8Array): CustomConfigRedacted {
  expectCommand(new ByteReader(payload), CommandId.GetCustomConfig, NAME);
  const length = payload.length;
  return {
    kind: "customConfig",
    redacted: true,
    length,
    description: `custom config received, ${length} bytes, redacted`,
  };
}

export function encodeCustomConfigRequest(index = 0): Uint8Array {
  return new ByteWriter().uint8(CommandId.GetCustomConfig).uint8(index).finish();
}

export function decodeCustomConfigRequest(payload: Uint8Array): number {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.GetCustomConfig, NAME);
  return r.uint8("conf_ind");
}

/** main_config_t of a stock VESC Express (MAIN_CONFIG_T_SIGNATURE), for the simulator only. */
export interface ExpressMainConfig {
  readonly controllerId: number;
  readonly canBaudRate: number;
  readonly canStatusRateHz: number;
  readonly wifiMode: number;
  readonly wifiStaSsid: string;
  readonly wifiStaKey: string;
  readonly wifiApSsid: string;
  readonly wifiApKey: string;
  readonly useTcpLocal: boolean;
  readonly useTcpHub: boolean;
  readonly tcpHubUrl: string;
  readonly tcpHubPort: number;
  readonly tcpHubId: string;
  readonly tcpHubPass: string;
  readonly bleMode: number;
  readonly bleName: string;
  readonly blePin: number;
  readonly bleServiceCapacity: number;
  readonly bleChrDescrCapacity: number;
}

export const MAIN_CONFIG_T_SIGNATURE = 1954583966;

/** The full reply `[93, conf_ind, serialized main_config_t]` (confparser_serialize_main_config_t). */
export function encodeCustomConfigResponse(config: ExpressMainConfig, index = 0): Uint8Array {
  return new ByteWriter()
    .uint8(CommandId.GetCustomConfig)
    .uint8(index)
    .uint32(MAIN_CONFIG_T_SIGNATURE)
    .int16(config.controllerId)
    .uint8(config.canBaudRate)
    .int16(config.canStatusRateHz)
    .uint8(config.wifiMode)
    .string(config.wifiStaSsid)
    .string(config.wifiStaKey)
    .string(config.wifiApSsid)
    .string(config.wifiApKey)
    .bool(config.useTcpLocal)
    .bool(config.useTcpHub)
    .string(config.tcpHubUrl)
    .uint16(config.tcpHubPort)
    .string(config.tcpHubId)
    .string(config.tcpHubPass)
    .uint8(config.bleMode)
    .string(config.bleName)
    .uint32(config.blePin)
    .uint32(config.bleServiceCapacity)
    .uint32(config.bleChrDescrCapacity)
    .finish();
}

export const getCustomConfig = {
  id: CommandId.GetCustomConfig,
  name: NAME,
  encodeRequest: encodeCustomConfigRequest,
  decodeRequest: decodeCustomConfigRequest,
  encodeResponse: encodeCustomConfigResponse,
  decodeResponse: decodeCustomConfigRedacted,
} as const;
