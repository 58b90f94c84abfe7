/**
 * The dashboard in a real browser (Debian chromium driven by playwright-core; never a
 * downloaded browser), fed by the real chain: simulated VESC Express (20S BMS + motor on
 * CAN 84) over TCP → Poller → Bus → history/alerts/metrics/web sinks.
 * Screenshots go to test-artifacts/ (git-ignored).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { DEMO_DEVICE_ID, startDemo } from "../../src/cli/demo.js";
import { Bus } from "../../src/model/bus.js";
import type { Reading } from "../../src/model/reading.js";
import { Poller } from "../../src/session/poller.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";
import { AlertSink } from "../../src/alerts/alertSink.js";
import { HistorySink } from "../../src/store/historySink.js";
import { MetricsSink } from "../../src/metrics/metrics.js";
import { tcpTransport } from "../../src/transport/tcp.js";
import { WebServer } from "../../src/web/server.js";
import { launchChromium } from "../helpers/browser.js";
import { CHROMIUM, describeWithBinary } from "../helpers/require.js";
import { syntheticReading } from "../helpers/readings.js";
import { waitFor } from "../helpers/waitFor.js";

const ARTIFACTS = join(process.cwd(), "test-artifacts");

// Browser-side code as strings: the project compiles without the DOM lib.
interface Snapshot {
  time: string | null | undefined;
  bars: Array<{ cell: number; mv: number; balancing: boolean; cls: string }>;
  delta: string | null | undefined;
  pack: string | null | undefined;
}
/** Reads the DOM in one evaluate so a live update cannot slip between reads. */
const SNAPSHOT_JS = `({
  time: document.querySelector('[data-testid="last-update"]')?.getAttribute("data-time"),
  bars: [...document.querySelectorAll('[data-testid="cell-bar"]')].map((el) => ({
    cell: Number(el.getAttribute("data-cell")),
    mv: Number(el.getAttribute("data-mv")),
    balancing: el.getAttribute("data-balancing") === "true",
    cls: el.className,
  })),
  delta: document.querySelector('[data-testid="cell-delta"]')?.textContent,
  pack: document.querySelector('[data-testid="value-packVoltage"]')?.textContent,
})`;
/** Non-transparent pixels of the cells chart: lines were actually drawn. */
const INKED_PIXELS_JS = `(() => {
  const c = document.querySelector('[data-testid="chart-cells"] canvas');
  if (!c) return 0;
  const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
  return n;
})()`;

