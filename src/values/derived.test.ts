/**
 * Adding a derived value is one catalogue entry plus its computation: a throwaway verdict
 * ("pack hot", and which sensors are hot) computed by a stage of this test reaches HA
 * discovery (staying available while the BMS data is frozen), the metrics (0/1, one series
 * per sensor), the CLI table and the dashboard catalogue, with no consumer touched.
 */
import { describe, expect, test } from "vitest";
import { validateDiscovery } from "../../test/helpers/haRules.js";
import { jinjaPython, renderJinja } from "../../test/helpers/jinja.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import { requireIntegration } from "../../test/helpers/require.js";
import { formatReading, toJsonReading } from "../cli/format.js";
import { Metrics } from "../metrics/metrics.js";
import type { BmsReading, Reading } from "../model/reading.js";
import { deviceStateDoc } from "../mqtt/state.js";
import { bmsEntities, bmsPresence } from "../mqtt/homeassistant/bmsEntities.js";
import { discoveryMessages, type HaDevice } from "../mqtt/homeassistant/discovery.js";
import { dashboardValues } from "./dashboard.js";
import { CATALOGUE, catalogueProblems, extendCatalogue, type ValueDef } from "./index.js";

type HotBms = BmsReading & { readonly hot?: boolean; readonly hotSensors?: readonly number[] };

/** The computation: what a bridge stage would set on every reading. */
function markHot(r: Reading, limitC: number): Reading {
  const bms = r.bms as BmsReading;
  const hotSensors = bms.temperatures.flatMap((t, i) => (typeof t === "number" && t > limitC ? [i + 1] : []));
  return { ...r, bms: { ...bms, hot: hotSensors.length > 0, hotSensors } as HotBms };
}

/** The entries: a verdict and its per-sensor detail. */
const HOT: readonly ValueDef[] = [
  {
    id: "packHot",
    source: "bmsHealth",
    field: "hot",
    label: "Pack hot",
    ha: {
      key: "pack_hot",
      platform: "binary_sensor",
      deviceClass: "heat",
      template: "{{ 'ON' if (value_json.bms | default({})).hot | default(false) else 'OFF' }}",
      staysAvailable: true,
      diagnostic: true,
    },
    metric: { name: "vesc_pack_hot", help: "1 while a temperature sensor reads above the limit" },
    cli: { label: "Hot", digits: 0 },
    dashboard: { label: "Hot", digits: 0 },
  },
  {
    id: "hotSensors",
    source: "bmsHealth",
    field: "hotSensors",
    label: "Hot sensors",
    metric: {
      name: "vesc_temperature_hot",
      help: "1 while the sensor reads above the limit, else 0",
      perSensor: {
        among: (bms) => bms.temperatures.flatMap((t, i) => (typeof t === "number" ? [i + 1] : [])),
        listed: (bms) => (bms as HotBms).hotSensors,
      },
    },
  },
];

const cat = extendCatalogue(CATALOGUE, HOT);
const base = syntheticReading({ deviceId: "pack", time: 1_700_000_000_000 });
// Sensors read 25.5, 26.25 and 27 °C: a limit of 26 makes sensor 2 and 3 hot, 30 none.
const hot = markHot(base, 26);
const cool = markHot(base, 30);

const device: HaDevice = {
  objectId: "vesc2mqtt_pack",
  name: "Pack",
  stateTopic: "vesc2mqtt/pack/state",
  connectionTopic: "vesc2mqtt/pack/connection",
  alertsTopic: "vesc2mqtt/pack/alerts",
  availabilityTopic: "vesc2mqtt/pack/availability",
  bmsAvailabilityTopic: "vesc2mqtt/pack/bms/availability",
  entities: [],
};
const opts = {
  prefix: "homeassistant",
  mode: "entity" as const,
  origin: { name: "vesc2mqtt", sw: "0", url: "https://example.invalid" },
  bridgeTopic: "vesc2mqtt/bridge/state",
};

