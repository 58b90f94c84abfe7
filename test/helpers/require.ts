/**
 * Integration prerequisites. A test that needs a system binary (mosquitto, socat, chromium)
 * skips with a reason when it is missing, except under REQUIRE_INTEGRATION=1 (CI), where a
 * missing prerequisite is a failure, so a green CI can never hide a skipped suite.
 */
import { accessSync, constants } from "node:fs";
import { describe } from "vitest";

export const requireIntegration = process.env.REQUIRE_INTEGRATION === "1";

export function haveBinary(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** describe() that runs only when `binary` exists; under REQUIRE_INTEGRATION a missing binary fails. */
export function describeWithBinary(binary: string, name: string, fn: () => void): void {
  if (haveBinary(binary)) {
    describe(name, fn);
    return;
  }
  if (requireIntegration) {
    describe(name, () => {
      throw new Error(`${binary} is required (REQUIRE_INTEGRATION=1) but missing: install it (see .ci/run)`);
    });
    return;
  }
  describe.skip(`${name} (skipped: ${binary} not installed)`, fn);
}

export const MOSQUITTO = "/usr/sbin/mosquitto";
export const SOCAT = "/usr/bin/socat";
export const CHROMIUM = "/usr/bin/chromium";
