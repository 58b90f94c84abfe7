/**
 * Prometheus metrics (prom-client) on a registry of our own, never the global default one,
 * so two bridges in one process (tests, embedders) do not collide. Value gauges come from
 * the value catalogue (src/values/: each value's `metric`) and mirror the last reading per
 * device; the link's totals (CRC errors, reconnects …, the catalogue's `link` counters) become
 * Prometheus counters that survive a poller restart resetting its own tallies, and the poll
 * latency (a `poll` histogram) is observed per reading.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { ALERT_RULES } from "../alerts/alerts.js";
import type { Alert, Bus } from "../model/bus.js";
import type { BmsReading, DeviceStatus, Reading } from "../model/reading.js";
import { BusSink } from "../model/sink.js";
import {
  CATALOGUE,
  type Catalogue,
  type IndexedValueDef,
  inPinnedOrder,
  type MetricSpec,
  nodePartOf,
  fieldOf,
  numberOf,
  RIDE_SOURCES,
  type ValueDef,
  valuesWith,
} from "../values/index.js";

/**
 * Process-wide count of failed MQTT publishes. The MQTT side calls `inc()`; every
 * Metrics instance exposes it as `vesc2mqtt_mqtt_publish_errors_total`.
 */
export const mqttPublishErrors = {
  count: 0,
  inc(n = 1): void {
    this.count += n;
  },
};

type Labels<K extends string> = Partial<Record<K, string | number>>;

/** The order BMS value families have always been exposed in; others follow in catalogue order. */
const EXPOSITION_ORDER = [
  "vesc_cell_voltage_volts",
  "vesc_cell_balancing",
  "vesc_pack_voltage_volts",
  "vesc_pack_current_amps",
  "vesc_pack_power_watts",
  "vesc_cell_min_volts",
  "vesc_cell_max_volts",
  "vesc_cell_delta_volts",
  "vesc_soc_percent",
  "vesc_soh_percent",
  "vesc_temperature_celsius",
  "vesc_charged_amp_hours",
  "vesc_charged_watt_hours",
  "vesc_discharged_amp_hours",
  "vesc_discharged_watt_hours",
];

/** The bridge's verdicts follow the BMS values; the stuck sensors have always come first. */
const VERDICT_ORDER = ["vesc_temperature_stuck"];

/** The link counters after the latency histogram; the decoder's two have always come first. */
const COUNTER_ORDER = ["vesc_crc_errors_total", "vesc_discarded_bytes_total"];

const NO_LABELS: Readonly<Record<string, string>> = {};
const NO_NUMBERS: readonly number[] = [];

type Metered = ValueDef & { readonly metric: MetricSpec };
type PerSensor = NonNullable<MetricSpec["perSensor"]>;

/** A value as a gauge's number: booleans (verdicts, flags) are 1 and 0; text 1 while it is `oneWhen`. */
function metricNumber(v: ValueDef, part: object | undefined): number | undefined {
  const x = fieldOf(v, part);
  if (typeof x === "string" && v.metric?.oneWhen !== undefined) return x === v.metric.oneWhen ? 1 : 0;
  return typeof x === "number" ? x : typeof x === "boolean" ? (x ? 1 : 0) : undefined;
}

/** A verdict over sensors (MetricSpec.perSensor): one 0/1 series per sensor. */
interface SensorGauge {
  readonly spec: PerSensor;
  readonly gauge: Gauge<string>;
}

/** The series a device has, to remove those that disappeared. */
interface DeviceShape {
  cells: number;
  temps: number;
  readonly can: Set<string>;
  /** Per CAN BMS node (by can_id): its cell and sensor counts, as for the device's own BMS. */
  readonly canBms: Map<string, { readonly cells: number; readonly temps: number }>;
  /** Per SensorGauge: the sensors that have a series. */
  readonly sensors: (readonly number[])[];
}

/** A catalogue value's gauge and the fixed labels of its series. */
interface ValueGauge {
  readonly def: Metered;
  readonly gauge: Gauge<string>;
  readonly labels: Readonly<Record<string, string>>;
}

