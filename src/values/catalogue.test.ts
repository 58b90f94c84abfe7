/**
 * The catalogue is the one description of a value: it is self-consistent, and a new entry
 * reaches every consumer (HA discovery, metrics, history columns, CLI, dashboard) with no
 * other file touched. The dummy entries below exist only in this test.
 */
import { describe, expect, test } from "vitest";
import { evalSimpleTemplate, validateDiscovery } from "../../test/helpers/haRules.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import { formatReading, toJsonReading } from "../cli/format.js";
import { Metrics } from "../metrics/metrics.js";
import type { BmsReading, MotorValues, Reading } from "../model/reading.js";
import { alertEntities } from "../mqtt/homeassistant/alerts.js";
import { bmsEntities, bmsPresence } from "../mqtt/homeassistant/bmsEntities.js";
import { type HaDevice, discoveryMessages } from "../mqtt/homeassistant/discovery.js";
import { identityEntities, linkEntities } from "../mqtt/homeassistant/entities.js";
import { motorEntities, motorPresence } from "../mqtt/homeassistant/motorEntities.js";
import { historyScalars, SCALARS } from "../store/historyCodec.js";
import { dashboardValues } from "./dashboard.js";
import {
  BMS_SOURCES,
  CATALOGUE,
  catalogueProblems,
  extendCatalogue,
  inPinnedOrder,
  RIDE_SOURCES,
  SOURCES,
  type ValueDef,
  type ValueSource,
} from "./index.js";

/** A bridge-computed BMS value, as a battery estimator would add one. */
const ESTIMATE: ValueDef = {
  id: "remainingAh",
  source: "bms",
  field: "remainingAh",
  label: "Remaining charge",
  unit: "Ah",
  ha: { key: "remaining_charge", presence: "defined", unit: "Ah", stateClass: "measurement", precision: 2 },
  metric: { name: "vesc_remaining_amp_hours", help: "Remaining charge (bridge estimate)" },
  history: { column: "remaining_ah", scale: 1000 },
  cli: { label: "Remaining", digits: 2 },
  dashboard: { label: "Left", digits: 1 },
};

/** A motor value, as ride telemetry would add one. */
const SPEED: ValueDef = {
  id: "motor.speedKmh",
  source: "motor",
  field: "speedKmh",
  label: "Speed",
  unit: "km/h",
  ha: { key: "speed", deviceClass: "speed", unit: "km/h", stateClass: "measurement", precision: 1 },
  metric: { name: "vesc_motor_speed_kmh", help: "Speed" },
  cli: { digits: 1 },
  dashboard: { digits: 1 },
};

/** A link counter, as a transport with its own statistics would add one. */
const TIMEOUTS: ValueDef = {
  id: "timeouts",
  source: "link",
  field: "timeouts",
  label: "Timeouts",
  ha: { key: "timeouts", stateClass: "total_increasing", diagnostic: true, icon: "mdi:timer-alert" },
  metric: { name: "vesc_timeouts_total", help: "Polls that timed out", kind: "counter" },
};

const cat = extendCatalogue(CATALOGUE, [ESTIMATE, SPEED]);

const base = syntheticReading({ deviceId: "pack", time: 1_700_000_000_000, withMotor: true });
const reading: Reading = {
  ...base,
  bms: { ...(base.bms as BmsReading), remainingAh: 12.345 } as BmsReading,
  can: {
    "84": {
      ...(base.can?.["84"] as NonNullable<Reading["can"]>[string]),
      values: { ...base.can?.["84"]?.values, speedKmh: 23.25 } as MotorValues,
    },
  },
};

