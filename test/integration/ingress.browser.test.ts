/**
 * The dashboard behind a Home Assistant-like ingress proxy, in Debian's chromium: a small
 * HTTP proxy on 127.0.0.1 serves the dashboard under `/api/hassio_ingress/<token>/` with
 * `X-Ingress-Path` (as the Supervisor does), fed by the simulator → Poller → Bus chain.
 * The web server trusts the proxy's address (127.0.0.1 here, 172.30.32.2 in Home Assistant)
 * and refuses other addresses, which connect from 127.0.0.2.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest, type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Bus } from "../../src/model/bus.js";
import { Poller } from "../../src/session/poller.js";
import { type Simulator, startSimulator } from "../../src/sim/index.js";
import { HistorySink } from "../../src/store/historySink.js";
import { MetricsSink } from "../../src/metrics/metrics.js";
import { tcpTransport } from "../../src/transport/tcp.js";
import { WebServer } from "../../src/web/server.js";
import { launchChromium } from "../helpers/browser.js";
import { CHROMIUM, describeWithBinary } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

const SESSION = "aBcD3fGh1jKlMn0pQrStUvWxYz0123456789_-abcdEFGH";
const PREFIX = `/api/hassio_ingress/${SESSION}`;
const TOKEN = "direct-access-token";

interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  body: string;
}

/** One GET to the web server from a chosen local address (the proxy is 127.0.0.1, others 127.0.0.2). */
function getFrom(url: string, localAddress: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { localAddress, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** The Supervisor's part: strip the prefix, add X-Ingress-Path, stream the answer back. */
function startIngressProxy(target: URL, received: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    received.push(url);
    if (url === "/hassio/ingress/vesc2mqtt") {
      // Home Assistant's own page framing the app, same origin as the ingress URLs.
      res.writeHead(200, { "content-type": "text/html" });
      res.end(
        `<!doctype html><title>HA</title><link rel="icon" href="data:,"><iframe id="app" src="${PREFIX}/" width="1200" height="900"></iframe>`,
      );
      return;
    }
    if (url !== PREFIX && !url.startsWith(`${PREFIX}/`) && !url.startsWith(`${PREFIX}?`)) {
      res.writeHead(404).end("outside the ingress prefix");
      return;
    }
    const rest = url.slice(PREFIX.length);
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        localAddress: "127.0.0.1",
        method: req.method,
        path: rest.startsWith("/") ? rest : `/${rest}`,
        headers: { ...req.headers, host: `${target.hostname}:${target.port}`, "x-ingress-path": PREFIX },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("web server under ingress (HTTP)", () => {
  let bus: Bus;
  let web: WebServer;
  let withToken: WebServer;

  beforeAll(async () => {
    bus = new Bus();
    web = new WebServer({ bus, port: 0, ingress: { enabled: true, trustedProxy: "127.0.0.1" } });
    withToken = new WebServer({
      bus,
      port: 0,
      token: TOKEN,
      ingress: { enabled: true, trustedProxy: "127.0.0.1" },
    });
    await web.start();
    await withToken.start();
  });
  afterAll(async () => {
    await web?.stop();
    await withToken?.stop();
  });

  test("the trusted proxy gets the page with a <base> of its prefix and may frame it", async () => {
    const r = await getFrom(`${web.url}/`, "127.0.0.1", { "x-ingress-path": PREFIX });
    expect(r.status).toBe(200);
    expect(r.body).toContain(`<base href="${PREFIX}/">`);
    expect(r.headers["content-security-policy"]).toContain("frame-ancestors 'self'");
    const api = await getFrom(`${web.url}/api/devices`, "127.0.0.1");
    expect(api.status).toBe(200);
  });

  test("a malformed X-Ingress-Path is ignored, never echoed into the page", async () => {
    const r = await getFrom(`${web.url}/`, "127.0.0.1", {
      "x-ingress-path": '/x"><script>alert(1)</script>',
    });
    expect(r.status).toBe(200);
    expect(r.body).not.toContain("<base");
    expect(r.body).not.toContain("alert(1)");
  });

  test("other addresses are refused without a token, /healthz answers everyone", async () => {
    for (const path of ["/", "/api/devices", "/api/events", "/metrics", "/static/app.js"]) {
      const r = await getFrom(`${web.url}${path}`, "127.0.0.2", { "x-ingress-path": PREFIX });
      expect(r.status, path).toBe(403);
    }
    const health = await getFrom(`${web.url}/healthz`, "127.0.0.2");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: "ok" });
  });

  test("with a token, other addresses need it and never get the prefix or framing", async () => {
    expect((await getFrom(`${withToken.url}/api/devices`, "127.0.0.2")).status).toBe(401);
    const ok = await getFrom(`${withToken.url}/`, "127.0.0.2", {
      authorization: `Bearer ${TOKEN}`,
      "x-ingress-path": PREFIX,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).not.toContain("<base");
    expect(ok.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    // The proxy needs no token at all.
    expect((await getFrom(`${withToken.url}/api/devices`, "127.0.0.1")).status).toBe(200);
  });
});

describeWithBinary(CHROMIUM, "dashboard under an ingress prefix in chromium", () => {
  let sim: Simulator;
  let bus: Bus;
  let poller: Poller;
  let metrics: MetricsSink;
  let history: HistorySink;
  let dir = "";
  let web: WebServer;
  let proxy: Server;
  let proxyUrl = "";
  let browser: Browser;
  const received: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, cells: 16, seed: 3 });
    bus = new Bus();
    metrics = new MetricsSink(bus);
    dir = mkdtempSync(join(tmpdir(), "vesc2mqtt-ingress-"));
    history = new HistorySink({ bus, path: join(dir, "history.db"), flushMs: 100 });
    web = new WebServer({
      bus,
      port: 0,
      history,
      metrics: metrics.metrics,
      ingress: { enabled: true, trustedProxy: "127.0.0.1" },
    });
    await history.start();
    await metrics.start();
    await web.start();
    poller = new Poller({
      deviceId: "pack",
      transport: tcpTransport({ host: "127.0.0.1", port: sim.port }),
      url: sim.url,
      intervalMs: 250,
    });
    poller.on("reading", (r) => bus.emit("reading", r));
    poller.on("status", (s) => bus.emit("status", s));
    poller.start();
    proxy = await startIngressProxy(new URL(web.url), received);
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
    proxy?.closeAllConnections();
    await poller?.stop();
    await web?.stop();
    await metrics?.stop();
    await history?.stop();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  async function newPage(): Promise<{ page: Page; requests: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("response", (r) => {
      if (r.status() >= 400) pageErrors.push(`${r.status()} ${r.url()}`);
    });
    return { page, requests };
  }

  test("cells render, live updates arrive, and no request leaves the prefix", async () => {
    const { page, requests } = await newPage();
    try {
      await page.goto(`${proxyUrl}${PREFIX}/`);
      await page.waitForSelector('[data-testid="cell-bar"]', { timeout: 20_000 });
      expect(await page.locator('[data-testid="cell-bar"]').count()).toBe(16);
      const first = await page.getAttribute('[data-testid="last-update"]', "data-time");
      await waitFor(
        async () => (await page.getAttribute('[data-testid="last-update"]', "data-time")) !== first,
        { timeoutMs: 15_000, what: "a live update through the proxy" },
      );
      expect(await page.getAttribute('[data-testid="live-indicator"]', "data-state")).toBe("live");
      // The history fetch and the CSV link go through the prefix too.
      await waitFor(async () => requests.some((u) => u.includes("/api/history?")), {
        what: "the history request",
      });
      const csv = await page.getAttribute('[data-testid="csv-link"]', "href");
      expect(new URL(csv ?? "", page.url()).pathname).toBe(`${PREFIX}/api/history.csv`);

      const http = requests.filter((u) => u.startsWith("http"));
      for (const kind of ["/static/app.js", "/static/app.css", "/vendor/uplot/", "/api/events", "/api/hub"])
        expect(
          http.some((u) => u.includes(`${PREFIX}${kind}`)),
          kind,
        ).toBe(true);
      expect(http.filter((u) => !u.startsWith(`${proxyUrl}${PREFIX}/`))).toEqual([]);
    } finally {
      await page.context().close();
    }
    expect(received.filter((u) => !u.startsWith(`${PREFIX}/`))).toEqual([]);
  });

  test("works without the trailing slash and inside Home Assistant's iframe", async () => {
    const { page } = await newPage();
    try {
      await page.goto(`${proxyUrl}${PREFIX}`);
      await page.waitForSelector('[data-testid="cell-bar"]', { timeout: 20_000 });
      await page.goto(`${proxyUrl}/hassio/ingress/vesc2mqtt`);
      const frame = page.frameLocator("#app");
      await frame.locator('[data-testid="cell-bar"]').first().waitFor({ timeout: 20_000 });
      expect(await frame.locator('[data-testid="cell-bar"]').count()).toBe(16);
    } finally {
      await page.context().close();
    }
  });
});
