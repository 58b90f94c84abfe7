/**
 * The history charts' legends show the newest reading's values while the cursor is away,
 * not dashes. Real chain: SQLite history in a scratch dir → web server on 127.0.0.1 →
 * Debian chromium.
 */
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Bus } from "../../src/model/bus.js";
import { HistorySink } from "../../src/store/historySink.js";
import { WebServer } from "../../src/web/server.js";
import { launchChromium } from "../helpers/browser.js";
import { scratchDataDir } from "../helpers/dataDir.js";
import { syntheticReading } from "../helpers/readings.js";
import { CHROMIUM, describeWithBinary } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

describeWithBinary(CHROMIUM, "dashboard chart legends", () => {
  let bus: Bus;
  let history: HistorySink;
  let web: WebServer;
  let browser: Browser;
  const now = Date.now();
  const newest = syntheticReading({ time: now, step: 31, soc: 64.5 });

  beforeAll(async () => {
    bus = new Bus();
    history = new HistorySink({ bus, path: join(scratchDataDir(), "history.db"), flushMs: 20 });
    await history.start();
    history.store?.insert(
      Array.from({ length: 30 }, (_, i) => syntheticReading({ time: now - 60_000 + i * 1000, step: i })),
    );
    web = new WebServer({ bus, port: 0, history });
    await web.start();
    bus.emit("reading", newest);
    await waitFor(() => history.store?.stats().readings === 31);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await history?.stop();
  });

  test("pack, SOC and cell legends hold the newest values while the pointer is away", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${web.url}/`);
      await page.waitForSelector('[data-testid="chart-pack"][data-points="31"]', { timeout: 20_000 });
      const values = (id: string) =>
        page.locator(`[data-testid="${id}"] .u-legend .u-value`).allTextContents();
      const bms = newest.bms as NonNullable<typeof newest.bms>;
      expect((await values("chart-pack")).slice(1)).toEqual([
        `${(bms.packVoltage as number).toFixed(2)} V`,
        `${(bms.packCurrent as number).toFixed(2)} A`,
      ]);
      expect((await values("chart-soc")).slice(1)).toEqual(["64.5 %"]);
      const cells = (await values("chart-cells")).slice(1);
      expect(cells).toHaveLength(20);
      expect(cells[0]).toBe(`${(bms.cells[0] as number).toFixed(3)} V`);

      // Hovering a point: a live reading arriving does not move the legend off it.
      const plot = page.locator('[data-testid="chart-pack"] .u-over');
      const box = await plot.boundingBox();
      if (!box) throw new Error("no plot area");
      await plot.hover({ position: { x: box.width / 3, y: box.height / 2 } });
      await page.evaluate("new Promise((r) => requestAnimationFrame(() => r(null)))");
      const hovered = await values("chart-pack");
      const live = syntheticReading({ time: now + 1000, step: 32 });
      bus.emit("reading", { ...live, bms: { ...(live.bms as typeof bms), packVoltage: 80 } });
      await page.waitForSelector('[data-testid="chart-pack"][data-points="32"]', { timeout: 10_000 });
      await page.evaluate("new Promise((r) => requestAnimationFrame(() => r(null)))");
      // The newest point (80 V) is not what the legend shows: it stays on the hovered one.
      const after = await values("chart-pack");
      expect(after[1]).not.toBe("80.00 V");
      expect(after).toEqual(hovered);
    } finally {
      await page.close();
    }
  });
});