describeWithBinary(CHROMIUM, "dashboard in chromium", () => {
  let dir: string;
  let sim: Simulator;
  let bus: Bus;
  let poller: Poller;
  let history: HistorySink;
  let alerts: AlertSink;
  let metrics: MetricsSink;
  let web: WebServer;
  let browser: Browser;
  /** Script errors and console errors of every page: there must be none. */
  const pageErrors: string[] = [];
  let restarting = false;
  afterEach(() => {
    expect(pageErrors).toEqual([]);
  });
  /** Every reading the bus carried, by time, to check what the page shows. */
  const seen = new Map<string, Reading>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-dash-"));
    mkdirSync(ARTIFACTS, { recursive: true });
    const start = Date.now();
    // Sim time runs 30× faster so an hour-like charge curve shows up within seconds.
    sim = await startSimulator({
      port: 0,
      cells: 20,
      canIds: [84],
      seed: 7,
      scenario: "charging",
      startSoc: 0.9,
      clock: () => start + (Date.now() - start) * 30,
    });
    bus = new Bus();
    bus.on("reading", (r) => seen.set(r.time, r));
    history = new HistorySink({ bus, path: join(dir, "history.db"), flushMs: 100 });
    // A tight delta limit on this device so the real data raises a real alert.
    alerts = new AlertSink({ bus, overrides: { express: { cellDelta: 0.002 } } });
    metrics = new MetricsSink(bus);
    web = new WebServer({ bus, port: 0, history, metrics: metrics.metrics });
    for (const s of [history, alerts, metrics, web]) await s.start();
    poller = new Poller({
      deviceId: "express",
      transport: tcpTransport({ host: "127.0.0.1", port: sim.port }),
      url: sim.url,
      intervalMs: 250,
      can: [{ id: 84, kind: "motor" }],
    });
    poller.on("reading", (r) => bus.emit("reading", r));
    poller.on("status", (s) => bus.emit("status", s));
    poller.start();
    await waitFor(() => seen.size >= 8, { timeoutMs: 20_000, what: "8 readings from the simulator" });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await poller?.stop();
    for (const s of [web, metrics, alerts, history]) await s?.stop();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(options: { width: number; height: number; dark?: boolean }): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: options.width, height: options.height },
      colorScheme: options.dark ? "dark" : "light",
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      // The reconnect test stops the server on purpose: its failed requests are expected.
      if (m.type() === "error" && !restarting) pageErrors.push(m.text());
    });
    await page.goto(`${web.url}/`);
    await page.waitForSelector('[data-testid="cell-bar"]', { timeout: 20_000 });
    return page;
  }

  /** The reading the page currently shows (matched by its time stamp). */
  async function shown(page: Page): Promise<Reading> {
    const time = await page.getAttribute('[data-testid="last-update"]', "data-time");
    const r = time ? seen.get(time) : undefined;
    if (!r) throw new Error(`page shows a reading the bus never carried: ${time}`);
    return r;
  }

  test("shows 20 cells with their mV, min/max, delta and balancing as in the reading", async () => {
    const page = await open({ width: 1280, height: 1000 });
    try {
      const snap = await page.evaluate<Snapshot>(SNAPSHOT_JS);
      const r = seen.get(snap.time ?? "");
      expect(r, "reading shown by the page").toBeDefined();
      const bms = r!.bms!;
      expect(snap.bars).toHaveLength(20);
      expect(snap.bars.map((b) => b.mv)).toEqual(bms.cells.map((v) => Math.round((v ?? Number.NaN) * 1000)));
      expect(snap.bars.map((b) => b.balancing)).toEqual(bms.balancing);
      expect(bms.balancing.some(Boolean)).toBe(true);
      expect(snap.bars.filter((b) => b.balancing).every((b) => b.cls.includes("bal"))).toBe(true);
      const stats = bms.stats!;
      expect(snap.bars[stats.cellMinNumber - 1]?.cls).toContain("min");
      expect(snap.bars[stats.cellMaxNumber - 1]?.cls).toContain("max");
      expect(snap.delta).toBe(`${Math.round(stats.cellDelta * 1000)} mV`);
      expect(await page.textContent('[data-testid="device-link"]')).toBe("online");
      expect(snap.pack).toBe(`${bms.packVoltage?.toFixed(2)}V`);
      const motor = page.locator('[data-testid="motor-node"][data-can-id="84"]');
      await expect.poll(() => motor.count()).toBe(1);
      expect(await motor.textContent()).toContain("FAULT_CODE_NONE");
    } finally {
      await page.context().close();
    }
  });

  test("updates live, shows the alert banner and renders the charts; screenshots", async () => {
    const page = await open({ width: 1280, height: 1500 });
    try {
      const first = (await shown(page)).time;
      await waitFor(
        async () => (await page.getAttribute('[data-testid="last-update"]', "data-time")) !== first,
        {
          timeoutMs: 15_000,
          what: "a newer reading on the page",
        },
      );
      expect(Date.parse((await shown(page)).time)).toBeGreaterThan(Date.parse(first));
      expect(await page.getAttribute('[data-testid="live-indicator"]', "data-state")).toBe("live");

      const alert = page.locator('[data-testid="alert"][data-rule="cell_delta"]');
      await alert.waitFor({ timeout: 15_000 });
      expect(await alert.textContent()).toMatch(/cell delta \d+ mV \(limit 2 mV\): cell \d+ at \d\.\d{3} V/);

      for (const id of ["chart-pack", "chart-soc", "chart-delta", "chart-cells"]) {
        await waitFor(
          async () => Number(await page.getAttribute(`[data-testid="${id}"]`, "data-points")) >= 5,
          {
            timeoutMs: 15_000,
            what: `${id} with 5 points`,
          },
        );
      }
      // Every cell is a series of the cells chart (its legend lists 20 + time).
      expect(await page.locator('[data-testid="chart-cells"] .u-legend .u-series').count()).toBe(21);
      // The canvas holds drawn lines: count non-transparent pixels.
      const inked = await page.evaluate<number>(INKED_PIXELS_JS);
      expect(inked).toBeGreaterThan(500);
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-desktop.png"), fullPage: true });
    } finally {
      await page.context().close();
    }
  });

  test("works on a phone in dark mode", async () => {
    const page = await open({ width: 390, height: 844, dark: true });
    try {
      expect(await page.locator('[data-testid="cell-bar"]').count()).toBe(20);
      const overflow = await page.evaluate<number>(
        "document.documentElement.scrollWidth - window.innerWidth",
      );
      expect(overflow).toBeLessThanOrEqual(0);
      const bg = await page.evaluate<string>("getComputedStyle(document.body).backgroundColor");
      expect(bg).toBe("rgb(15, 20, 26)");
      await waitFor(
        async () => Number(await page.getAttribute('[data-testid="chart-pack"]', "data-points")) >= 2,
      );
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-phone-dark.png"), fullPage: true });
    } finally {
      await page.context().close();
    }
  });

  test("reconnects on its own after the server restarts", async () => {
    const page = await open({ width: 1000, height: 800 });
    try {
      const port = Number(new URL(web.url).port);
      restarting = true;
      await web.stop();
      await waitFor(
        async () =>
          (await page.getAttribute('[data-testid="live-indicator"]', "data-state")) === "reconnecting",
      );
      const before = await page.getAttribute('[data-testid="last-update"]', "data-time");
      web = new WebServer({ bus, port, history, metrics: metrics.metrics });
      await web.start();
      await waitFor(
        async () => (await page.getAttribute('[data-testid="live-indicator"]', "data-state")) === "live",
        {
          timeoutMs: 20_000,
          what: "the page to reconnect",
        },
      );
      await waitFor(
        async () => (await page.getAttribute('[data-testid="last-update"]', "data-time")) !== before,
        {
          timeoutMs: 15_000,
          what: "readings after the reconnect",
        },
      );
    } finally {
      await page.context().close();
    }
  });

  test("a fleet (more than 25 devices) still lists every device and shows the one picked", async () => {
    const time = Date.now();
    for (let i = 1; i <= 30; i++) {
      const deviceId = `fleet-${String(i).padStart(2, "0")}`;
      bus.emit("status", {
        deviceId,
        link: i % 10 === 0 ? "offline" : "online",
        url: "hub://127.0.0.1:65101/x",
        reconnects: 0,
        crcErrors: 0,
        discardedBytes: 0,
        framesReceived: 1,
      });
      bus.emit("reading", syntheticReading({ deviceId, time, step: i, cells: 12 + (i % 5) }));
    }
    const page = await open({ width: 1280, height: 900 });
    const streams: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/events")) streams.push(r.url());
    });
    try {
      await expect
        .poll(() => page.locator('[data-testid="device-item"]').count(), { timeout: 15_000 })
        .toBe(31);
      expect(
        await page.getAttribute('[data-testid="device-item"][data-device="fleet-10"]', "data-link"),
      ).toBe("offline");
      await page.click('[data-testid="device-item"][data-device="fleet-07"]');
      await expect
        .poll(() => page.textContent('[data-testid="device-name"]'), { timeout: 15_000 })
        .toBe("fleet-07");
      await expect.poll(() => page.locator('[data-testid="cell-bar"]').count(), { timeout: 15_000 }).toBe(14);
      // Fleet mode: the live stream now carries the picked device's readings only.
      expect(streams.some((u) => u.includes("/api/events?device=fleet-07"))).toBe(true);
    } finally {
      await page.context().close();
    }
  });

  test("null values (n/a, implausible) show as dashes, never as numbers or errors", async () => {
    const time = Date.now();
    const deviceId = "odd-pack";
    bus.emit("status", {
      deviceId,
      link: "online",
      url: "tcp://127.0.0.1:65102",
      reconnects: 0,
      crcErrors: 0,
      discardedBytes: 0,
      framesReceived: 1,
    });
    const base = syntheticReading({ deviceId, time, cells: 4 });
    const bms = base.bms!;
    bus.emit("reading", {
      ...base,
      bms: {
        ...bms,
        packVoltage: null,
        packPower: null,
        cells: [3.9, null, 3.95, 3.92],
        temperatures: [30, 25, 26, null, 22],
        implausible: ["packVoltage", "cells[1]"],
      },
    });
    const page = await open({ width: 1280, height: 900 });
    try {
      await page.click(`[data-testid="device-item"][data-device="${deviceId}"]`);
      await expect.poll(() => page.locator('[data-testid="cell-bar"]').count(), { timeout: 15_000 }).toBe(4);
      const snap = await page.evaluate<Snapshot>(SNAPSHOT_JS);
      expect(snap.bars.map((b) => b.mv)).toEqual([3900, Number.NaN, 3950, 3920]);
      expect(snap.delta).toBe("50 mV");
      expect(snap.pack).not.toMatch(/\d/);
      const temperature = await page.textContent('[data-testid="value-temperature"]');
      expect(temperature).toContain("30.0");
      const tiles = await page.textContent("body");
      expect(tiles).not.toMatch(/NaN|null|Infinity/);
    } finally {
      await page.context().close();
    }
  });

  test("the dashboard of `vesc2mqtt demo` shows its 20-cell pack live, with charts", async () => {
    const demo = await startDemo({ webPort: 0, mqttPort: 0, cells: 20, logLevel: "error", stderr: () => {} });
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    try {
      const page = await context.newPage();
      page.on("pageerror", (e) => pageErrors.push(e.message));
      await page.goto(`${demo.webUrl}/`);
      await expect.poll(() => page.locator('[data-testid="cell-bar"]').count(), { timeout: 20_000 }).toBe(20);
      expect(await page.textContent('[data-testid="device-name"]')).toBe(DEMO_DEVICE_ID);
      const first = await page.getAttribute('[data-testid="last-update"]', "data-time");
      await waitFor(
        async () => (await page.getAttribute('[data-testid="last-update"]', "data-time")) !== first,
        {
          timeoutMs: 15_000,
          what: "a live update from the demo",
        },
      );
      await waitFor(
        async () => Number(await page.getAttribute('[data-testid="chart-cells"]', "data-points")) >= 2,
        {
          timeoutMs: 15_000,
          what: "the demo's cells chart",
        },
      );
      await expect.poll(() => page.locator('[data-testid="motor-node"]').count()).toBe(1);
    } finally {
      await context.close();
      await demo.stop();
    }
  });
});
