/**
 * Every template Home Assistant would render, rendered by Jinja2 (python3): each
 * value_template, json_attributes_template and availability template of every discovery
 * payload (device and entity mode; the Express's BMS, a CAN motor and a CAN BMS; every
 * firmware cut of the simulator, and the real 6.05 frames) against the state documents our
 * code publishes for those readings. Each must render a value of its entity's type without
 * an undefined-variable warning: a number for a numeric sensor (equal to the document's
 * value for plain lookups), one of `options` for an enum, payload_on/off for a binary sensor,
 * a JSON object for attributes, payload_available/not_available for availability.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BatteryStage } from "../../src/bridge/batteryStage.js";
import { SensorHealth } from "../../src/model/sensorHealth.js";
import type { DeviceStatus, Reading } from "../../src/model/reading.js";
import { alertsDoc } from "../../src/mqtt/homeassistant/alerts.js";
import {
  type DevicePresence,
  EMPTY_PRESENCE,
  haDevices,
  updatePresence,
} from "../../src/mqtt/homeassistant/devices.js";
import {
  type DiscoveryMessage,
  type DiscoveryOptions,
  discoveryMessages,
} from "../../src/mqtt/homeassistant/discovery.js";
import { canStateDocs, connectionDoc, deviceStateDoc } from "../../src/mqtt/state.js";
import { canStateTopic, deviceStateTopic } from "../../src/mqtt/topics.js";
import { decodeBmsValues } from "../../src/protocol/index.js";
import { withStats } from "../../src/session/device.js";
import { Poller } from "../../src/session/poller.js";
import { startSimulator } from "../../src/sim/index.js";
import { tcpTransport } from "../../src/transport/tcp.js";
import { ALERT_RULES } from "../../src/alerts/alerts.js";
import { fw605BmsFrames, fw605DeviceInfo, framePayload } from "../helpers/fw605Sequence.js";
import { type JinjaCase, type JinjaResult, jinjaPython, renderJinja } from "../helpers/jinja.js";
import { requireIntegration } from "../helpers/require.js";
import { waitFor } from "../helpers/waitFor.js";

const BASE = "vesc2mqtt";
const opts = (mode: "device" | "entity"): DiscoveryOptions => ({
  prefix: "homeassistant",
  mode,
  origin: { name: "vesc2mqtt", sw: "0.0.0", url: "https://example.invalid/vesc2mqtt" },
  bridgeTopic: `${BASE}/bridge/state`,
});
const desc = {
  id: "pack",
  name: "Garage pack",
  can: [
    { id: 84, kind: "motor" as const, name: "Front motor" },
    { id: 10, kind: "bms" as const },
  ],
};

/** Firmware cuts the simulator distinguishes (layouts change at 6.00, 6.02, 6.05, 6.06, 7.00). */
const CUTS: readonly { label: string; firmware: { major: number; minor: number }; oldFirmware?: boolean }[] =
  [
    { label: "pre-5 (old layouts)", firmware: { major: 6, minor: 5 }, oldFirmware: true },
    { label: "5.03", firmware: { major: 5, minor: 3 } },
    { label: "6.00", firmware: { major: 6, minor: 0 } },
    { label: "6.02", firmware: { major: 6, minor: 2 } },
    { label: "6.05", firmware: { major: 6, minor: 5 } },
    { label: "6.06", firmware: { major: 6, minor: 6 } },
    { label: "7.00", firmware: { major: 7, minor: 0 } },
  ];

const ALL_GROUPS = ["values", "setup", "stats", "refloat", "imu", "battery_cut"] as const;

