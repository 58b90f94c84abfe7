/**
 * The dashboard in a real browser shows the bridge's sensor verdicts: only fitted
 * temperature sensors, a stuck one marked and left out of the maximum, no SOC tile for a BMS
 * that never measured SOC, and a "BMS data frozen" tile while the BMS reply is frozen.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Bus } from "../../src/model/bus.js";
import type { BmsReading, Reading } from "../../src/model/reading.js";
import { SensorHealth } from "../../src/model/sensorHealth.js";
import { dashboardValues } from "../../src/values/dashboard.js";
import { WebServer } from "../../src/web/server.js";
import { launchChromium } from "../helpers/browser.js";
import { syntheticReading } from "../helpers/readings.js";
import { CHROMIUM, describeWithBinary } from "../helpers/require.js";

describeWithBinary(CHROMIUM, "dashboard: fitted, stuck and frozen BMS sensors", () => {
  const bus = new Bus();
  let web: WebServer;
  let browser: Browser;
  let last: Reading | undefined;

  beforeAll(async () => {
    web = new WebServer({ bus, port: 0 });
    await web.start();
    bus.claim("web");
    // Slot 2 is stuck at 99 °C, slot 3 never fitted (0), SOC never measured; then the same
    // reply again for over a minute: frozen.
    const health = new SensorHealth({ stuckAfterMs: 20_000, stuckAfterReadings: 3 });
    const t0 = Date.now() - 200_000;
    const raw = (s: number) => {
      const r = syntheticReading({ time: t0 + s * 10_000, step: s, soc: 0 });
      return { ...r, bms: { ...(r.bms as BmsReading), soc: 0, temperatures: [30 + s * 0.1, 99, 0] } };
    };
    for (let s = 0; s < 5; s++) bus.emit("reading", health.apply(raw(s)));
    const frozen = raw(5);
    for (let s = 5; s < 13; s++) {
      last = health.apply({ ...frozen, time: new Date(t0 + s * 10_000).toISOString() });
      bus.emit("reading", last);
    }
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
  });

  test("temperatures: fitted only, stuck marked and not the maximum; no SOC; frozen data shown", async () => {
    expect(last?.bms?.stuck?.temperatures).toEqual([2]);
    expect(last?.bms?.stale).toBe(true);
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${web.url}/`);
    await page.waitForSelector('[data-testid="tile-temperature"]', { timeout: 20_000 });
    const tile = await page.textContent('[data-testid="tile-temperature"]');
    expect(tile).toContain("T2 99.0 (stuck)");
    expect(tile).not.toContain("T3");
    expect(await page.textContent('[data-testid="value-temperature"]')).toContain("30.5");
    expect(await page.locator('[data-testid="tile-soc"]').count()).toBe(0);
    expect(await page.textContent('[data-testid="tile-bms-stale"]')).toContain("frozen");
    // Its label is the verdict's catalogue entry (src/values/verdicts.ts).
    const staleLabel = dashboardValues().find((v) => v.id === "bmsStale")?.dashboard?.label;
    expect(staleLabel).toBe("BMS data");
    expect(await page.textContent('[data-testid="tile-bms-stale"] .k')).toBe(staleLabel);
    expect(errors).toEqual([]);
  });

  test("the frozen tile's label follows /api/values, not the page", async () => {
    const page = await (await browser.newContext()).newPage();
    // The bridge's own catalogue with the verdict's dashboard label renamed on the way.
    await page.route("**/api/values", async (route) => {
      const body = (await (await route.fetch()).json()) as { values: ReturnType<typeof dashboardValues> };
      const values = body.values.map((v) =>
        v.id === "bmsStale" && v.dashboard ? { ...v, dashboard: { ...v.dashboard, label: "BMS reply" } } : v,
      );
      await route.fulfill({ json: { values } });
    });
    await page.goto(`${web.url}/`);
    await page.waitForSelector('[data-testid="tile-bms-stale"]', { timeout: 20_000 });
    expect(await page.textContent('[data-testid="tile-bms-stale"] .k')).toBe("BMS reply");
  });
});