describe("the value catalogue", () => {
  test("is self-consistent: unique ids, HA keys, history columns; one help per metric", () => {
    expect(catalogueProblems(CATALOGUE)).toEqual([]);
    expect(catalogueProblems(extendCatalogue(CATALOGUE, [{ ...ESTIMATE, id: "soc" }]))).toEqual([
      "duplicate id soc",
    ]);
    expect(
      catalogueProblems(extendCatalogue(CATALOGUE, [{ ...ESTIMATE, history: { column: "soc", scale: 1 } }])),
    ).toEqual(["duplicate history column soc"]);
    // A rule no consumer would apply is a problem too, not a silent no-op.
    const ha = { key: "x", presence: "defined", staysAvailable: true } as const;
    expect(
      catalogueProblems(
        extendCatalogue(CATALOGUE, [
          { ...SPEED, id: "motor.x", ha },
          { ...ESTIMATE, id: "verdict.x", source: "bmsHealth", ha: { ...ha, key: "y" } },
        ]),
      ),
    ).toEqual([
      "motor.x: presence applies to bms values only",
      "motor.x: staysAvailable applies to BMS values only",
      "verdict.x: presence applies to bms values only",
    ]);
  });

  test("each source is read from one part of a reading; the ride sources are the node's", () => {
    expect(BMS_SOURCES).toEqual(["bms", "bmsStats", "cellSummary", "battery", "bmsHealth"]);
    const onNode = (Object.keys(SOURCES) as ValueSource[]).filter((s) => SOURCES[s].part === "node");
    expect(onNode).toEqual([...RIDE_SOURCES]);
  });

  test("HA keys do not collide with the bridge's own entities on the same device", () => {
    // Device mode keys components by HA key: a collision would silently replace one entity.
    // The link diagnostics are catalogue values: catalogueProblems keeps their keys apart.
    const own = new Set([...identityEntities(), ...alertEntities()].map((e) => e.key));
    const collisions = (c: typeof CATALOGUE) => {
      const perCell = c.families.flatMap((f) => Array.from({ length: 32 }, (_, i) => f.ha?.key(i + 1) ?? ""));
      return [...c.values.flatMap((v) => (v.ha ? [v.ha.key] : [])), ...perCell].filter((k) => own.has(k));
    };
    expect(collisions(CATALOGUE)).toEqual([]);
    expect(collisions(extendCatalogue(CATALOGUE, [{ ...ESTIMATE, ha: { key: "firmware" } }]))).toEqual([
      "firmware",
    ]);
    expect(catalogueProblems(extendCatalogue(CATALOGUE, [{ ...ESTIMATE, ha: { key: "link" } }]))).toEqual([
      "duplicate HA key bms:link",
    ]);
  });

  test("a new link value reaches the Express's link diagnostics on the connection topic", () => {
    const entities = linkEntities(extendCatalogue(CATALOGUE, [TIMEOUTS]));
    expect(entities.map((e) => e.key)).toEqual([
      "connected",
      "link",
      "reconnects",
      "last_error",
      "crc_errors",
      "timeouts",
      "latency",
    ]);
    expect(entities.find((e) => e.key === "timeouts")).toEqual({
      key: "timeouts",
      name: "Timeouts",
      platform: "sensor",
      source: "connection",
      template: "{{ value_json.timeouts }}",
      stateClass: "total_increasing",
      diagnostic: true,
      icon: "mdi:timer-alert",
      bridgeAvailabilityOnly: true,
    });
    // The poll latency reads the state document and follows the device's availability.
    expect(entities.find((e) => e.key === "latency")).toMatchObject({ source: "state" });
    expect(entities.find((e) => e.key === "latency")?.bridgeAvailabilityOnly).toBeUndefined();
  });

  test("a metric kind or history column no consumer of its source writes is a problem", () => {
    const bare = (v: ValueDef, id: string, more: Partial<ValueDef>): ValueDef => {
      const { ha: _ha, history: _history, metric: _metric, ...rest } = v;
      return { ...rest, id, ...more };
    };
    const bad: ValueDef[] = [
      bare(TIMEOUTS, "link.stored", { history: { column: "timeouts", scale: 1 } }),
      bare(ESTIMATE, "bms.counted", { metric: { name: "vesc_x_total", help: "x", kind: "counter" } }),
      bare(ESTIMATE, "bms.observed", { metric: { name: "vesc_y", help: "y", kind: "histogram" } }),
      bare(SPEED, "motor.stored", { history: { column: "speed", scale: 10 } }),
    ];
    expect(catalogueProblems(extendCatalogue(CATALOGUE, bad))).toEqual([
      "link.stored: no history column for link values",
      "bms.counted: counters are link values only",
      "bms.observed: poll values, and only they, are histograms",
      "motor.stored: no history column for motor values",
    ]);
  });

  test("pinned orders keep every item: listed ones first, the rest in their own order", () => {
    expect(inPinnedOrder(["a", "b", "c", "d"], ["c", "a"], (x) => x)).toEqual(["c", "a", "b", "d"]);
  });

  test("a new BMS value reaches HA discovery with its metadata and a working template", () => {
    const presence = bmsPresence(reading.bms as BmsReading, undefined, cat);
    const entity = bmsEntities(presence, undefined, cat).find((e) => e.key === "remaining_charge");
    expect(entity).toMatchObject({
      name: "Remaining charge",
      unit: "Ah",
      precision: 2,
      bmsAvailability: true,
    });
    const device: HaDevice = {
      objectId: "vesc2mqtt_pack",
      name: "Pack",
      stateTopic: "vesc2mqtt/pack/state",
      connectionTopic: "vesc2mqtt/pack/connection",
      alertsTopic: "vesc2mqtt/pack/alerts",
      availabilityTopic: "vesc2mqtt/pack/availability",
      entities: entity ? [entity] : [],
    };
    const opts = {
      prefix: "homeassistant",
      mode: "entity" as const,
      origin: { name: "vesc2mqtt", sw: "0", url: "https://example.invalid" },
      bridgeTopic: "vesc2mqtt/bridge/state",
    };
    const msgs = discoveryMessages(opts, device).messages;
    expect(msgs.map((m) => m.topic)).toEqual(["homeassistant/sensor/vesc2mqtt_pack/remaining_charge/config"]);
    expect(validateDiscovery(msgs)).toEqual([]);
    const config = JSON.parse(msgs[0]?.payload ?? "{}") as { uniq_id: string; val_tpl: string };
    expect(config.uniq_id).toBe("vesc2mqtt_pack_remaining_charge");
    expect(evalSimpleTemplate(config.val_tpl, JSON.parse(JSON.stringify(reading)))).toBe(12.345);
    // Presence "defined": a reading without the field has no such entity.
    const without = bmsEntities(bmsPresence(base.bms as BmsReading, undefined, cat), undefined, cat);
    expect(without.map((e) => e.key)).not.toContain("remaining_charge");
  });

  test("a new motor value reaches HA discovery once sent", () => {
    const keys = motorPresence(reading.can?.["84"]?.values ?? {}, undefined, cat);
    expect(keys).toContain("speed");
    expect(motorEntities(keys, cat).find((e) => e.key === "speed")).toMatchObject({
      name: "Speed",
      deviceClass: "speed",
      template: "{{ value_json['values'].speedKmh }}",
    });
  });

  test("new values reach the Prometheus exposition", async () => {
    const metrics = new Metrics({ catalogue: cat });
    metrics.observeReading(reading);
    const text = await metrics.text();
    expect(text).toContain("# HELP vesc_remaining_amp_hours Remaining charge (bridge estimate)");
    expect(text).toContain('vesc_remaining_amp_hours{device="pack"} 12.345');
    expect(text).toContain('vesc_motor_speed_kmh{device="pack",can_id="84"} 23.25');
    metrics.removeDevice("pack");
    expect(await metrics.text()).not.toContain('vesc_remaining_amp_hours{device="pack"}');
  });

  test("a new link total is a Prometheus counter that survives the poller starting over", async () => {
    let timeouts = 5;
    const status = () => ({
      deviceId: "pack",
      link: "online" as const,
      url: "tcp://127.0.0.1:65102",
      reconnects: 0,
      crcErrors: 0,
      discardedBytes: 0,
      framesReceived: 0,
      timeouts,
    });
    const metrics = new Metrics({
      catalogue: extendCatalogue(CATALOGUE, [TIMEOUTS]),
      statuses: () => [status()],
    });
    const text = await metrics.text();
    expect(text).toContain(
      "# HELP vesc_timeouts_total Polls that timed out\n# TYPE vesc_timeouts_total counter",
    );
    expect(text).toContain('vesc_timeouts_total{device="pack"} 5');
    expect(text).toContain('vesc_link_up{device="pack"} 1');
    timeouts = 2; // a restarted poller counts from 0 again
    expect(await metrics.text()).toContain('vesc_timeouts_total{device="pack"} 7');
    metrics.removeDevice("pack");
    await expect(metrics.registry.getSingleMetric("vesc_timeouts_total")?.get()).resolves.toMatchObject({
      values: [],
    });
  });

  test("a new stored value gets a history column after every existing one", () => {
    const stored = historyScalars(cat);
    expect(stored.slice(0, SCALARS.length).map(([c]) => c)).toEqual(SCALARS.map(([c]) => c));
    expect(stored.slice(SCALARS.length).map(([c, id, scale]) => [c, id, scale])).toEqual([
      ["remaining_ah", "remainingAh", 1000],
    ]);
  });

  test("new values reach the CLI read table and the dashboard catalogue", () => {
    const bmsText = formatReading(toJsonReading(reading), undefined, cat);
    expect(bmsText).toContain("Remaining 12.35 Ah");
    const motorText = formatReading(
      { device: reading.device, values: reading.can?.["84"]?.values },
      undefined,
      cat,
    );
    expect(motorText).toContain("Speed         23.3 km/h");
    const shown = dashboardValues(cat).filter((v) => v.id === "remainingAh" || v.id === "motor.speedKmh");
    expect(shown.map((v) => v.dashboard)).toEqual([
      { label: "Left", digits: 1, scale: 1, unit: "Ah" },
      { label: "Speed", digits: 1, scale: 1, unit: "km/h" },
    ]);
  });
});