async function simReadings(cut: (typeof CUTS)[number], count: number): Promise<Reading[]> {
  const sim = await startSimulator({
    port: 0,
    cells: 20,
    canIds: [84],
    bmsCanId: 10,
    tempSlots: 24,
    tempSensors: 4,
    seed: 3,
    // Riding at 6.05, so both the riding and the idle ride states render.
    scenario: cut.label === "6.05" ? "riding" : "idle",
    firmware: cut.firmware,
    ...(cut.oldFirmware ? { faults: { oldFirmware: true } } : {}),
  });
  const poller = new Poller({
    deviceId: "pack",
    transport: tcpTransport({ host: sim.host, port: sim.port }),
    url: sim.url,
    intervalMs: 100,
    requestTimeoutMs: 1000,
    // Motor nodes read every ride group their firmware has (docs/ride.md).
    can: desc.can.map((c) => ({
      id: c.id,
      kind: c.kind,
      ...(c.kind === "motor" ? { groups: ALL_GROUPS } : {}),
    })),
  });
  const readings: Reading[] = [];
  poller.on("reading", (r) => readings.push(r));
  poller.on("error", () => undefined);
  poller.start();
  try {
    await waitFor(() => readings.length >= count, { timeoutMs: 10_000, what: `${count} readings` });
  } finally {
    await poller.stop();
    await sim.close();
  }
  return readings;
}

/** Three minutes of 1 Hz polls of the real device: the captured replies (~7 Hz over 21 s), looped. */
function realReadings(): Reading[] {
  const device = fw605DeviceInfo();
  const frames = fw605BmsFrames();
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  return Array.from({ length: 180 }, (_, s) => {
    const f = frames[Math.floor((s * frames.length) / 21) % frames.length];
    if (!f) throw new Error("no frame");
    return {
      deviceId: "pack",
      time: new Date(t0 + s * 1000).toISOString(),
      device,
      bms: withStats(decodeBmsValues(framePayload(f.frame))),
      latencyMs: 12,
    };
  });
}

interface Component {
  readonly platform: string;
  readonly config: Record<string, unknown>;
  readonly where: string;
}

function components(msgs: readonly DiscoveryMessage[]): Component[] {
  const out: Component[] = [];
  for (const m of msgs) {
    if (m.payload === "") continue;
    const payload = JSON.parse(m.payload) as Record<string, unknown>;
    const cmps = payload.cmps as Record<string, Record<string, unknown>> | undefined;
    if (cmps) {
      for (const [key, c] of Object.entries(cmps))
        if (c.uniq_id) out.push({ platform: String(c.p), config: c, where: `${m.topic}#${key}` });
    } else {
      out.push({ platform: m.topic.split("/")[1] ?? "", config: payload, where: m.topic });
    }
  }
  return out;
}

/** Everything HA may find retained on the topics a template reads, per topic (several variants). */
function payloadsOf(r: Reading): Map<string, string[]> {
  const topics = new Map<string, string[]>();
  const add = (topic: string, payload: string) => topics.set(topic, [...(topics.get(topic) ?? []), payload]);
  add(deviceStateTopic(BASE, r.deviceId), deviceStateDoc(r).payload);
  for (const c of canStateDocs(r)) add(canStateTopic(BASE, r.deviceId, c.canId ?? -1), c.payload);
  const status: DeviceStatus = {
    deviceId: r.deviceId,
    link: "online",
    url: "tcp://127.0.0.1:65102",
    reconnects: 0,
    lastReadingTime: r.time,
    crcErrors: 0,
    discardedBytes: 0,
    framesReceived: 10,
  };
  add(`${BASE}/${r.deviceId}/connection`, connectionDoc(status));
  add(
    `${BASE}/${r.deviceId}/connection`,
    connectionDoc({ ...status, link: "offline", reconnects: 3, lastError: "connect ECONNREFUSED" }),
  );
  add(`${BASE}/${r.deviceId}/alerts`, JSON.stringify(alertsDoc([])));
  add(
    `${BASE}/${r.deviceId}/alerts`,
    JSON.stringify(
      alertsDoc(
        ALERT_RULES.map((rule) => ({
          deviceId: r.deviceId,
          rule,
          active: true,
          message: `${rule} x`,
          time: r.time,
        })),
      ),
    ),
  );
  return topics;
}

interface Check {
  readonly kind: "value" | "attributes" | "availability";
  readonly component: Component;
  readonly payload: string;
  readonly topic: string;
}

const NUMERIC_CLASSES = new Set([
  "voltage",
  "current",
  "power",
  "temperature",
  "battery",
  "humidity",
  "energy",
  "pressure",
  "duration",
]);

const PATH = String.raw`((?:\.[A-Za-z_]\w*|\[\d+\]|\['[^']+'\])+)`;

