/**
 * A Refloat 1.2.3 COMMAND_INFO v2 reply (cmd_info's order), decoded, for the codec tests and
 * the codec fuzz: capabilities 0x80000001, 10 kHz tick rate, no suffix.
 */
import type { BalancePackageInfoV2 } from "../../src/model/ride.js";

export const REFLOAT_INFO_V2: BalancePackageInfoV2 = {
  infoVersion: 2,
  flags: 0,
  name: "Refloat",
  major: 1,
  minor: 2,
  patch: 3,
  suffix: "",
  gitHash: 0x800a46bf,
  tickRateHz: 10000,
  capabilities: 0x80000001,
  extraFlags: 0,
};