describe("a derived value is one catalogue entry plus its computation", () => {
  test("the entries fit the catalogue", () => {
    expect(catalogueProblems(cat)).toEqual([]);
  });

  test("Home Assistant: a binary sensor after the bridge's own verdicts, available while the data is frozen", () => {
    const entities = bmsEntities(bmsPresence(hot.bms as BmsReading, undefined, cat), undefined, cat);
    const keys = entities.map((e) => e.key);
    expect(keys.slice(-3)).toEqual(["bms_stale", "stuck_sensors", "pack_hot"]);
    const entity = entities.find((e) => e.key === "pack_hot");
    expect(entity).toMatchObject({ platform: "binary_sensor", name: "Pack hot", deviceClass: "heat" });
    const pack = entities.find((e) => e.key === "pack_voltage");
    const msgs = discoveryMessages(opts, {
      ...device,
      entities: [entity, pack].filter((e) => e !== undefined),
    }).messages;
    expect(validateDiscovery(msgs)).toEqual([]);
    const avty = msgs.map((m) => (JSON.parse(m.payload) as { avty: unknown }).avty);
    expect(avty[0]).toEqual([{ t: "vesc2mqtt/bridge/state" }, { t: "vesc2mqtt/pack/availability" }]);
    // An ordinary BMS value does follow the BMS availability.
    expect(avty[1]).toContainEqual({ t: "vesc2mqtt/pack/bms/availability" });
  });

  const python = jinjaPython();
  test.runIf(python !== undefined || requireIntegration)(
    "its template renders ON and OFF from the state document (Jinja2)",
    () => {
      if (!python) throw new Error("python3 with jinja2 is required (REQUIRE_INTEGRATION=1)");
      const template = String(HOT[0]?.ha?.template);
      const results = renderJinja(python, [
        { id: "hot", template, value: deviceStateDoc(hot).payload },
        { id: "cool", template, value: deviceStateDoc(cool).payload },
        { id: "bare", template, value: deviceStateDoc(base).payload },
      ]);
      expect(["hot", "cool", "bare"].map((id) => results.get(id)?.output)).toEqual(["ON", "OFF", "OFF"]);
    },
  );

  test("metrics: the verdict as 0/1, one series per sensor; a device removed leaves none", async () => {
    const metrics = new Metrics({ catalogue: cat });
    metrics.observeReading(hot);
    let text = await metrics.text();
    expect(text).toContain("# HELP vesc_pack_hot 1 while a temperature sensor reads above the limit");
    expect(text).toContain('vesc_pack_hot{device="pack"} 1');
    expect(text).toContain('vesc_temperature_hot{device="pack",sensor="1"} 0');
    expect(text).toContain('vesc_temperature_hot{device="pack",sensor="2"} 1');
    expect(text).toContain('vesc_temperature_hot{device="pack",sensor="3"} 1');
    // Sensor 3 stops reading (null): its series goes; the others follow the new verdict.
    const b = cool.bms as BmsReading;
    metrics.observeReading({ ...cool, bms: { ...b, temperatures: [25.5, 26.25, null] } });
    text = await metrics.text();
    expect(text).toContain('vesc_pack_hot{device="pack"} 0');
    expect(text).toContain('vesc_temperature_hot{device="pack",sensor="2"} 0');
    expect(text).not.toContain('vesc_temperature_hot{device="pack",sensor="3"}');
    metrics.removeDevice("pack");
    text = await metrics.text();
    expect(text).not.toContain('vesc_pack_hot{device="pack"}');
    expect(text).not.toContain('vesc_temperature_hot{device="pack"');
  });

  test("the CLI read table and the dashboard catalogue", () => {
    expect(formatReading(toJsonReading(hot), undefined, cat).split("\n")).toContain("Hot       yes");
    expect(formatReading(toJsonReading(cool), undefined, cat).split("\n")).toContain("Hot       no");
    expect(formatReading(toJsonReading(base), undefined, cat)).not.toContain("Hot ");
    expect(dashboardValues(cat).find((v) => v.id === "packHot")).toMatchObject({
      source: "bmsHealth",
      field: "hot",
      within: [],
      dashboard: { label: "Hot", digits: 0, scale: 1, unit: "" },
    });
  });
});
