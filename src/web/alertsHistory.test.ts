/**
 * GET /api/alerts over real HTTP on 127.0.0.1, fed by the real pipeline (bus → AlertSink →
 * HistorySink → SQLite in a scratch dir): a CAN BMS node's stored alerts carry its canId
 * and stay apart from the device's alert of the same rule; the device's JSON has no canId.
 */
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { scratchDataDir } from "../../test/helpers/dataDir.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import { waitFor } from "../../test/helpers/waitFor.js";
import { AlertSink } from "../alerts/alertSink.js";
import { Bus } from "../model/bus.js";
import type { BmsReading, Reading } from "../model/reading.js";
import { HistorySink } from "../store/historySink.js";
import { WebServer } from "./server.js";

let sinks: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const s of sinks) await s.stop();
  sinks = [];
});

/** The synthetic 20S pack with cell 7 at `v` volts. */
function bmsWithCell7(r: Reading, v: number): BmsReading {
  const bms = r.bms as BmsReading;
  return { ...bms, cells: bms.cells.map((c, i) => (i === 6 ? v : c)) };
}

test("/api/alerts names the CAN node of a node's alert; the device's alert JSON is unchanged", async () => {
  const bus = new Bus();
  const history = new HistorySink({ bus, path: join(scratchDataDir(), "h.db"), flushMs: 20 });
  const alerts = new AlertSink({ bus });
  const web = new WebServer({ bus, host: "127.0.0.1", port: 0, history });
  for (const s of [history, alerts, web]) {
    await s.start();
    sinks.unshift(s);
  }
  const t = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const base = syntheticReading({ time: t });
  // The device's own BMS and its CAN BMS node 10 both have cell 7 at 3.05 V: same rules, two subjects.
  bus.emit("reading", {
    ...base,
    bms: bmsWithCell7(base, 3.05),
    can: { "10": { canId: 10, kind: "bms", bms: bmsWithCell7(base, 3.05) } },
  });
  // The node recovers; the device's alert stays on.
  const later = syntheticReading({ time: t + 5000 });
  bus.emit("reading", {
    ...later,
    bms: bmsWithCell7(later, 3.05),
    can: { "10": { canId: 10, kind: "bms", bms: later.bms as BmsReading } },
  });

  type Row = {
    deviceId: string;
    canId?: number;
    rule: string;
    active: boolean;
    message: string;
    time: string;
  };
  const fetchAlerts = async () => {
    const res = await fetch(`${web.url}/api/alerts?device=pack`);
    expect(res.status).toBe(200);
    return { text: await res.text() };
  };
  const { text } = await waitFor(
    async () => {
      const r = await fetchAlerts();
      return (JSON.parse(r.text) as { alerts: Row[] }).alerts.length >= 6 && r;
    },
    { what: "six stored alert changes" },
  );
  const rows = (JSON.parse(text) as { alerts: Row[] }).alerts;
  const under = rows.filter((a) => a.rule === "cell_under_voltage");
  expect(under.map((a) => [a.canId, a.active, a.time])).toEqual([
    [undefined, true, new Date(t).toISOString()],
    [10, true, new Date(t).toISOString()],
    [10, false, new Date(t + 5000).toISOString()],
  ]);
  expect(rows.filter((a) => a.rule === "cell_delta").map((a) => [a.canId, a.active])).toEqual([
    [undefined, true],
    [10, true],
    [10, false],
  ]);
  // The device's alert serialises exactly as before node alerts existed: no canId key, not even null.
  const own = under[0] as Row;
  expect(text).toContain(
    JSON.stringify({
      deviceId: "pack",
      rule: "cell_under_voltage",
      active: true,
      message: own.message,
      time: own.time,
    }),
  );
  expect(rows.filter((a) => a.canId === undefined).every((a) => !("canId" in a))).toBe(true);
  expect(rows).toHaveLength(6);
  expect(rows.filter((a) => "canId" in a)).toHaveLength(4);
});
