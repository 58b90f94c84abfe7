/**
 * The dashboard takes its labels, units and digits from the value catalogue (`/api/values`):
 * what a motor row or tile says is what the catalogue (and so Home Assistant) says.
 * Real chain: Bus → WebServer over TCP on 127.0.0.1 → Debian chromium.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Bus } from "../../src/model/bus.js";
import { dashboardValues } from "../../src/values/dashboard.js";
import { WebServer } from "../../src/web/server.js";
import { launchChromium } from "../helpers/browser.js";
import { CHROMIUM, describeWithBinary } from "../helpers/require.js";
import { syntheticReading } from "../helpers/readings.js";

describeWithBinary(CHROMIUM, "dashboard labels from the catalogue", () => {
  let bus: Bus;
  let web: WebServer;
  let browser: Browser;
  const reading = syntheticReading({ deviceId: "pack", time: Date.now(), withMotor: true });

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

  test("/api/values serves the catalogue; motor rows and tiles use its labels and units", async () => {
    const res = await fetch(`${web.url}/api/values`);
    expect(res.status).toBe(200);
    const served = (await res.json()) as { values: ReturnType<typeof dashboardValues> };
    expect(served.values).toEqual(dashboardValues());

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(`${web.url}/`);
      const motor = page.locator('[data-testid="motor-node"][data-can-id="84"]');
      await motor.waitFor({ timeout: 20_000 });
      const terms = await motor.locator("dt").allTextContents();
      const rows = served.values.filter((v) => v.source === "motor" && v.dashboard);
      expect(terms).toEqual(rows.map((v) => v.dashboard?.label));
      expect(terms).toContain("FET temperature");
      const values = await motor.locator("dd").allTextContents();
      const fet = rows.findIndex((v) => v.id === "motor.tempFet");
      expect(values[fet]).toBe(`${reading.can?.["84"]?.values?.tempFet?.toFixed(1)} °C`);
      const duty = rows.findIndex((v) => v.id === "motor.dutyCycle");
      expect(values[duty]).toBe("10.0 %");
      const packLabel = served.values.find((v) => v.id === "packVoltage")?.dashboard?.label;
      expect(await page.textContent('[data-testid="tile-packVoltage"] .k')).toBe(packLabel);
      expect(await page.textContent('[data-testid="tile-power"] .k')).toBe("Power");
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