/** A plain `{{ value_json.a.b[0]['c'] }}` lookup, as a path, so its output can be compared with the document. */
function plainPath(template: string): (string | number)[] | undefined {
  return pathOf(new RegExp(String.raw`^\{\{ value_json${PATH} \}\}$`).exec(template)?.[1]);
}

/** The looked-up path of a `{% set x = value_json.a.b %}…` template (a scaled value, None when null). */
function setPath(template: string): (string | number)[] | undefined {
  return pathOf(new RegExp(String.raw`^\{% set \w+ = value_json${PATH} %\}`).exec(template)?.[1]);
}

function pathOf(m: string | undefined): (string | number)[] | undefined {
  if (!m) return undefined;
  return [...m.matchAll(/\.([A-Za-z_]\w*)|\[(\d+)\]|\['([^']+)'\]/g)].map((p) =>
    p[2] !== undefined ? Number(p[2]) : (p[1] ?? p[3] ?? ""),
  );
}

function lookup(doc: unknown, path: readonly (string | number)[]): unknown {
  let cur = doc;
  for (const p of path) cur = (cur as Record<string | number, unknown> | undefined)?.[p];
  return cur;
}

/** What is wrong with one rendered template (undefined: nothing). */
function problem(check: Check, r: JinjaResult): string | undefined {
  if (r.error !== undefined) return `error: ${r.error}`;
  if (r.warnings.length > 0) return `undefined in template: ${r.warnings.join("; ")}`;
  const out = r.output ?? "";
  if (out === "") return "rendered empty";
  const c = check.component.config;
  if (check.kind === "availability") {
    const entry = (c.avty as Record<string, unknown>[]).find((a) => a.t === check.topic) ?? {};
    const ok = [entry.pl_avail ?? "online", entry.pl_not_avail ?? "offline"];
    return ok.includes(out) ? undefined : `availability "${out}" not in ${JSON.stringify(ok)}`;
  }
  if (check.kind === "attributes") {
    try {
      const v = JSON.parse(out);
      return v !== null && typeof v === "object" && !Array.isArray(v)
        ? undefined
        : `attributes not an object: ${out}`;
    } catch {
      return `attributes not JSON: ${out}`;
    }
  }
  if (check.component.platform === "binary_sensor") {
    const ok = [c.pl_on ?? "ON", c.pl_off ?? "OFF"];
    return ok.includes(out) ? undefined : `binary state "${out}" not in ${JSON.stringify(ok)}`;
  }
  if (c.dev_cla === "enum") {
    const ops = c.ops as string[];
    if (!ops.includes(out)) return `enum state "${out}" not in options`;
    // The state HA shows is the document's: the motor fault name, the link state.
    const doc = JSON.parse(check.payload) as { values?: { faultName?: string }; link?: string };
    const fault = doc.values?.faultName?.replace(/^FAULT_CODE_/, "").toLowerCase();
    const want = String(c.uniq_id).endsWith("_fault")
      ? fault !== undefined && ops.includes(fault)
        ? fault
        : "unknown"
      : String(c.uniq_id).endsWith("_link")
        ? doc.link
        : out;
    return out === want ? undefined : `enum state "${out}", the state document says "${want}"`;
  }
  const numeric =
    c.unit_of_meas !== undefined || c.stat_cla !== undefined || NUMERIC_CLASSES.has(String(c.dev_cla));
  if (numeric) {
    const path = plainPath(String(c.val_tpl));
    // HA's MQTT sensor takes "None" as "no value" (unknown): right for a null in the document.
    const looked = path ?? setPath(String(c.val_tpl));
    if (out === "None" && looked && lookup(JSON.parse(check.payload), looked) === null) return undefined;
    const n = Number(out);
    if (!Number.isFinite(n)) return `numeric sensor rendered "${out}"`;
    if (path) {
      const want = lookup(JSON.parse(check.payload), path);
      if (typeof want !== "number" || Math.abs(want - n) > 1e-9 * Math.max(1, Math.abs(want)))
        return `rendered ${out}, the state document has ${JSON.stringify(want)}`;
    }
    return undefined;
  }
  return out.length <= 255 ? undefined : `text state longer than 255 characters`;
}

