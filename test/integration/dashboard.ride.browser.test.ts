/**
 * The dashboard's ride panel on a reading the simulator's riding Floatwheel produced: speed,
 * trip, odometer, state and footpads, labelled and formatted by the value catalogue.
 * Real chain: simulator over TCP → DeviceReader → Bus → WebServer on 127.0.0.1 → chromium.
 */
import type { Browser } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Bus } from "../../src/model/bus.js";
import type { Reading } from "../../src/model/reading.js";
import { DeviceReader } from "../../src/session/device.js";
import { Session } from "../../src/session/session.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";
import { tcpTransport } from "../../src/transport/tcp.js";
import { HistorySink } from "../../src/store/historySink.js";
import { WebServer } from "../../src/web/server.js";
import { launchChromium } from "../helpers/browser.js";
import { CHROMIUM, describeWithBinary } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

describeWithBinary(CHROMIUM, "dashboard ride panel", () => {
  let sim: Simulator;
  let session: Session;
  let web: WebServer;
  let history: HistorySink;
  let dir: string;
  const POLLS = 5;
  let browser: Browser;
  let reading: Reading;

  beforeAll(async () => {
    let now = Date.now();
    sim = await startSimulator({ port: 0, seed: 4, canIds: [84], scenario: "riding", clock: () => now });
    session = new Session(
      await tcpTransport({ host: sim.host, port: sim.port })(new AbortController().signal),
    );
    now += 600_000; // ten minutes into the ride
    const reader = new DeviceReader(
      session,
      { firmware: "6.05", hardware: "VESC Express T", uuid: "00".repeat(12) },
      { deviceId: "board", readBms: false, can: [{ id: 84, kind: "motor" }] },
    );
    dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-ride-dash-"));
    const bus = new Bus();
    history = new HistorySink({ bus, path: join(dir, "history.db"), flushMs: 100 });
    web = new WebServer({ bus, port: 0, history });
    for (const s of [history, web]) await s.start();
    // Five polls a second apart (device and reading time alike), the last one now.
    const wall = Date.now();
    for (let i = POLLS - 1; i >= 0; i--) {
      now += 1000;
      reading = { ...(await reader.poll()), time: new Date(wall - i * 1000).toISOString() };
      bus.emit("reading", reading);
    }
    await waitFor(() => (history.store?.stats().readings ?? 0) >= POLLS, {
      timeoutMs: 10_000,
      what: "stored",
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await history?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await session?.close();
    await sim?.close();
  });

  test("speed, trip, odometer, state and footpads of the riding board", async () => {
    const ride = reading.can?.["84"]?.ride;
    expect(ride?.state).toBe("riding");
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await page.goto(`${web.url}/`);
      const panel = page.locator('[data-testid="motor-node"][data-can-id="84"] [data-testid="ride-panel"]');
      await panel.waitFor({ timeout: 20_000 });
      expect(await panel.locator('[data-testid="ride-speed"]').textContent()).toBe(
        `${ride?.speedKmh?.toFixed(1)} km/h`,
      );
      expect(await panel.locator('[data-testid="ride-tripKm"]').textContent()).toBe(
        `${ride?.tripKm?.toFixed(2)} km`,
      );
      expect(await panel.locator('[data-testid="ride-odometerKm"]').textContent()).toBe(
        `${ride?.odometerKm?.toFixed(1)} km`,
      );
      expect(await panel.locator('[data-testid="ride-state"]').textContent()).toBe("riding");
      expect(await panel.locator("dt").allTextContents()).toEqual([
        "Trip",
        "Odometer",
        "State",
        "Battery",
        "Wh/km",
      ]);
      for (const side of ["left", "right"])
        expect(await panel.locator(`[data-testid="footpad-${side}"]`).getAttribute("data-on")).toBe("true");
      expect(await panel.locator('[data-testid="footpad-left"]').textContent()).toBe("Left pad");
      // The history chart of the ride: shown, one point per stored reading.
      await waitFor(
        async () => Number(await page.getAttribute('[data-testid="chart-ride"]', "data-points")) >= POLLS,
        { timeoutMs: 20_000, what: "the ride chart's points" },
      );
      expect(await page.isVisible('[data-testid="chart-ride"]')).toBe(true);
      expect(await page.textContent("#ride-figure figcaption")).toBe("Speed & trip");
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
