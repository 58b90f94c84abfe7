/**
 * Log lines for a device's link (online, offline, back after how long and why) and for BMS
 * data that froze or moves again: news at info/warn, a retry loop's churn at debug.
 */
import type { Log } from "../model/log.js";
import type { DeviceStatus } from "../model/reading.js";

/** "4.2 s", "12 min". */
export function durationText(ms: number): string {
  const s = ms / 1000;
  return s < 120 ? `${Number(s.toFixed(1))} s` : `${Math.round(s / 60)} min`;
}

/**
 * One log line for a link change that says what happened, why and after how long. "online"
 * never carries an error: the poller keeps its last error, which is history by then.
 */
export function linkLine(
  s: DeviceStatus,
  prev: DeviceStatus | undefined,
  since: number,
  now: number,
): string {
  const id = `device ${s.deviceId}`;
  const why = s.lastError ? `: ${s.lastError}` : "";
  if (s.link === "online") {
    if (!prev || (prev.link === "connecting" && s.reconnects === 0)) return `${id}: online`;
    const after = since > 0 ? ` after ${durationText(now - since)} without data` : "";
    const how = prev.link === "connecting" ? `reconnect #${s.reconnects}` : `was ${prev.link}`;
    return `${id}: online again${after} (${how}${prev.lastError ? `; last error: ${prev.lastError}` : ""})`;
  }
  if (prev?.link === "online") {
    const up = since > 0 ? ` after ${durationText(now - since)} online` : "";
    return `${id}: ${s.link}${up}${why}`;
  }
  return `${id}: ${s.link}${why}`;
}

/** When a device's link last went to or from online (ms), for "online again after 12.3 s". */
export interface LinkMemory {
  linkSince: number;
}

/** Logs what changed from `prev` to `s` (nothing when neither the link nor BMS freshness did). */
export function logStatusChange(
  log: Log,
  mem: LinkMemory,
  s: DeviceStatus,
  prev: DeviceStatus | undefined,
): void {
  if (prev?.link !== s.link) {
    // Going online/offline is news; the connecting ↔ offline churn of a retry loop is not.
    const news = s.link === "online" || prev?.link === "online" || prev === undefined || s.link === "yielded";
    const line = linkLine(s, prev, mem.linkSince, Date.now());
    if (s.link === "online" || prev?.link === "online") mem.linkSince = Date.now();
    if (news) log.info(line);
    else log.debug(line);
  } else if (prev?.bmsStale !== s.bmsStale) {
    log.warn(
      s.bmsStale
        ? `device ${s.deviceId}: BMS data frozen (the reply has not changed; the Express may be repeating a cached reading): BMS entities unavailable`
        : `device ${s.deviceId}: BMS data changing again`,
    );
  }
}
