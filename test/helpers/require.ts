/**
 * Integration prerequisites. A test that needs a system binary (mosquitto, socat, chromium)
 * skips with a reason when it is missing, except under REQUIRE_INTEGRATION=1 (CI), where a
 * missing prerequisite is a failure, so a green CI can never hide a skipped suite.
 */
import { describe } from "vitest";
import { haveBinary } from "./binaries.js";

export { CHROMIUM, haveBinary, MOSQUITTO, SOCAT } from "./binaries.js";

export const requireIntegration = process.env.REQUIRE_INTEGRATION === "1";

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
