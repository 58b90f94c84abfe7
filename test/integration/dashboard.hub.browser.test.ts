/**
 * The dashboard's VESC Hub panel in Debian chromium: a bridge hosting its own hub, a
 * simulated Express registered with it, and a "VESC Tool" logging in through it. The panel
 * must list the device and show when the tool is attached — and never a password.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Bridge } from "../../src/bridge/bridge.js";
import { validateConfig } from "../../src/config/load.js";
import { type HubRegistration, registerWithHub, SimDevice } from "../../src/sim/index.js";
import { hubTransport } from "../../src/transport/hub.js";
import type { Transport } from "../../src/transport/transport.js";
import { launchChromium } from "../helpers/browser.js";
import { CHROMIUM, describeWithBinary } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";
import { scratchDataDir } from "../helpers/dataDir.js";

const PW = "panel-hub-S3CRET";

describeWithBinary(CHROMIUM, "dashboard hub panel in chromium", () => {
  let bridge: Bridge;
  let reg: HubRegistration;
  let browser: Browser;
  let tool: Transport | undefined;
  let url = "";

  beforeAll(async () => {
    const config = validateConfig(
      {
        data_dir: scratchDataDir(),
        mqtt: { embedded: { enabled: true, host: "127.0.0.1", port: 0 } },
        web: { enabled: true, host: "127.0.0.1", port: 0 },
        history: { enabled: false },
        hub: {
          enabled: true,
          host: "127.0.0.1",
          port: 0,
          devices: [{ id: "garage1", password_env: "HUB_PW" }],
        },
        devices: [
          {
            id: "board",
            interval_s: 0.5,
            connection: { type: "hub", host: "local", hub_id: "garage1", password_env: "HUB_PW" },
          },
        ],
      },
      { env: { HUB_PW: PW } },
    );
    bridge = new Bridge({ config });
    await bridge.start();
    const hubPort = bridge.hub?.address.port ?? 0;
    reg = await registerWithHub(new SimDevice({ cells: 12, seed: 5 }), {
      host: "127.0.0.1",
      port: hubPort,
      id: "garage1",
      password: PW,
    });
    const web = bridge.sinks.find((s) => s.name === "web") as { url?: string } | undefined;
    url = web?.url ?? "";
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await tool?.close();
    await browser?.close();
    await reg?.close();
    await bridge?.stop();
  });

  test("lists the registered device and shows VESC Tool attaching", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url);
    const row = page.locator('[data-testid="hub-device"][data-id="GARAGE1"]');
    await row.waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain("no tool");

    const hubPort = bridge.hub?.address.port ?? 0;
    tool = await hubTransport({ host: "127.0.0.1", port: hubPort, hubId: "garage1", password: PW })(
      new AbortController().signal,
    );
    // The panel refreshes every 5 s.
    await waitFor(async () => ((await row.textContent()) ?? "").includes("VESC Tool attached"), {
      timeoutMs: 20_000,
      what: "the panel to show the attached tool",
    });
    const panel = (await page.locator('[data-testid="hub-panel"]').textContent()) ?? "";
    expect(panel).toMatch(/1 device · 1 tool/);
    expect(panel).not.toContain(PW);
    mkdirSync(join(process.cwd(), "test-artifacts"), { recursive: true });
    await page.screenshot({ path: join(process.cwd(), "test-artifacts", "dashboard-hub.png") });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
