/**
 * A fresh data directory per call, so bridges under test never write ./data (battery state
 * would otherwise carry over between tests and runs). Removed when the test process exits.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];
process.once("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function scratchDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-test-data-"));
  made.push(dir);
  return dir;
}
