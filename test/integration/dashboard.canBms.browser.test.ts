/**
 * A BMS on CAN is shown like the device's own BMS: its own panel with the pack tiles, the
 * battery estimate's SOC, and one bar per cell with its mV; its alerts are named by node in
 * the banner, apart from the device's alert of the same rule.
 * Real chain: Bus → WebServer over TCP on 127.0.0.1 → Debian chromium.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { BatteryStage } from "../../src/bridge/batteryStage.js";
import { Bus } from "../../src/model/bus.js";
import type { BmsReading, Reading } from "../../src/model/reading.js";
import { WebServer } from "../../src/web/server.js";
import { launchChromium } from "../helpers/browser.js";
import { syntheticReading } from "../helpers/readings.js";
import { CHROMIUM, describeWithBinary } from "../helpers/require.js";

describeWithBinary(CHROMIUM, "dashboard BMS on CAN", () => {
  let bus: Bus;
  let web: WebServer;
  let browser: Browser;
  const own = syntheticReading({ deviceId: "pack", time: Date.now(), cells: 4 });
  // The node: a 6S pack of its own, with the bridge's estimate attached as for the device.
  const nodeBms: BmsReading = {
    ...(syntheticReading({ deviceId: "pack", time: Date.now(), cells: 6, step: 3 }).bms as BmsReading),
    cells: [3.612, 3.655, 3.601, 3.649, 3.64, 3.633],
    packVoltage: 21.79,
    soc: 0,
    fitted: { temperatures: [1, 2, 3], soc: false, soh: false },
  };
  const estimate = new BatteryStage({ deviceId: "pack" }).apply({ ...own, bms: nodeBms }).bms?.battery;
  const reading: Reading = {
    ...own,
    can: {
      "10": {
        canId: 10,
        kind: "bms",
        device: { firmware: "6.06", hardware: "VESC BMS", uuid: "00112233445566778899aabb" },
        bms: { ...nodeBms, ...(estimate ? { battery: { ...estimate, socEstimatePercent: 41.6 } } : {}) },
      },
    },
  };

  beforeAll(async () => {
    bus = new Bus();
    web = new WebServer({ bus, port: 0 });
    await web.start();
    bus.emit("reading", reading);
    const time = new Date().toISOString();
    bus.emit("alert", { deviceId: "pack", rule: "cell_delta", active: true, message: "device delta", time });
    bus.emit("alert", {
      deviceId: "pack",
      canId: 10,
      rule: "cell_delta",
      active: true,
      message: "cell delta 54 mV (limit 50 mV): cell 3 at 3.601 V",
      time,
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  test("the node's tiles, SOC estimate, cell bars and its own alert", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(`${web.url}/`);
      const node = page.locator('[data-testid="bms-node"][data-can-id="10"]');
      await node.waitFor({ timeout: 20_000 });
      expect(await node.locator("h3").first().textContent()).toBe("CAN 10 · VESC BMS");
      const bars = node.locator('[data-testid="cell-bar"]');
      expect(await bars.count()).toBe(6);
      expect(await bars.evaluateAll((els) => els.map((e) => e.getAttribute("data-mv")))).toEqual([
        "3612",
        "3655",
        "3601",
        "3649",
        "3640",
        "3633",
      ]);
      expect(await bars.nth(2).getAttribute("class")).toContain("min");
      expect(await node.locator('[data-testid="cell-delta"]').textContent()).toBe("54 mV");
      expect(await node.locator('[data-testid="tile-packVoltage"] .v').textContent()).toBe("21.79V");
      expect(await node.locator('[data-testid="tile-soc-estimate"] .v').textContent()).toBe("42%");
      // The device's own BMS keeps its 4 bars in the main cell card.
      expect(await page.locator('#cells [data-testid="cell-bar"]').count()).toBe(4);
      // Two alerts of the same rule: the device's and the node's, each named.
      const alerts = page.locator('[data-testid="alert"][data-rule="cell_delta"]');
      expect(await alerts.count()).toBe(2);
      const nodeAlert = page.locator('[data-testid="alert"][data-can-id="10"]');
      expect(await nodeAlert.locator("b").textContent()).toBe("pack · CAN 10 · Cell delta high:");
      expect(await nodeAlert.textContent()).toContain("cell 3 at 3.601 V");
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
