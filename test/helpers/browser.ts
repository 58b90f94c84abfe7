/**
 * Debian's chromium, headless, for dashboard tests (never a downloaded browser). The flags keep
 * it off the network: without them it tries Google's services at every start, and this
 * machine's closed network refuses those connections.
 */
import { type Browser, chromium } from "playwright-core";
import { CHROMIUM } from "./binaries.js";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
