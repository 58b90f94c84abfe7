/**
 * Prometheus metrics (prom-client) on a registry of our own, never the global default one,
 * so two bridges in one process (tests, embedders) do not collide. Values mirror the last
 * reading/status per device; device counters (CRC errors, reconnects …) become Prometheus
 * counters that survive a poller restart resetting its own tallies.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Alert, Bus, Sink } from "../model/bus.js";
import type { DeviceStatus, MotorValues, Reading } from "../model/reading.js";
import { ALERT_RULES } from "../alerts/alerts.js";

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

const MOTOR_GAUGES: ReadonlyArray<readonly [keyof MotorValues, string, string]> = [
  ["inputVoltage", "vesc_motor_input_voltage_volts", "Motor controller input voltage"],
  ["currentMotor", "vesc_motor_current_amps", "Motor current"],
  ["currentInput", "vesc_motor_input_current_amps", "Motor controller input current"],
  ["dutyCycle", "vesc_motor_duty_cycle_ratio", "Duty cycle (-1..1)"],
  ["erpm", "vesc_motor_erpm", "Electrical RPM"],
  ["tempFet", "vesc_motor_fet_temperature_celsius", "MOSFET temperature"],
  ["tempMotor", "vesc_motor_temperature_celsius", "Motor temperature"],
  ["fault", "vesc_motor_fault_code", "mc_fault_code (0 = none)"],
];

export class Metrics {
  readonly registry = new Registry();
  private readonly g = {
    cell: this.gauge("vesc_cell_voltage_volts", "Cell voltage (cell 1-based)", ["device", "cell"]),
    balancing: this.gauge("vesc_cell_balancing", "1 while the cell is being balanced", ["device", "cell"]),
    pack: this.gauge("vesc_pack_voltage_volts", "Pack voltage", ["device"]),
    current: this.gauge(
      "vesc_pack_current_amps",
      "Pack current the BMS measures (i_in_ic unless only i_in reads; positive = charging)",
      ["device"],
    ),
    power: this.gauge("vesc_pack_power_watts", "Pack power (pack voltage × pack current)", ["device"]),
    cellMin: this.gauge("vesc_cell_min_volts", "Lowest cell voltage", ["device"]),
    cellMax: this.gauge("vesc_cell_max_volts", "Highest cell voltage", ["device"]),
    cellDelta: this.gauge("vesc_cell_delta_volts", "Highest minus lowest cell voltage", ["device"]),
    soc: this.gauge("vesc_soc_percent", "State of charge", ["device"]),
    soh: this.gauge("vesc_soh_percent", "State of health", ["device"]),
    temp: this.gauge("vesc_temperature_celsius", "BMS temperature sensors (sensor 1-based, or ic)", [
      "device",
      "sensor",
    ]),
    ahChg: this.gauge("vesc_charged_amp_hours", "Amp-hours charged, device lifetime counter", ["device"]),
    whChg: this.gauge("vesc_charged_watt_hours", "Watt-hours charged, device lifetime counter", ["device"]),
    ahDis: this.gauge("vesc_discharged_amp_hours", "Amp-hours discharged, device lifetime counter", [
      "device",
    ]),
    whDis: this.gauge("vesc_discharged_watt_hours", "Watt-hours discharged, device lifetime counter", [
      "device",
    ]),
    stuck: this.gauge(
      "vesc_temperature_stuck",
      "1 while a fitted temperature sensor is stuck (unchanged while others move), else 0",
      ["device", "sensor"],
    ),
    bmsStale: this.gauge(
      "vesc_bms_data_stale",
      "1 while the BMS reply has not changed for bms.stale_after_s",
      ["device"],
    ),
    link: this.gauge("vesc_link_up", "1 while the device link is online", ["device"]),
    lastReading: this.gauge("vesc_last_reading_timestamp_seconds", "Time of the last reading", ["device"]),
    alert: this.gauge("vesc_alert_active", "1 while the alert rule is active", ["device", "rule"]),
  };
  private readonly motor = new Map(
    MOTOR_GAUGES.map(([key, name, help]) => [key, this.gauge(name, help, ["device", "can_id"])] as const),
  );
  private readonly latency = new Histogram({
    name: "vesc_poll_latency_seconds",
    help: "Round-trip time of one poll",
    labelNames: ["device"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly c = {
    crc: this.counter("vesc_crc_errors_total", "Frames dropped for a bad CRC"),
    discarded: this.counter("vesc_discarded_bytes_total", "Bytes the frame decoder discarded"),
    reconnects: this.counter("vesc_reconnects_total", "Reconnects of the device link"),
    frames: this.counter("vesc_frames_received_total", "Frames received from the device"),
    implausible: this.counter(
      "vesc_implausible_values_total",
      "BMS values published as null because no pack can have them (docs/protocol.md)",
    ),
  };
  /** Last cumulative value per device and counter, to turn totals into increments. */
  private readonly seen = new Map<string, Record<keyof Metrics["c"], number>>();
  /** What the gauges need from each device's newest reading, applied at the next scrape (see observeReading). */
  private readonly snapshots = new Map<string, DeviceSnapshot>();
  /** Series count per device, to remove cells/sensors that disappeared. */
  private readonly shape = new Map<string, { cells: number; temps: number; can: Set<string> }>();

  /**
   * `statuses`: current status of every device, read at each scrape, because pollers
   * emit status on link changes only and CRC/discard counters move in between.
   */
  constructor(private readonly options: { readonly statuses?: () => readonly DeviceStatus[] } = {}) {
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

  private gauge<K extends string>(name: string, help: string, labelNames: K[]): Gauge<K> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  private counter(name: string, help: string): Counter<"device"> {
    return new Counter({ name, help, labelNames: ["device"], registers: [this.registry] });
  }

  /** Sets the series, or drops it when the value is absent or null (NaN here): never a stale number. */
  private set<K extends string>(g: Gauge<K>, labels: Labels<K>, v: number | undefined): void {
    if (v !== undefined && Number.isFinite(v)) g.set(labels, v);
    else g.remove(labels);
  }

  /**
   * Gauges mirror the LAST reading, so only the latency histogram is fed per reading; the
   * rest is applied from the newest reading of each device when Prometheus scrapes. Setting
   * ~60 labelled gauges per reading (prom-client allocates and hashes on every set) was the
   * bridge's largest per-reading cost at fleet scale.
   */
  observeReading(r: Reading): void {
    let snap = this.snapshots.get(r.deviceId);
    if (!snap) {
      snap = new DeviceSnapshot(this.latency.labels({ device: r.deviceId }));
      this.snapshots.set(r.deviceId, snap);
    }
    // The device's labelled child, made once: labelling per observation cost as much as the rest.
    if (r.latencyMs !== undefined) snap.latency.observe(r.latencyMs / 1000);
    snap.fill(r);
  }

  private applySnapshot(device: string, r: DeviceSnapshot): void {
    const d = { device };
    const shape = this.shape.get(device) ?? { cells: 0, temps: 0, can: new Set<string>() };
    this.g.lastReading.set(d, Date.parse(r.time) / 1000);
    if (r.hasBms) {
      for (let i = 0; i < r.cellCount; i++) {
        this.set(this.g.cell, { device, cell: i + 1 }, r.cells[i]);
        this.g.balancing.set({ device, cell: i + 1 }, r.balancing[i] ?? 0);
      }
      for (let i = r.cellCount; i < shape.cells; i++) {
        this.g.cell.remove({ device, cell: i + 1 });
        this.g.balancing.remove({ device, cell: i + 1 });
      }
      for (let i = 0; i < r.tempCount; i++) this.set(this.g.temp, { device, sensor: i + 1 }, r.temps[i]);
      for (let i = r.tempCount; i < shape.temps; i++) this.g.temp.remove({ device, sensor: i + 1 });
      // Only fitted sensors have a stuck series (the bridge's SensorHealth decides both).
      for (let i = 0; i < Math.max(r.tempCount, shape.temps); i++) {
        const n = i + 1;
        if (r.fittedTemps?.includes(n))
          this.g.stuck.set({ device, sensor: n }, r.stuckTemps?.includes(n) ? 1 : 0);
        else this.g.stuck.remove({ device, sensor: n });
      }
      this.set(this.g.bmsStale, d, r.bmsStale);
      this.set(this.g.temp, { device, sensor: "ic" }, r.icTemperature);
      shape.cells = r.cellCount;
      shape.temps = r.tempCount;
      this.set(this.g.pack, d, r.packVoltage);
      this.set(this.g.current, d, r.packCurrent);
      this.set(this.g.power, d, r.packPower);
      this.set(this.g.soc, d, r.soc);
      this.set(this.g.soh, d, r.soh);
      this.set(this.g.cellMin, d, r.cellMin);
      this.set(this.g.cellMax, d, r.cellMax);
      this.set(this.g.cellDelta, d, r.cellDelta);
      this.set(this.g.ahChg, d, r.ampHoursChargedTotal);
      this.set(this.g.whChg, d, r.wattHoursChargedTotal);
      this.set(this.g.ahDis, d, r.ampHoursDischargedTotal);
      this.set(this.g.whDis, d, r.wattHoursDischargedTotal);
    }
    for (const [id, node] of Object.entries(r.can ?? {})) {
      if (!node.values) continue;
      shape.can.add(id);
      for (const [key, g] of this.motor) {
        const v = node.values[key];
        if (typeof v === "number") this.set(g, { device, can_id: id }, v);
      }
    }
    this.shape.set(device, shape);
  }

  observeStatus(s: DeviceStatus): void {
    const device = s.deviceId;
    this.g.link.set({ device }, s.link === "online" ? 1 : 0);
    const prev = this.seen.get(device) ?? { crc: 0, discarded: 0, reconnects: 0, frames: 0, implausible: 0 };
    const now = {
      crc: s.crcErrors,
      discarded: s.discardedBytes,
      reconnects: s.reconnects,
      frames: s.framesReceived,
      implausible: s.implausibleValues ?? 0,
    };
    for (const k of Object.keys(now) as Array<keyof typeof now>) {
      // A smaller total means the poller started over: count the new total as increment.
      const inc = now[k] >= prev[k] ? now[k] - prev[k] : now[k];
      this.c[k].inc({ device }, inc);
    }
    this.seen.set(device, now);
  }

  observeAlert(a: Alert): void {
    this.g.alert.set({ device: a.deviceId, rule: a.rule }, a.active ? 1 : 0);
  }

  /** Drops every series of a device (config reload removed it). */
  removeDevice(device: string): void {
    this.snapshots.delete(device);
    const shape = this.shape.get(device);
    for (let i = 0; i < (shape?.cells ?? 0); i++) {
      this.g.cell.remove({ device, cell: i + 1 });
      this.g.balancing.remove({ device, cell: i + 1 });
    }
    for (let i = 0; i < (shape?.temps ?? 0); i++) {
      this.g.temp.remove({ device, sensor: i + 1 });
      this.g.stuck.remove({ device, sensor: i + 1 });
    }
    this.g.temp.remove({ device, sensor: "ic" });
    this.g.bmsStale.remove({ device });
    for (const id of shape?.can ?? []) for (const g of this.motor.values()) g.remove({ device, can_id: id });
    for (const rule of ALERT_RULES) this.g.alert.remove({ device, rule });
    const perDevice = [
      this.g.pack,
      this.g.current,
      this.g.power,
      this.g.cellMin,
      this.g.cellMax,
      this.g.cellDelta,
    ];
    const more = [
      this.g.soc,
      this.g.soh,
      this.g.ahChg,
      this.g.whChg,
      this.g.ahDis,
      this.g.whDis,
      this.g.link,
    ];
    for (const g of [...perDevice, ...more, this.g.lastReading]) g.remove({ device });
    for (const c of Object.values(this.c)) c.remove({ device });
    this.latency.remove({ device });
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
  constructor(readonly latency: { observe(seconds: number): void }) {}
  /** Not yet applied to the gauges. */
  fresh = false;
  time = "";
  hasBms = false;
  cellCount = 0;
  cells = new Float64Array(32);
  balancing = new Uint8Array(32);
  tempCount = 0;
  temps = new Float64Array(8);
  // Numbers only (NaN = absent, which set() skips): V8 then updates them in place.
  icTemperature = Number.NaN;
  packVoltage = Number.NaN;
  packCurrent = Number.NaN;
  packPower = Number.NaN;
  soc = Number.NaN;
  soh = Number.NaN;
  cellMin = Number.NaN;
  cellMax = Number.NaN;
  cellDelta = Number.NaN;
  ampHoursChargedTotal = Number.NaN;
  wattHoursChargedTotal = Number.NaN;
  ampHoursDischargedTotal = Number.NaN;
  wattHoursDischargedTotal = Number.NaN;
  /** CAN nodes as they came (few devices have any). */
  can: Reading["can"];
  /** The bridge's sensor verdicts as they came (shared arrays, not copied). */
  fittedTemps: readonly number[] | undefined;
  stuckTemps: readonly number[] | undefined;
  bmsStale = Number.NaN;

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
    this.fittedTemps = bms.fitted?.temperatures;
    this.stuckTemps = bms.stuck?.temperatures;
    this.bmsStale = bms.stale === undefined ? Number.NaN : bms.stale ? 1 : 0;
    this.icTemperature = bms.icTemperature ?? Number.NaN;
    this.packVoltage = bms.packVoltage ?? Number.NaN;
    this.packCurrent = bms.packCurrent ?? Number.NaN;
    this.packPower = bms.packPower ?? Number.NaN;
    this.soc = bms.soc ?? Number.NaN;
    this.soh = bms.soh ?? Number.NaN;
    this.cellMin = bms.stats?.cellMin ?? Number.NaN;
    this.cellMax = bms.stats?.cellMax ?? Number.NaN;
    this.cellDelta = bms.stats?.cellDelta ?? Number.NaN;
    this.ampHoursChargedTotal = bms.ampHoursChargedTotal ?? Number.NaN;
    this.wattHoursChargedTotal = bms.wattHoursChargedTotal ?? Number.NaN;
    this.ampHoursDischargedTotal = bms.ampHoursDischargedTotal ?? Number.NaN;
    this.wattHoursDischargedTotal = bms.wattHoursDischargedTotal ?? Number.NaN;
  }
}

/** Feeds a Metrics instance from the bus. */
export class MetricsSink implements Sink {
  readonly name = "metrics";
  private readonly onReading = (r: Reading) => this.metrics.observeReading(r);
  private readonly onStatus = (s: DeviceStatus) => this.metrics.observeStatus(s);
  private readonly onAlert = (a: Alert) => this.metrics.observeAlert(a);
  private readonly onRemoved = (id: string) => this.metrics.removeDevice(id);

  constructor(
    private readonly bus: Bus,
    readonly metrics: Metrics = new Metrics(),
  ) {}

  async start(): Promise<void> {
    this.bus.on("reading", this.onReading);
    this.bus.on("status", this.onStatus);
    this.bus.on("alert", this.onAlert);
    this.bus.on("deviceRemoved", this.onRemoved);
  }

  async stop(): Promise<void> {
    this.bus.off("reading", this.onReading);
    this.bus.off("status", this.onStatus);
    this.bus.off("alert", this.onAlert);
    this.bus.off("deviceRemoved", this.onRemoved);
  }
}
