/**
 * Stored alerts keep the CAN BMS node they belong to: a node's alert and the device's own
 * alert of the same rule are separate rows and separate on/off episodes, and the device's
 * rows read back exactly as before (no canId key at all). Real SQLite in a scratch dir.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect, test } from "vitest";
import { scratchDataDir } from "../../test/helpers/dataDir.js";
import { type Alert, Bus } from "../model/bus.js";
import { HistoryStore } from "./history.js";
import { HistorySink } from "./historySink.js";

/** An hour ago, so opening a store (which prunes past retention) keeps these rows. */
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const at = (ms: number) => new Date(T0 + ms).toISOString();

const alert = (o: Partial<Alert> & { time: string }): Alert => ({
  deviceId: "pack",
  rule: "cell_under_voltage",
  active: true,
  message: "cell 7 at 3.050 V",
  ...o,
});

test("a node's alert and the device's alert of the same rule are separate rows and episodes", () => {
  const store = HistoryStore.open({ path: join(scratchDataDir(), "h.db") });
  try {
    store.insertAlerts([
      // Same rule, same instant: the device's own BMS and node 10 both see a low cell.
      alert({ time: at(0), message: "device cell 7 low" }),
      alert({ time: at(0), canId: 10, message: "node cell 7 low" }),
      alert({ time: at(1000), canId: 11, message: "node 11 cell 2 low" }),
      // Node 10 recovers; the device's alert stays on.
      alert({ time: at(2000), canId: 10, active: false, message: "node cell 7 ok" }),
    ]);
    const all = store.alerts({ from: T0, to: T0 + 10_000 });
    expect(all).toStrictEqual([
      {
        deviceId: "pack",
        rule: "cell_under_voltage",
        active: true,
        message: "device cell 7 low",
        time: at(0),
      },
      {
        deviceId: "pack",
        canId: 10,
        rule: "cell_under_voltage",
        active: true,
        message: "node cell 7 low",
        time: at(0),
      },
      {
        deviceId: "pack",
        canId: 11,
        rule: "cell_under_voltage",
        active: true,
        message: "node 11 cell 2 low",
        time: at(1000),
      },
      {
        deviceId: "pack",
        canId: 10,
        rule: "cell_under_voltage",
        active: false,
        message: "node cell 7 ok",
        time: at(2000),
      },
    ]);
    // The device's alert has no canId key (not even undefined): its JSON is unchanged.
    expect(Object.keys(all[0] ?? {})).toEqual(["deviceId", "rule", "active", "message", "time"]);
    // Replaying the changes per subject (device, or device + node) gives each its own episode.
    const last = new Map<string, boolean>();
    for (const a of all) last.set(`${a.deviceId}/${a.canId ?? "own"}/${a.rule}`, a.active);
    expect([...last]).toEqual([
      ["pack/own/cell_under_voltage", true],
      ["pack/10/cell_under_voltage", false],
      ["pack/11/cell_under_voltage", true],
    ]);
  } finally {
    store.close();
  }
});

test("a new file has the alerts.can_id column; a device's alert stores NULL there", () => {
  const path = join(scratchDataDir(), "h.db");
  const store = HistoryStore.open({ path });
  store.insertAlerts([alert({ time: at(0) }), alert({ time: at(0), canId: 10 })]);
  store.close();
  const db = new Database(path, { readonly: true });
  try {
    expect(db.prepare("SELECT can_id FROM alerts ORDER BY rowid").pluck().all()).toEqual([null, 10]);
  } finally {
    db.close();
  }
});

test("the sink stores a node's bus alert with its canId; it survives a restart", async () => {
  const path = join(scratchDataDir(), "h.db");
  const bus = new Bus();
  let sink = new HistorySink({ bus, path, flushMs: 60_000 });
  await sink.start();
  bus.emit("alert", alert({ time: at(0), canId: 10, rule: "cell_delta", message: "node delta 250 mV" }));
  bus.emit("alert", alert({ time: at(0), rule: "cell_delta", message: "device delta 250 mV" }));
  await sink.stop();
  sink = new HistorySink({ bus, path, flushMs: 60_000 });
  await sink.start();
  try {
    expect(sink.store?.alerts({ from: T0, to: T0 }).map((a) => [a.canId, a.rule, a.message])).toEqual([
      [10, "cell_delta", "node delta 250 mV"],
      [undefined, "cell_delta", "device delta 250 mV"],
    ]);
  } finally {
    await sink.stop();
  }
});