const gauge = <K extends string>(reg: Registry, name: string, help: string, labelNames: K[]): Gauge<K> =>
  new Gauge({ name, help, labelNames, registers: [reg] });

/** A link total of the catalogue (MetricSpec kind "counter") and its counter. */
interface LinkCounter {
  readonly def: Metered;
  readonly counter: Counter<"device">;
}

/** A poll value of the catalogue (MetricSpec kind "histogram") and its histogram. */
interface PollHistogram {
  readonly def: Metered;
  readonly histogram: Histogram<"device">;
  /** The entry's divideBy, or 1. */
  readonly divideBy: number;
}

/** The bridge's own per-device gauges (reading time, alerts): not catalogue values. */
function statusGauges(reg: Registry) {
  return {
    lastReading: gauge(reg, "vesc_last_reading_timestamp_seconds", "Time of the last reading", ["device"]),
    // can_id only on a CAN BMS node's alerts.
    alert: gauge(reg, "vesc_alert_active", "1 while the alert rule is active", ["device", "can_id", "rule"]),
  };
}

export class Metrics {
  readonly registry = new Registry();
  /**
   * The BMS scalars with a metric (`bms.*`, `bms.stats.*`, `bms.battery.*`, the verdicts), in
   * the order DeviceSnapshot stores them.
   */
  readonly bmsValues: readonly Metered[];
  /** The verdicts over sensors (stuck sensors), in the order DeviceSnapshot stores them. */
  private readonly sensorGauges: readonly SensorGauge[];
  /** Per-cell and per-sensor gauges, by the family's field. */
  private readonly families = new Map<IndexedValueDef["field"], Gauge<string>>();
  private readonly bmsGauges: readonly ValueGauge[];
  private readonly g: ReturnType<typeof statusGauges>;
  /** The link's gauges (link up), set from every status. */
  private readonly linkGauges: readonly ValueGauge[];
  private readonly motor: readonly ValueGauge[];
  private readonly histograms: readonly PollHistogram[];
  private readonly counters: readonly LinkCounter[];
  /** Last total per device and counter (in `counters` order), to turn totals into increments. */
  private readonly seen = new Map<string, number[]>();
  /** Per device: the CAN ids its alerts came from, so removeDevice finds every alert series. */
  private readonly alertCanIds = new Map<string, Set<number>>();
  /** What the gauges need from each device's newest reading, applied at the next scrape (see observeReading). */
  private readonly snapshots = new Map<string, DeviceSnapshot>();
  /** Series per device, to remove cells/sensors that disappeared. */
  private readonly shape = new Map<string, DeviceShape>();