const python = jinjaPython();
const suite = python ? describe : requireIntegration ? describe : describe.skip;

suite(`Home Assistant templates rendered by Jinja2${python ? "" : " (skipped: no python3 with jinja2)"}`, () => {
  const scenarios = new Map<string, Reading[]>();

  beforeAll(async () => {
    if (!python)
      throw new Error(
        "python3 with jinja2 is required (REQUIRE_INTEGRATION=1): apt-get install python3-jinja2",
      );
    for (const cut of CUTS) scenarios.set(`simulator ${cut.label}`, await simReadings(cut, 3));
    scenarios.set("real Express 6.05 frames", realReadings());
  }, 60_000);
  afterAll(() => scenarios.clear());

  function checksFor(readings: readonly Reading[]): Check[] {
    // As the bridge publishes them: sensor verdicts, then the battery estimates (bms.battery).
    const health = new SensorHealth();
    const battery = new BatteryStage({ deviceId: "pack" });
    const published = readings.map((r) => battery.apply(health.apply(r)));
    let presence: DevicePresence = EMPTY_PRESENCE;
    for (const r of published) presence = updatePresence(presence, r);
    const devices = haDevices(BASE, desc, presence);
    const checks: Check[] = [];
    // Templates against a few of the documents (first, middle, last), every variant of the others.
    const picks = [published[0], published[Math.floor(published.length / 2)], published.at(-1)];
    for (const mode of ["device", "entity"] as const) {
      const comps = components(devices.flatMap((d) => discoveryMessages(opts(mode), d).messages));
      for (const r of picks) {
        if (!r) continue;
        const topics = payloadsOf(r);
        for (const component of comps) {
          const c = component.config;
          const stateTopic = String(c.stat_t);
          for (const payload of topics.get(stateTopic) ?? [])
            checks.push({ kind: "value", component, payload, topic: stateTopic });
          if (c.json_attr_tpl !== undefined)
            for (const payload of topics.get(String(c.json_attr_t)) ?? [])
              checks.push({ kind: "attributes", component, payload, topic: String(c.json_attr_t) });
          for (const a of (c.avty as Record<string, unknown>[] | undefined) ?? []) {
            if (a.val_tpl === undefined) continue;
            for (const payload of topics.get(String(a.t)) ?? [])
              checks.push({ kind: "availability", component, payload, topic: String(a.t) });
          }
        }
      }
    }
    return checks;
  }

  function templateOf(check: Check): string {
    const c = check.component.config;
    if (check.kind === "value") return String(c.val_tpl);
    if (check.kind === "attributes") return String(c.json_attr_tpl);
    const entry = (c.avty as Record<string, unknown>[]).find((a) => a.t === check.topic);
    return String(entry?.val_tpl);
  }

  test("every template of every discovery payload renders a value of its entity's type", () => {
    const all: { scenario: string; check: Check }[] = [];
    for (const [scenario, readings] of scenarios)
      for (const check of checksFor(readings)) all.push({ scenario, check });
    // Identical (template, payload) pairs render once.
    const cases = new Map<string, JinjaCase>();
    const keyOf = (c: Check) => JSON.stringify([templateOf(c), c.payload]);
    for (const { check } of all) {
      const key = keyOf(check);
      if (!cases.has(key))
        cases.set(key, { id: String(cases.size), template: templateOf(check), value: check.payload });
    }
    const results = renderJinja(python ?? "python3", [...cases.values()]);
    const failures = new Set<string>();
    const seen = { value: 0, attributes: 0, availability: 0 };
    const platforms = new Set<string>();
    const uniqueIds = new Set<string>();
    for (const { scenario, check } of all) {
      const r = results.get(cases.get(keyOf(check))?.id ?? "");
      if (!r) throw new Error("a case was not rendered");
      seen[check.kind]++;
      uniqueIds.add(String(check.component.config.uniq_id));
      platforms.add(
        `${check.component.platform}:${String(check.component.config.uniq_id).replace(/^vesc2mqtt_pack(_can\d+)?_/, "")}`,
      );
      const p = problem(check, r);
      if (p)
        failures.add(`${scenario}: ${check.component.where} [${check.kind}] ${templateOf(check)} → ${p}`);
    }
    expect([...failures].slice(0, 40)).toEqual([]);
    // The suite reached what it claims to: motor and CAN BMS entities, attributes and availability templates.
    expect(seen.value).toBeGreaterThan(1000);
    for (const key of [
      "sensor:erpm",
      "sensor:fault",
      "sensor:duty_cycle",
      "sensor:cell_20_voltage",
      "binary_sensor:alert_stale",
      "sensor:soc_estimate",
      "sensor:bridge_energy_charged",
      "sensor:bridge_energy_discharged",
      "sensor:time_to_empty",
      "sensor:max_cell_resistance",
      "sensor:max_cell_drift",
      "binary_sensor:charging",
      "binary_sensor:alert_cell_drift",
    ])
      expect(platforms).toContain(key);
    expect(uniqueIds).toContain("vesc2mqtt_pack_can10_pack_voltage");
    expect(uniqueIds).toContain("vesc2mqtt_pack_can84_erpm");
    for (const key of [
      "speed",
      "trip",
      "odometer",
      "battery_level",
      "energy_left",
      "energy_per_km",
      "ride_state",
      "footpad_left",
      "footpad_right",
      "pitch",
      "roll",
      "stats_speed_max",
      "balance_package",
      "battery_cut_end",
    ])
      expect(uniqueIds).toContain(`vesc2mqtt_pack_can84_${key}`);
  });

  test("real 6.05 data after 3 minutes: temperature 4 is stuck in HA; frozen BMS data shows", () => {
    const health = new SensorHealth({ bmsStaleAfterMs: 60_000 });
    const published = (scenarios.get("real Express 6.05 frames") ?? []).map((r) => health.apply(r));
    const lastReading = published.at(-1);
    if (!lastReading) throw new Error("no readings");
    let presence: DevicePresence = EMPTY_PRESENCE;
    for (const r of published) presence = updatePresence(presence, r);
    const [express] = haDevices(BASE, desc, presence);
    const comps = new Map(
      components(express ? discoveryMessages(opts("device"), express).messages : []).map((c) => [
        String(c.config.uniq_id).replace("vesc2mqtt_pack_", ""),
        c.config,
      ]),
    );
    const live = deviceStateDoc(lastReading).payload;
    // The same reply again and again for a minute: the Express's cache.
    const frozenHealth = new SensorHealth();
    const t0 = Date.parse(lastReading.time);
    let frozen = lastReading;
    for (let s = 0; s <= 61; s++)
      frozen = frozenHealth.apply({ ...lastReading, time: new Date(t0 + s * 1000).toISOString() });
    expect(frozen.bms?.stale).toBe(true);
    const frozenDoc = deviceStateDoc(frozen).payload;
    const cases: (JinjaCase & { want: string })[] = [
      {
        id: "t4",
        template: String(comps.get("temperature_4")?.json_attr_tpl),
        value: live,
        want: '{"stuck": true}',
      },
      {
        id: "t1",
        template: String(comps.get("temperature_1")?.json_attr_tpl),
        value: live,
        want: '{"stuck": false}',
      },
      {
        id: "stuck",
        template: String(comps.get("stuck_sensors")?.val_tpl),
        value: live,
        want: "temperature 4",
      },
      { id: "stale-off", template: String(comps.get("bms_stale")?.val_tpl), value: live, want: "OFF" },
      { id: "stale-on", template: String(comps.get("bms_stale")?.val_tpl), value: frozenDoc, want: "ON" },
    ];
    const results = renderJinja(python ?? "python3", cases);
    expect(cases.map((c) => [c.id, results.get(c.id)?.output])).toEqual(cases.map((c) => [c.id, c.want]));
    // BMS values also follow the BMS availability topic (offline while frozen: HaSink publishes it).
    expect(comps.get("cell_1_voltage")?.avty).toContainEqual({ t: "vesc2mqtt/pack/bms/availability" });
    expect(comps.get("bms_stale")?.avty).not.toContainEqual({ t: "vesc2mqtt/pack/bms/availability" });
    // No SOC entity: the real BMS never reports SOC.
    expect(comps.has("soc")).toBe(false);
    expect(comps.has("temperature_4")).toBe(true);
  });
});
