/**
 * GET /api/devices/:id/cell-drift over real HTTP on 127.0.0.1, with a real SQLite history in
 * a scratch dir: the per-cell drift series, its range limits, and the same guards (token,
 * Host allow-list, device id) as the other history routes.
 */
import { request } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { scratchDataDir } from "../../test/helpers/dataDir.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import { Bus } from "../model/bus.js";
import type { Reading } from "../model/reading.js";
import { HistorySink } from "../store/historySink.js";
import { WebServer, type WebServerOptions } from "./server.js";

const DAY_MS = 86_400_000;
const TOKEN = "drift-token";
let history: HistorySink | undefined;
let web: WebServer | undefined;

afterEach(async () => {
  await web?.stop();
  await history?.stop();
  web = undefined;
  history = undefined;
});

function reading(t: number, cells: number[], currentA: number): Reading {
  const r = syntheticReading({ time: t, cells: cells.length });
  return {
    ...r,
    bms: { ...(r.bms as NonNullable<Reading["bms"]>), cells, current: currentA, currentIc: currentA },
  };
}

/** A web server over a history holding `days` days of a 3-cell pack whose cell 2 sinks 4 mV a day. */
async function start(options: Partial<WebServerOptions> = {}, days = 5) {
  const bus = new Bus();
  history = new HistorySink({ bus, path: join(scratchDataDir(), "h.db"), flushMs: 20 });
  await history.start();
  // 06:00 UTC of each past day: one daily (and one hourly) bucket per day, whatever the clock says.
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const rows: Reading[] = [];
  for (let d = days; d >= 1; d--) {
    const t = today - d * DAY_MS + 6 * 3_600_000;
    const c2 = 3.9 - (days - d) * 0.006;
    for (let i = 0; i < 10; i++) {
      rows.push(reading(t + i * 60_000, [3.9, c2, 3.9], 0.1));
      // At 1 A every cell sags 100 mV and cell 2 30 mV more: rest only for a looser threshold.
      rows.push(reading(t + i * 60_000 + 30_000, [3.8, c2 - 0.13, 3.8], 1));
    }
  }
  history.store?.insert(rows);
  web = new WebServer({ bus, port: 0, history, ...options });
  await web.start();
  return web;
}

async function getJson(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${web?.url}${path}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function rawGet(path: string, headers: Record<string, string>) {
  return new Promise<number>((resolve, reject) => {
    const req = request(`${web?.url}${path}`, { headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

interface DriftAnswer {
  deviceId: string;
  days: number;
  bucketMs: number;
  cells: number;
  restCurrentA: number;
  points: Array<{ t: number; rows: number; driftMv: Array<number | null> }>;
  mostDrifting: { cell: number; driftMv: number; changeMv: number } | null;
}

describe("GET /api/devices/:id/cell-drift", () => {
  test("per-cell drift at rest per day, the most drifting cell named; hourly for short ranges", async () => {
    await start();
    const r = await getJson("/api/devices/pack/cell-drift?days=30");
    expect(r.status).toBe(200);
    const d = r.body as unknown as DriftAnswer;
    expect(d).toMatchObject({ deviceId: "pack", days: 30, bucketMs: DAY_MS, cells: 3, restCurrentA: 0.5 });
    expect(d.points.map((p) => p.rows)).toEqual([10, 10, 10, 10, 10]);
    // Cell 2 sinks 6 mV a day below the others: 2/3 of that below the pack mean, the others 1/3 above.
    expect(d.points.map((p) => p.driftMv)).toEqual([
      [0, 0, 0],
      [2, -4, 2],
      [4, -8, 4],
      [6, -12, 6],
      [8, -16, 8],
    ]);
    expect(d.mostDrifting).toEqual({ cell: 2, driftMv: -16, changeMv: -16 });

    const hourly = (await getJson("/api/devices/pack/cell-drift?days=7")).body as unknown as DriftAnswer;
    expect(hourly.bucketMs).toBe(3_600_000);
    expect(hourly.points.map((p) => p.driftMv[1])).toEqual([0, -4, -8, -12, -16]);
  });

  test("the device's rest current decides which readings count", async () => {
    await start({ restCurrentA: (id) => (id === "pack" ? 2 : undefined) });
    const d = (await getJson("/api/devices/pack/cell-drift?days=30")).body as unknown as DriftAnswer;
    expect(d.restCurrentA).toBe(2);
    // The 1 A readings count now: 20 a day, and cell 2's sag under them pulls it lower.
    expect(d.points.map((p) => p.rows)).toEqual([20, 20, 20, 20, 20]);
    expect(d.points.map((p) => p.driftMv[1])).toEqual([-10, -14, -18, -22, -26]);
  });

  test("a device without history answers an empty series", async () => {
    await start();
    const r = await getJson("/api/devices/nobody/cell-drift");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ deviceId: "nobody", cells: 0, points: [], mostDrifting: null });
  });

  test("bad ids and ranges are a 400 naming the parameter", async () => {
    await start();
    const cases: Array<[string, RegExp]> = [
      ["/api/devices/Pack/cell-drift", /^device: expected a device id/],
      [`/api/devices/${encodeURIComponent('pa"ck')}/cell-drift`, /^device: expected a device id/],
      ["/api/devices/pack/cell-drift?days=0", /^days: expected an integer 1–90/],
      ["/api/devices/pack/cell-drift?days=91", /^days: expected an integer 1–90/],
      ["/api/devices/pack/cell-drift?days=1.5", /^days: expected an integer/],
      ["/api/devices/pack/cell-drift?days=7&days=8", /^days: given more than once/],
      ["/api/devices/pack/cell-drift?days=30&bucket=hour", /^bucket: hourly up to 14 days/],
      ["/api/devices/pack/cell-drift?bucket=week", /^bucket: expected hour or day/],
      ["/api/devices/pack/cell-drift?to=1e20", /^to: expected ms since epoch/],
    ];
    for (const [path, error] of cases) {
      const r = await getJson(path);
      expect(r.status, path).toBe(400);
      expect(r.body.error, path).toMatch(error);
    }
    // Fastify refuses a path parameter over 100 characters before the route runs.
    expect((await getJson(`/api/devices/${"a".repeat(129)}/cell-drift`)).status).toBe(414);
  });

  test("a token guards it like every data route; without one the Host allow-list does", async () => {
    await start({ token: TOKEN });
    expect((await getJson("/api/devices/pack/cell-drift")).status).toBe(401);
    const ok = await getJson("/api/devices/pack/cell-drift", { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect((ok.body as unknown as DriftAnswer).cells).toBe(3);
    await web?.stop();
    await history?.stop();

    await start();
    expect(await rawGet("/api/devices/pack/cell-drift", { host: "evil.example" })).toBe(403);
    expect(await rawGet("/api/devices/pack/cell-drift", { host: "127.0.0.1" })).toBe(200);
  });

  test("without history the route says so", async () => {
    web = new WebServer({ bus: new Bus(), port: 0 });
    await web.start();
    const r = await getJson("/api/devices/pack/cell-drift");
    expect(r.status).toBe(404);
    expect(r.body.error).toBe("history is disabled");
  });
});
