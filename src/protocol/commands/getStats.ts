/**
 * COMM_GET_STATS (128), bldc ≥ 5.03: ride statistics since boot or COMM_RESET_STATS. The
 * request carries a u16 field mask; the reply echoes it as a u32, then one float32_auto per
 * masked field in bit order (bldc `comm/commands.c`, values from `motor/mc_interface.c`
 * mc_interface_stat_*), decoded by one MaskedFields table. Reading does not reset the
 * statistics.
 */
import type { RideStats } from "../../model/ride.js";
import { ByteReader, ByteWriter } from "../bytes.js";
import { type CommandCodec, expectCommand } from "../codec.js";
import { CommandId } from "../commandId.js";
import { F32_AUTO } from "./fieldKind.js";
import { MaskedFields, maskedBit } from "./maskedLayout.js";

const NAME = "COMM_GET_STATS";

/** Bit i of the mask carries STATS_FIELDS[i]. */
export const STATS_FIELDS: readonly (keyof RideStats)[] = [
  "speedAvgMps",
  "speedMaxMps",
  "powerAvgW",
  "powerMaxW",
  "currentAvgA",
  "currentMaxA",
  "tempMosAvgC",
  "tempMosMaxC",
  "tempMotorAvgC",
  "tempMotorMaxC",
  "elapsedS",
];

// Every field is always sent (the firmware knows no cut); an absent one is encoded as 0.
const table = new MaskedFields({
  name: NAME,
  bits: STATS_FIELDS.map((field, bit) => maskedBit(bit, [field], F32_AUTO)),
  absentAsZero: true,
});

export const ALL_STATS_MASK = (1 << STATS_FIELDS.length) - 1;
/** COMM_GET_STATS exists since bldc 5.03 (bldc 3778dbe2). */
export const STATS_SINCE_FW = 503;

export interface StatsReply {
  readonly mask: number;
  readonly stats: RideStats;
}

export function decodeStats(payload: Uint8Array): StatsReply {
  const r = new ByteReader(payload);
  expectCommand(r, CommandId.GetStats, NAME);
  const mask = r.uint32("mask");
  return { mask, stats: table.decode(r, mask) };
}

/** The firmware's reply; a masked field missing from `stats` is sent as 0. */
export function encodeStatsResponse(reply: StatsReply): Uint8Array {
  const w = new ByteWriter().uint8(CommandId.GetStats).uint32(reply.mask >>> 0);
  table.encode(w, reply.stats, reply.mask);
  return w.finish();
}

export const getStats: CommandCodec<number, StatsReply> = {
  id: CommandId.GetStats,
  name: NAME,
  encodeRequest: (mask) => new ByteWriter().uint8(CommandId.GetStats).uint16(mask).finish(),
  decodeRequest: (payload) => {
    const r = new ByteReader(payload);
    expectCommand(r, CommandId.GetStats, NAME);
    return r.uint16("mask");
  },
  encodeResponse: encodeStatsResponse,
  decodeResponse: decodeStats,
};
