/**
 * What the battery end-to-end tests share: a real Mosquitto with a recorder, and a bridge
 * polling the simulator fast (0.1 s) with HA's timers shortened, keeping its state in a
 * data dir the test names (a restart reuses it).
 */
import { afterAll, beforeAll } from "vitest";
import { Bridge } from "../../src/bridge/bridge.js";
import { validateConfig } from "../../src/config/load.js";
import { Mosquitto, Recorder } from "./mosquitto.js";

/** One fast-polled simulator device; `extra` adds or overrides its keys (can, battery, …). */
export function fastDevice(
  id: string,
  port: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    connection: { type: "tcp", host: "127.0.0.1", port },
    interval_s: 0.1,
    request_timeout_s: 1,
    stale_after_intervals: 20,
    ...extra,
  };
}

/** A bridge with web and history off, for `devices`. */
export function batteryBridge(
  brokerUrl: string,
  dataDir: string,
  clientId: string,
  devices: readonly Record<string, unknown>[],
): Bridge {
  const config = validateConfig(
    {
      data_dir: dataDir,
      mqtt: { url: brokerUrl, client_id: clientId },
      web: { enabled: false },
      history: { enabled: false },
      devices,
    },
    { env: {} },
  );
  return new Bridge({ config, ha: { birthDelayMs: () => 20, reconnectPeriodMs: 200, retainedScanMs: 0 } });
}

/** A broker and a recorder on it for the enclosing describe block. */
export function brokerWithRecorder(): { readonly broker: Mosquitto; readonly rec: Recorder } {
  const broker = new Mosquitto();
  const rec = new Recorder();
  beforeAll(async () => {
    await broker.start();
    await rec.start(broker.url);
  });
  afterAll(async () => {
    await rec.stop();
    await broker.dispose();
  });
  return { broker, rec };
}