  /**
   * `statuses`: current status of every device, read at each scrape, because pollers
   * emit status on link changes only and CRC/discard counters move in between.
   */
  constructor(
    private readonly options: {
      readonly statuses?: () => readonly DeviceStatus[];
      /** The values to expose (default: the catalogue). */
      readonly catalogue?: Catalogue;
    } = {},
  ) {
    const cat = options.catalogue ?? CATALOGUE;
    // Registration order is exposition order: BMS values, the verdicts, the bridge's gauges, motor values, the rest.
    const byName = new Map<string, Gauge<string>>();
    const register = (m: MetricSpec, labelNames: string[]) => {
      let g = byName.get(m.name);
      if (!g) {
        g = gauge(this.registry, m.name, m.help, labelNames);
        byName.set(m.name, g);
      }
      return g;
    };
    const readingValues = [
      ...valuesWith(cat, "bms", "metric"),
      ...valuesWith(cat, "bmsStats", "metric"),
      ...valuesWith(cat, "cellSummary", "metric"),
      ...valuesWith(cat, "battery", "metric"),
    ];
    const verdicts = valuesWith(cat, "bmsHealth", "metric");
    type Registered = { readonly metric: MetricSpec; readonly labelNames: string[] };
    const valueMetric = (v: Metered): Registered => ({
      metric: v.metric,
      // can_id: a CAN BMS node's series of the same value (absent on the device's own).
      labelNames: [
        "device",
        "can_id",
        ...(v.metric.perSensor ? ["sensor"] : Object.keys(v.metric.labels ?? {})),
      ],
    });
    const bmsMetrics: Registered[] = [
      ...cat.families.flatMap((f) =>
        f.metric ? [{ metric: f.metric, labelNames: ["device", "can_id", f.metric.indexLabel] }] : [],
      ),
      ...readingValues.map(valueMetric),
    ];
    for (const m of [
      ...inPinnedOrder(bmsMetrics, EXPOSITION_ORDER, (x) => x.metric.name),
      ...inPinnedOrder(verdicts.map(valueMetric), VERDICT_ORDER, (x) => x.metric.name),
    ])
      register(m.metric, m.labelNames);
    for (const f of cat.families)
      if (f.metric) this.families.set(f.field, byName.get(f.metric.name) as Gauge<string>);
    this.bmsValues = [...readingValues, ...verdicts.filter((v) => !v.metric.perSensor)];
    this.sensorGauges = verdicts.flatMap((v) =>
      v.metric.perSensor
        ? [{ spec: v.metric.perSensor, gauge: byName.get(v.metric.name) as Gauge<string> }]
        : [],
    );
    this.bmsGauges = this.bmsValues.map((def) => ({
      def,
      gauge: byName.get(def.metric.name) as Gauge<string>,
      labels: def.metric.labels ?? NO_LABELS,
    }));
    const linkValues = valuesWith(cat, "link", "metric");
    this.linkGauges = linkValues
      .filter((v) => (v.metric.kind ?? "gauge") === "gauge")
      .map((def) => ({ def, gauge: register(def.metric, ["device"]), labels: NO_LABELS }));
    this.g = statusGauges(this.registry);
    const nodeValues = [
      valuesWith(cat, "motor", "metric"),
      ...RIDE_SOURCES.map((s) => valuesWith(cat, s, "metric")),
    ];
    this.motor = nodeValues.flat().map((def) => ({
      def,
      gauge: register(def.metric, ["device", "can_id", ...Object.keys(def.metric.labels ?? {})]),
      labels: def.metric.labels ?? NO_LABELS,
    }));
    this.histograms = valuesWith(cat, "poll", "metric").map((def) => ({
      def,
      divideBy: def.metric.divideBy ?? 1,
      histogram: new Histogram({
        name: def.metric.name,
        help: def.metric.help,
        labelNames: ["device"],
        ...(def.metric.buckets ? { buckets: [...def.metric.buckets] } : {}),
        registers: [this.registry],
      }),
    }));
    const totals = linkValues.filter((v) => v.metric.kind === "counter");
    this.counters = inPinnedOrder(totals, COUNTER_ORDER, (v) => v.metric.name).map((def) => ({
      def,
      counter: new Counter({
        name: def.metric.name,
        help: def.metric.help,
        labelNames: ["device"],
        registers: [this.registry],
      }),
    }));
    const counts = () => mqttPublishErrors.count;
    new Counter({
      name: "vesc2mqtt_mqtt_publish_errors_total",
      help: "MQTT publishes that failed",
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(counts());
      },
    });
  }

  private family(field: IndexedValueDef["field"]): Gauge<string> | undefined {
    return this.families.get(field);
  }

  /** Sets the series, or drops it when the value is absent or null (NaN here): never a stale number. */
  private set<K extends string>(g: Gauge<K>, labels: Labels<K>, v: number | undefined): void {
    if (v !== undefined && Number.isFinite(v)) g.set(labels, v);
    else g.remove(labels);
  }

  /**
   * Gauges mirror the LAST reading, so only the poll histograms are fed per reading; the
   * rest is applied from the newest reading of each device when Prometheus scrapes. Setting
   * ~60 labelled gauges per reading (prom-client allocates and hashes on every set) was the
   * bridge's largest per-reading cost at fleet scale.
   */
  observeReading(r: Reading): void {
    let snap = this.snapshots.get(r.deviceId);
    if (!snap) {
      snap = new DeviceSnapshot(
        this.histograms.map((h) => h.histogram.labels({ device: r.deviceId })),
        this.bmsValues,
        this.sensorGauges.map((g) => g.spec),
      );
      this.snapshots.set(r.deviceId, snap);
    }
    // The device's labelled children, made once: labelling per observation cost as much as the rest.
    // Read straight off the reading (a poll value's place, SOURCES.poll): this runs per reading.
    for (let k = 0; k < this.histograms.length; k++) {
      const h = this.histograms[k] as PollHistogram;
      const x = (r as unknown as Record<string, unknown>)[h.def.field];
      if (typeof x === "number") snap.observers[k]?.observe(x / h.divideBy);
    }
    snap.fill(r);
  }

  private applySnapshot(device: string, r: DeviceSnapshot): void {
    const d = { device };
    const shape = this.shape.get(device) ?? {
      cells: 0,
      temps: 0,
      can: new Set<string>(),
      canBms: new Map(),
      sensors: this.sensorGauges.map(() => NO_NUMBERS),
    };
    this.g.lastReading.set(d, Date.parse(r.time) / 1000);
    if (r.hasBms) {
      const cell = this.family("cells");
      const balancing = this.family("balancing");
      const temp = this.family("temperatures");
      for (let i = 0; i < r.cellCount; i++) {
        if (cell) this.set(cell, { device, cell: i + 1 }, r.cells[i]);
        balancing?.set({ device, cell: i + 1 }, r.balancing[i] ?? 0);
      }
      for (let i = r.cellCount; i < shape.cells; i++) {
        cell?.remove({ device, cell: i + 1 });
        balancing?.remove({ device, cell: i + 1 });
      }
      if (temp) for (let i = 0; i < r.tempCount; i++) this.set(temp, { device, sensor: i + 1 }, r.temps[i]);
      for (let i = r.tempCount; i < shape.temps; i++) temp?.remove({ device, sensor: i + 1 });
      // Label objects of one literal shape with the temperature gauge's: the exposition reads
      // every series' labels, and one more object shape there slowed it by ~20 %.
      for (let k = 0; k < this.sensorGauges.length; k++) {
        const gauge = (this.sensorGauges[k] as SensorGauge).gauge;
        const among = r.among[k] ?? NO_NUMBERS;
        const listed = r.listed[k] ?? NO_NUMBERS;
        for (const n of shape.sensors[k] ?? NO_NUMBERS)
          if (!among.includes(n)) gauge.remove({ device, sensor: n });
        for (const n of among) gauge.set({ device, sensor: n }, listed.includes(n) ? 1 : 0);
        shape.sensors[k] = among;
      }
      shape.cells = r.cellCount;
      shape.temps = r.tempCount;
      // After the families: the IC temperature is the last series of the temperature gauge.
      this.bmsGauges.forEach((v, k) => {
        this.set(v.gauge, v.labels === NO_LABELS ? d : { device, ...v.labels }, r.scalars[k]);
      });
    }
    for (const [id, node] of Object.entries(r.can ?? {})) {
      if (!node.values && !node.ride) continue;
      shape.can.add(id);
      for (const v of this.motor) {
        const x = metricNumber(v.def, nodePartOf(v.def, node));
        if (x !== undefined) this.set(v.gauge, { device, can_id: id, ...v.labels }, x);
      }
    }
    for (const [id, node] of Object.entries(r.can ?? {})) {
      if (node.kind !== "bms") continue;
      if (node.bms) this.applyCanBms(device, id, node.bms, shape);
      else this.removeCanBms(device, id, shape);
    }
    this.shape.set(device, shape);
  }

  /**
   * A BMS on CAN: the device's BMS gauges (cells, balancing, temperatures, pack values, battery
   * estimate) labelled with its can_id. Read from the node as it came: few devices have one.
   */
  private applyCanBms(device: string, canId: string, bms: BmsReading, shape: DeviceShape): void {
    const was = shape.canBms.get(canId) ?? { cells: 0, temps: 0 };
    const cell = this.family("cells");
    const balancing = this.family("balancing");
    const temp = this.family("temperatures");
    bms.cells.forEach((v, i) => {
      if (cell) this.set(cell, { device, can_id: canId, cell: i + 1 }, v ?? undefined);
      balancing?.set({ device, can_id: canId, cell: i + 1 }, bms.balancing[i] ? 1 : 0);
    });
    for (let i = bms.cells.length; i < was.cells; i++) {
      cell?.remove({ device, can_id: canId, cell: i + 1 });
      balancing?.remove({ device, can_id: canId, cell: i + 1 });
    }
    if (temp)
      for (let i = 0; i < bms.temperatures.length; i++)
        this.set(temp, { device, can_id: canId, sensor: i + 1 }, bms.temperatures[i] ?? undefined);
    for (let i = bms.temperatures.length; i < was.temps; i++)
      temp?.remove({ device, can_id: canId, sensor: i + 1 });
    for (const v of this.bmsGauges)
      this.set(v.gauge, { device, can_id: canId, ...v.labels }, metricNumber(v.def, bms));
    shape.canBms.set(canId, { cells: bms.cells.length, temps: bms.temperatures.length });
  }

  /** A CAN BMS node that did not answer: no series rather than its last numbers. */
  private removeCanBms(device: string, canId: string, shape: DeviceShape): void {
    const was = shape.canBms.get(canId);
    if (!was) return;
    const cell = this.family("cells");
    const balancing = this.family("balancing");
    const temp = this.family("temperatures");
    for (let i = 0; i < was.cells; i++) {
      cell?.remove({ device, can_id: canId, cell: i + 1 });
      balancing?.remove({ device, can_id: canId, cell: i + 1 });
    }
    for (let i = 0; i < was.temps; i++) temp?.remove({ device, can_id: canId, sensor: i + 1 });
    for (const v of this.bmsGauges) v.gauge.remove({ device, can_id: canId, ...v.labels });
    shape.canBms.delete(canId);
  }

  observeStatus(s: DeviceStatus): void {
    const device = s.deviceId;
    for (const v of this.linkGauges) this.set(v.gauge, { device }, metricNumber(v.def, s));
    const prev = this.seen.get(device);
    const now = this.counters.map((c) => numberOf(c.def, s) ?? 0);
    for (let k = 0; k < now.length; k++) {
      const total = now[k] as number;
      const before = prev?.[k] ?? 0;
      // A smaller total means the poller started over: count the new total as increment.
      (this.counters[k] as LinkCounter).counter.inc({ device }, total >= before ? total - before : total);
    }
    this.seen.set(device, now);
  }

  observeAlert(a: Alert): void {
    const labels =
      a.canId === undefined
        ? { device: a.deviceId, rule: a.rule }
        : { device: a.deviceId, can_id: a.canId, rule: a.rule };
    if (a.canId !== undefined) {
      const ids = this.alertCanIds.get(a.deviceId) ?? new Set<number>();
      ids.add(a.canId);
      this.alertCanIds.set(a.deviceId, ids);
    }
    this.g.alert.set(labels, a.active ? 1 : 0);
  }

  /** Drops every series of a device (an embedder that stopped polling it). */
  removeDevice(device: string): void {
    this.snapshots.delete(device);
    const shape = this.shape.get(device);
    const cell = this.family("cells");
    const balancing = this.family("balancing");
    const temp = this.family("temperatures");
    for (let i = 0; i < (shape?.cells ?? 0); i++) {
      cell?.remove({ device, cell: i + 1 });
      balancing?.remove({ device, cell: i + 1 });
    }
    for (let i = 0; i < (shape?.temps ?? 0); i++) temp?.remove({ device, sensor: i + 1 });
    this.sensorGauges.forEach((g, k) => {
      for (const n of shape?.sensors[k] ?? NO_NUMBERS) g.gauge.remove({ device, sensor: n });
    });
    for (const v of this.bmsGauges) v.gauge.remove({ device, ...v.labels });
    for (const id of shape?.can ?? [])
      for (const v of this.motor) v.gauge.remove({ device, can_id: id, ...v.labels });
    for (const rule of ALERT_RULES) this.g.alert.remove({ device, rule });
    // Over every node an alert came from: a node that went quiet has left shape.canBms already.
    for (const id of this.alertCanIds.get(device) ?? [])
      for (const rule of ALERT_RULES) this.g.alert.remove({ device, can_id: id, rule });
    this.alertCanIds.delete(device);
    if (shape) for (const id of [...shape.canBms.keys()]) this.removeCanBms(device, id, shape);
    for (const v of this.linkGauges) v.gauge.remove({ device });
    this.g.lastReading.remove({ device });
    for (const c of this.counters) c.counter.remove({ device });
    for (const h of this.histograms) h.histogram.remove({ device });
    this.shape.delete(device);
    this.seen.delete(device);
  }

  /** The exposition text. */
  text(): Promise<string> {
    for (const [device, snap] of this.snapshots) {
      if (!snap.fresh) continue;
      this.applySnapshot(device, snap);
      snap.fresh = false;
    }
    for (const s of this.options.statuses?.() ?? []) this.observeStatus(s);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * What the gauges need from a device's newest reading, copied into storage that is reused
 * for every reading of that device. Holding the Reading itself until the next scrape kept
 * some thirty objects per device alive for a second, long enough for the garbage collector
 * to promote them: at fleet scale, most of the old-generation growth.
 */
class DeviceSnapshot {
  constructor(
    /** Per poll histogram: the device's series. */
    readonly observers: readonly { observe(x: number): void }[],
    private readonly values: readonly ValueDef[],
    private readonly perSensor: readonly PerSensor[],
  ) {
    this.scalars = new Float64Array(values.length);
    this.among = perSensor.map(() => undefined);
    this.listed = perSensor.map(() => undefined);
  }
  /** Not yet applied to the gauges. */
  fresh = false;
  time = "";
  hasBms = false;
  cellCount = 0;
  cells = new Float64Array(32);
  balancing = new Uint8Array(32);
  tempCount = 0;
  temps = new Float64Array(8);
  /** The BMS scalars with a metric, in Metrics.bmsValues order; NaN = absent, which set() skips. */
  readonly scalars: Float64Array;
  /** CAN nodes as they came (few devices have any). */
  can: Reading["can"];
  /** Per verdict over numbered sensors: its `among` and `listed` numbers as they came (shared arrays, not copied). */
  readonly among: (readonly number[] | undefined)[];
  readonly listed: (readonly number[] | undefined)[];

  fill(r: Reading): void {
    this.fresh = true;
    this.time = r.time;
    this.can = r.can;
    const bms = r.bms;
    this.hasBms = bms !== undefined;
    if (!bms) return;
    if (bms.cells.length > this.cells.length) {
      this.cells = new Float64Array(bms.cells.length);
      this.balancing = new Uint8Array(bms.cells.length);
    }
    this.cellCount = bms.cells.length;
    for (let i = 0; i < bms.cells.length; i++) {
      this.cells[i] = bms.cells[i] ?? Number.NaN;
      this.balancing[i] = bms.balancing[i] ? 1 : 0;
    }
    if (bms.temperatures.length > this.temps.length) this.temps = new Float64Array(bms.temperatures.length);
    this.tempCount = bms.temperatures.length;
    // null (not applicable / implausible) → NaN, which set() turns into "no series".
    for (let i = 0; i < bms.temperatures.length; i++) this.temps[i] = bms.temperatures[i] ?? Number.NaN;
    for (let k = 0; k < this.perSensor.length; k++) {
      const p = this.perSensor[k] as PerSensor;
      this.among[k] = p.among(bms);
      this.listed[k] = p.listed(bms);
    }
    for (let k = 0; k < this.values.length; k++)
      this.scalars[k] = metricNumber(this.values[k] as ValueDef, bms) ?? Number.NaN;
  }
}

/** Feeds a Metrics instance from the bus. */
export class MetricsSink extends BusSink {
  readonly name = "metrics";

  constructor(
    bus: Bus,
    readonly metrics: Metrics = new Metrics(),
  ) {
    super(bus);
  }

  protected async onStart(): Promise<void> {
    this.listen("reading", (r) => this.metrics.observeReading(r));
    this.listen("status", (s) => this.metrics.observeStatus(s));
    this.listen("alert", (a) => this.metrics.observeAlert(a));
  }
}
