/** Where the system programs the integration suites and benchmarks use live (Debian paths). No vitest here: benches import it. */
import { accessSync, constants } from "node:fs";

export const MOSQUITTO = "/usr/sbin/mosquitto";
export const SOCAT = "/usr/bin/socat";
export const CHROMIUM = "/usr/bin/chromium";

export function haveBinary(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
