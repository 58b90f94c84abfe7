/**
 * The dashboard's cell drift chart: days of history at rest in a real SQLite file → the web
 * server over TCP on 127.0.0.1 → Debian chromium. One line per cell, the most drifting cell
 * drawn thick in the alarm colour and named.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Bus } from "../../src/model/bus.js";
import type { Reading } from "../../src/model/reading.js";
import { HistorySink } from "../../src/store/historySink.js";
import { WebServer } from "../../src/web/server.js";
import { launchChromium } from "../helpers/browser.js";
import { scratchDataDir } from "../helpers/dataDir.js";
import { syntheticReading } from "../helpers/readings.js";
import { CHROMIUM, describeWithBinary } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

const ARTIFACTS = join(process.cwd(), "test-artifacts");
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

function reading(t: number, cells: number[], currentA: number): Reading {
  const r = syntheticReading({ deviceId: "pack", time: t, cells: cells.length });
  return {
    ...r,
    bms: { ...(r.bms as NonNullable<Reading["bms"]>), cells, current: currentA, currentIc: currentA },
  };
}

// Browser-side code as strings: the project compiles without the DOM lib.
/** Pixels of the chart's canvas in the dashboard's alarm colour (--bad): the highlighted line. */
const ALARM_PIXELS_JS = `(() => {
  const canvas = document.querySelector("#chart-drift canvas");
  const ctx = canvas && canvas.getContext("2d");
  if (!ctx) return -1;
  const probe = document.createElement("canvas").getContext("2d");
  probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue("--bad").trim();
  probe.fillRect(0, 0, 1, 1);
  const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
  const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 4)
    if (Math.abs(px[i] - r) < 12 && Math.abs(px[i + 1] - g) < 12 && Math.abs(px[i + 2] - b) < 12) n++;
  return n;
})()`;
const NOTE_SAYS_7_DAYS_JS = `document.querySelector('[data-testid="drift-note"]')?.textContent?.includes("over 7 days")`;

describeWithBinary(CHROMIUM, "dashboard cell drift chart", () => {
  let bus: Bus;
  let history: HistorySink;
  let web: WebServer;
  let browser: Browser;

  beforeAll(async () => {
    bus = new Bus();
    history = new HistorySink({ bus, path: join(scratchDataDir(), "history.db"), flushMs: 50 });
    await history.start();
    // Six past days, 06:00–06:20 UTC at rest each day: cell 3 sinks 3 mV a day below the others.
    // Under load (−15 A) every cell sags and cell 1 most: that must not show as drift.
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const rows: Reading[] = [];
    for (let d = 6; d >= 1; d--) {
      const c3 = 3.95 - (6 - d) * 0.003;
      for (let i = 0; i < 20; i++) {
        const t = today - d * DAY_MS + 6 * HOUR_MS + i * 60_000;
        rows.push(reading(t, [3.95, 3.951, c3, 3.949], 0.05));
        rows.push(reading(t + 30_000, [3.7, 3.85, c3 - 0.1, 3.85], -15));
      }
    }
    history.store?.insert(rows);
    web = new WebServer({ bus, port: 0, history });
    await web.start();
    // The live reading (at rest, as the last day) goes into history too: today's point.
    bus.emit("reading", reading(Date.now(), [3.95, 3.951, 3.935, 3.949], 0.05));
    await waitFor(() => history.store?.stats().readings === rows.length + 1);
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await history?.stop();
  });

  test("one line per cell over the days; the most drifting cell drawn thick and named", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(`${web.url}/`);
      const chart = page.locator('[data-testid="chart-drift"]');
      await page.waitForSelector('[data-testid="chart-drift"][data-points="7"]', { timeout: 20_000 });
      expect(await chart.getAttribute("data-series")).toBe("4");
      expect(await chart.getAttribute("data-highlight")).toBe("3");
      // uPlot's legend: the time column, then one entry per cell, the highlighted one named.
      const labels = await chart.locator(".u-legend .u-series .u-label").allTextContents();
      expect(labels.slice(1)).toEqual(["1", "2", "3 (most drift)", "4"]);
      // The legend shows the newest point (today, as the day before): cell 3 is 15 mV under the others, 11.25 below the mean (rounded to 0.1 mV).
      const values = await chart.locator(".u-legend .u-series .u-value").allTextContents();
      expect(values.slice(1)).toEqual(["3.8 mV", "4.8 mV", "-11.2 mV", "2.8 mV"]);
      const note = page.locator('[data-testid="drift-note"]');
      expect(await page.locator('[data-testid="drift-cell"]').textContent()).toBe("cell 3");
      expect(await note.textContent()).toContain("-11.2 mV from the pack mean (-11.2 mV over 30 days)");
      expect(await note.textContent()).toContain("7 days with readings at rest (|I| ≤ 0.5 A)");
      expect(await page.evaluate<number>(ALARM_PIXELS_JS)).toBeGreaterThan(200);
      await page
        .locator('[data-testid="drift"]')
        .screenshot({ path: join(ARTIFACTS, "dashboard-drift.png") });

      // 7 days: hourly buckets, one per day here (each day's readings sit in one hour).
      await page.click('[data-testid="drift-7d"]');
      await page.waitForFunction(NOTE_SAYS_7_DAYS_JS);
      expect(await note.textContent()).toContain("7 hours with readings at rest");
      expect(await chart.getAttribute("data-points")).toBe("7");
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
