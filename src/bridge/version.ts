/**
 * The bridge's own name/version/URL for HA's `origin` block, read from package.json so a
 * release never reports a stale version. Works from src/ (tests) and dist/ (installed).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Origin } from "../mqtt/homeassistant/discovery.js";

export const SUPPORT_URL = "https://github.com/vesc2mqtt/vesc2mqtt";

let cached: Origin | undefined;

export function bridgeOrigin(): Origin {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "vesc2mqtt" && pkg.version) {
        cached = { name: "vesc2mqtt", sw: pkg.version, url: SUPPORT_URL };
        return cached;
      }
    } catch {
      // not here: keep walking up
    }
    dir = dirname(dir);
  }
  cached = { name: "vesc2mqtt", sw: "unknown", url: SUPPORT_URL };
  return cached;
}
