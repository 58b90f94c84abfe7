/**
 * The dashboard shows the bridge's battery estimates (bms.battery) with the catalogue's labels:
 * the SOC gauge with its source when the BMS reports none, the energy tiles, the runtime,
 * and each cell's resistance and drift on its bar.
 * Real chain: Bus → WebServer over TCP on 127.0.0.1 → Debian chromium.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { BatteryStage } from "../../src/bridge/batteryStage.js";
import { Bus } from "../../src/model/bus.js";
import type { BatteryReading, BmsReading } from "../../src/model/reading.js";
import { WebServer } from "../../src/web/server.js";
import { launchChromium } from "../helpers/browser.js";
import { syntheticReading } from "../helpers/readings.js";
import { CHROMIUM, describeWithBinary } from "../helpers/require.js";

describeWithBinary(CHROMIUM, "dashboard battery estimates", () => {
  let bus: Bus;
  let web: WebServer;
  let browser: Browser;
  const base = syntheticReading({ deviceId: "pack", time: Date.now(), cells: 4 });
  // What the bridge attaches, with a discharge in progress and per-cell health known.
  const estimate = new BatteryStage({ deviceId: "pack" }).apply(base).bms?.battery as BatteryReading;
  const battery: BatteryReading = {
    ...estimate,
    socPercent: 63.4,
    socSource: "estimate",
    bmsSocPercent: null,
    socEstimatePercent: 63.4,
    socMethod: "coulomb",
    calibrated: true,
    whCharged: 1234.5,
    whDischarged: 987.6,
    charging: false,
    discharging: true,
    timeToEmptyS: 5400,
    cellResistanceOhm: [0.021, 0.0225, 0.034, 0.02],
    cellDriftV: [0.001, -0.002, -0.011, 0],
    weakestCell: 3,
  };
  // As SensorHealth marks it: the BMS's SOC 0 is not a measurement.
  const fitted = { temperatures: [1, 2, 3], soc: false, soh: false };
  const reading = { ...base, bms: { ...(base.bms as BmsReading), soc: 0, fitted, battery } };

  beforeAll(async () => {
    bus = new Bus();
    web = new WebServer({ bus, port: 0 });
    await web.start();
    bus.emit("reading", reading);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  test("SOC gauge from the estimate, energy and runtime tiles, per-cell resistance and drift", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(`${web.url}/`);
      const soc = page.locator('[data-testid="tile-soc-estimate"]');
      await soc.waitFor({ timeout: 20_000 });
      expect(await soc.locator(".k").textContent()).toBe("SOC estimate");
      expect(await soc.locator(".v").textContent()).toBe("63%");
      expect(await soc.locator(".sub").textContent()).toBe("bridge estimate (coulomb)");
      expect(await soc.locator(".gauge i").getAttribute("style")).toBe("width: 63.4%;");
      // The BMS sends SOC 0: no BMS SOC tile.
      expect(await page.locator('[data-testid="tile-soc"]').count()).toBe(0);
      expect(await page.textContent('[data-testid="tile-bridgeWhCharged"] .v')).toBe("1.23kWh");
      expect(await page.textContent('[data-testid="tile-bridgeWhDischarged"] .k')).toBe("Discharged");
      expect(await page.textContent('[data-testid="tile-runtime"] .k')).toBe("To empty");
      expect(await page.textContent('[data-testid="tile-runtime"] .v')).toBe("90min");
      const bars = page.locator('[data-testid="cell-bar"]');
      expect(await bars.count()).toBe(4);
      expect(await bars.nth(2).getAttribute("data-resistance-mohm")).toBe("34.0");
      expect(await bars.nth(2).getAttribute("data-drift-mv")).toBe("-11");
      expect(await bars.nth(2).getAttribute("title")).toContain("34.0 mΩ, drift -11 mV");
      expect(await page.textContent("#cell-summary")).toContain("Weakest cell 3");
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
