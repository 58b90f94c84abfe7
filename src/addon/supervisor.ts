/**
 * The Supervisor's MQTT service discovery: `GET <supervisor>/services/mqtt` with the add-on's
 * SUPERVISOR_TOKEN answers the broker the Mosquitto add-on registered, or an error when no
 * add-on provides one. Tries a bounded number of times (the Supervisor may be busy at boot).
 */
import type { SupervisorMqtt } from "./options.js";

export const SUPERVISOR_URL = "http://supervisor";

export interface SupervisorOptions {
  /** Base URL (default http://supervisor). */
  readonly url?: string;
  readonly token: string;
  readonly timeoutMs?: number;
  readonly attempts?: number;
  readonly retryDelayMs?: number;
}

export type MqttLookup =
  | { readonly found: true; readonly mqtt: SupervisorMqtt }
  | { readonly found: false; readonly reason: string };

function parseService(body: unknown): SupervisorMqtt | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const data = (body as { data?: unknown }).data;
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as Record<string, unknown>;
  const port = typeof d.port === "string" ? Number(d.port) : d.port;
  if (typeof d.host !== "string" || d.host === "" || typeof port !== "number" || !Number.isInteger(port))
    return undefined;
  return {
    host: d.host,
    port,
    ssl: d.ssl === true,
    ...(typeof d.username === "string" && d.username !== "" ? { username: d.username } : {}),
    ...(typeof d.password === "string" && d.password !== "" ? { password: d.password } : {}),
    ...(typeof d.protocol === "string" ? { protocol: d.protocol } : {}),
  };
}

/** Asks the Supervisor for the MQTT broker; never throws. */
export async function lookupSupervisorMqtt(o: SupervisorOptions): Promise<MqttLookup> {
  const url = `${(o.url ?? SUPERVISOR_URL).replace(/\/$/, "")}/services/mqtt`;
  const attempts = o.attempts ?? 3;
  let reason = "no answer";
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, (o.retryDelayMs ?? 1000) * i));
    try {
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${o.token}` },
        signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
      });
      const body: unknown = await res.json().catch(() => undefined);
      if (res.ok) {
        const mqtt = parseService(body);
        if (mqtt) return { found: true, mqtt };
        return { found: false, reason: "the Supervisor's MQTT service answer has no host/port" };
      }
      const message = (body as { message?: unknown } | undefined)?.message;
      // Asking again will not change these answers.
      if (res.status === 401)
        return { found: false, reason: "the Supervisor refused SUPERVISOR_TOKEN (401)" };
      // 400 "Service not enabled": no add-on provides MQTT; 403: config.yaml lacks mqtt:want.
      if (res.status === 400 || res.status === 403)
        return {
          found: false,
          reason: `the Supervisor has no MQTT service (${res.status}${typeof message === "string" ? `: ${message}` : ""})`,
        };
      reason = `the Supervisor answered ${res.status}`;
    } catch (e) {
      reason = `cannot reach the Supervisor (${(e as Error).name === "TimeoutError" ? "timeout" : (e as Error).message})`;
    }
  }
  return { found: false, reason };
}
