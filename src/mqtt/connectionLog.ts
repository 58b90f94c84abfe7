/**
 * Log lines for the broker connection: connected, lost (once per outage: MQTT.js retries
 * silently), each distinct error once per outage, and reconnected after how long and why.
 */
import type { Log } from "../model/log.js";
import { durationText } from "./linkLog.js";
import type { Publisher } from "./publisher.js";

export interface ConnectionLogOptions {
  readonly url: string;
  readonly reconnectPeriodMs?: number | undefined;
  readonly log: Log;
  /** False once the sink let go of `pub`: the disconnect of a clean stop is no outage. */
  readonly current: () => boolean;
}

/** Attaches the log handlers to `pub`; call before the owner's own "connect" handler. */
export function logConnection(pub: Publisher, o: ConnectionLogOptions): void {
  const url = redactUrl(o.url);
  let downSince = 0;
  /** The first error MQTT.js gave in this outage. */
  let downReason = "";
  let down = false;
  let lastError = "";
  pub.on("connect", () => {
    if (downSince === 0) o.log.info(`mqtt: connected to ${url}`);
    else
      o.log.info(
        `mqtt: reconnected to ${url} after ${durationText(Date.now() - downSince)} (${downReason || "connection closed"}); re-publishing everything retained`,
      );
    downSince = 0;
    downReason = "";
    down = false;
    lastError = "";
  });
  pub.on("disconnect", () => {
    if (!down && o.current()) {
      downSince = Date.now();
      const every = durationText(o.reconnectPeriodMs ?? 2000);
      o.log.warn(`mqtt: connection to ${url} lost (retrying every ${every})`);
    }
    down = true;
  });
  // MQTT.js error messages carry the broker's reason, never our credentials.
  pub.on("error", (e) => {
    if (e.message !== lastError) o.log.warn(`mqtt: ${e.message} (retrying)`);
    lastError = e.message;
    if (downReason === "") downReason = e.message;
  });
}

/** `mqtt://user:pass@host` → `mqtt://host`: URLs may embed credentials. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//");
}
