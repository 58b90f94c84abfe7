import { describe, expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import { Bus } from "../model/bus.js";
import type { DeviceStatus } from "../model/reading.js";
import { Metrics, MetricsSink, mqttPublishErrors } from "./metrics.js";

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** A strict parser of the Prometheus text format (0.0.4): throws on any line it cannot read. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# HELP ")) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? "";
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
    let pos = 0;
    while (pos < body.length) {
      re.lastIndex = pos;
      const l = re.exec(body);
      if (!l) throw new Error(`bad labels: ${body}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
      pos = re.lastIndex;
    }
    const value = m[3] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[3]);
    if (Number.isNaN(value)) throw new Error(`bad value: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

function find(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

const status = (over: Partial<DeviceStatus>): DeviceStatus => ({
  deviceId: "pack",
  link: "online",
  url: "tcp://127.0.0.1:65102",
  reconnects: 0,
  crcErrors: 0,
  discardedBytes: 0,
  framesReceived: 0,
  ...over,
});

describe("Metrics exposition", () => {
  test("holds per-cell, pack, SOC, temperature, link, latency, counter and motor series with the right values", async () => {
    const bus = new Bus();
    const sink = new MetricsSink(bus, new Metrics());
    await sink.start();
    const time = Date.parse("2025-03-01T00:00:00Z");
    const r = syntheticReading({ time, step: 3, balancing: [7], withMotor: true, soc: 42.5 });
    bus.emit("reading", r);
    bus.emit("status", status({ crcErrors: 3, discardedBytes: 120, reconnects: 1, framesReceived: 50 }));
    // The poller restarted and its totals began again at 2: that is 2 more, not −1.
    bus.emit(
      "status",
      status({ crcErrors: 2, discardedBytes: 130, reconnects: 2, framesReceived: 60, link: "stale" }),
    );
    bus.emit("alert", { deviceId: "pack", rule: "cell_delta", active: true, message: "x", time: r.time });
    const before = mqttPublishErrors.count; // counted by the Publisher (mqttPublishErrors.test.ts)

    const { samples, types } = parseExposition(await sink.metrics.text());
    const bms = r.bms!;
    for (let c = 1; c <= 20; c++) {
      expect(find(samples, "vesc_cell_voltage_volts", { device: "pack", cell: String(c) })).toBe(
        bms.cells[c - 1],
      );
    }
    expect(find(samples, "vesc_cell_balancing", { device: "pack", cell: "7" })).toBe(1);
    expect(find(samples, "vesc_cell_balancing", { device: "pack", cell: "8" })).toBe(0);
    expect(find(samples, "vesc_pack_voltage_volts", { device: "pack" })).toBe(bms.packVoltage);
    // The synthetic pack reports i_in and i_in_ic; the measured (IC) current is the headline.
    expect(find(samples, "vesc_pack_current_amps", { device: "pack" })).toBe(bms.currentIc);
    expect(find(samples, "vesc_pack_power_watts", { device: "pack" })).toBeCloseTo(
      (bms.packVoltage ?? Number.NaN) * (bms.currentIc ?? Number.NaN),
      6,
    );
    expect(find(samples, "vesc_soc_percent", { device: "pack" })).toBe(42.5);
    expect(find(samples, "vesc_temperature_celsius", { device: "pack", sensor: "2" })).toBe(
      bms.temperatures[1],
    );
    expect(find(samples, "vesc_temperature_celsius", { device: "pack", sensor: "ic" })).toBe(
      bms.icTemperature,
    );
    expect(find(samples, "vesc_link_up", { device: "pack" })).toBe(0);
    expect(find(samples, "vesc_crc_errors_total", { device: "pack" })).toBe(5);
    expect(find(samples, "vesc_discarded_bytes_total", { device: "pack" })).toBe(130);
    expect(find(samples, "vesc_reconnects_total", { device: "pack" })).toBe(2);
    expect(find(samples, "vesc_alert_active", { device: "pack", rule: "cell_delta" })).toBe(1);
    expect(find(samples, "vesc_last_reading_timestamp_seconds", { device: "pack" })).toBe(time / 1000);
    expect(find(samples, "vesc_motor_erpm", { device: "pack", can_id: "84" })).toBe(1203);
    expect(find(samples, "vesc2mqtt_mqtt_publish_errors_total", {})).toBe(before);
    expect(find(samples, "vesc_poll_latency_seconds_count", { device: "pack" })).toBe(1);
    expect(find(samples, "vesc_poll_latency_seconds_sum", { device: "pack" })).toBeCloseTo(
      r.latencyMs! / 1000,
      9,
    );
    expect(find(samples, "vesc_poll_latency_seconds_bucket", { device: "pack", le: "0.01" })).toBe(0);
    expect(find(samples, "vesc_poll_latency_seconds_bucket", { device: "pack", le: "0.025" })).toBe(1);
    expect(types.get("vesc_poll_latency_seconds")).toBe("histogram");
    expect(types.get("vesc_crc_errors_total")).toBe("counter");
    expect(types.get("vesc_cell_voltage_volts")).toBe("gauge");
    await sink.stop();
    expect(bus.listenerCount("reading")).toBe(0);
  });

  test("null values (not applicable, implausible) are never exported as numbers", async () => {
    const metrics = new Metrics();
    const time = Date.parse("2025-03-01T00:00:00Z");
    const good = syntheticReading({ time, cells: 4, deviceId: "a" });
    metrics.observeReading(good);
    expect(
      find(parseExposition(await metrics.text()).samples, "vesc_pack_voltage_volts", { device: "a" }),
    ).toBe(good.bms?.packVoltage);
    const bms = good.bms!;
    metrics.observeReading({
      ...good,
      bms: {
        ...bms,
        packVoltage: null,
        packPower: null,
        cells: [3.9, null, 3.9, 3.9],
        temperatures: [25, null, 26],
        icTemperature: null,
      },
    });
    const { samples } = parseExposition(await metrics.text());
    const names = (n: string) => samples.filter((x) => x.name === n && x.labels.device === "a");
    expect(names("vesc_pack_voltage_volts")).toHaveLength(0);
    expect(names("vesc_pack_power_watts")).toHaveLength(0);
    expect(names("vesc_cell_voltage_volts").map((x) => x.labels.cell)).toEqual(["1", "3", "4"]);
    expect(names("vesc_temperature_celsius").map((x) => x.labels.sensor)).toEqual(["1", "3"]);
    for (const x of samples) expect(Number.isFinite(x.value)).toBe(true);
  });

  test("implausible values counted by the poller become vesc_implausible_values_total", async () => {
    const metrics = new Metrics();
    const base = {
      deviceId: "a",
      link: "online" as const,
      url: "tcp://127.0.0.1:65102",
      reconnects: 0,
      crcErrors: 0,
      discardedBytes: 0,
      framesReceived: 10,
    };
    metrics.observeStatus({ ...base, implausibleValues: 3 });
    metrics.observeStatus({ ...base, implausibleValues: 9 });
    const { samples, types } = parseExposition(await metrics.text());
    expect(find(samples, "vesc_implausible_values_total", { device: "a" })).toBe(9);
    expect(types.get("vesc_implausible_values_total")).toBe("counter");
  });

  test("cells that disappear and removed devices leave no series behind", async () => {
    const metrics = new Metrics();
    const time = Date.parse("2025-03-01T00:00:00Z");
    metrics.observeReading(syntheticReading({ time, cells: 20, deviceId: "a" }));
    const first = parseExposition(await metrics.text()).samples;
    expect(first.filter((s) => s.name === "vesc_cell_voltage_volts")).toHaveLength(20);
    metrics.observeReading(syntheticReading({ time, cells: 16, deviceId: "a" }));
    metrics.observeReading(syntheticReading({ time, cells: 12, deviceId: "b" }));
    metrics.observeStatus(status({ deviceId: "b" }));
    let { samples } = parseExposition(await metrics.text());
    const cellsOf = (d: string) =>
      samples.filter((s) => s.name === "vesc_cell_voltage_volts" && s.labels.device === d);
    expect(cellsOf("a")).toHaveLength(16);
    expect(cellsOf("b")).toHaveLength(12);
    metrics.removeDevice("b");
    ({ samples } = parseExposition(await metrics.text()));
    expect(samples.filter((s) => s.labels.device === "b")).toEqual([]);
    expect(cellsOf("a")).toHaveLength(16);
  });

  test("counters are read from the status provider at each scrape", async () => {
    let crcErrors = 4;
    const metrics = new Metrics({ statuses: () => [status({ crcErrors, link: "online" })] });
    let { samples } = parseExposition(await metrics.text());
    expect(find(samples, "vesc_crc_errors_total", { device: "pack" })).toBe(4);
    expect(find(samples, "vesc_link_up", { device: "pack" })).toBe(1);
    crcErrors = 9;
    ({ samples } = parseExposition(await metrics.text()));
    expect(find(samples, "vesc_crc_errors_total", { device: "pack" })).toBe(9);
  });

  test("gauges show the newest reading at scrape time; the latency histogram counts every reading", async () => {
    const metrics = new Metrics();
    const time = Date.parse("2025-03-01T00:00:00Z");
    for (let step = 0; step < 5; step++)
      metrics.observeReading(syntheticReading({ time: time + step * 1000, step }));
    const newest = syntheticReading({ time: time + 4000, step: 4 });
    const { samples } = parseExposition(await metrics.text());
    expect(find(samples, "vesc_pack_voltage_volts", { device: "pack" })).toBe(newest.bms?.packVoltage);
    expect(find(samples, "vesc_cell_voltage_volts", { device: "pack", cell: "3" })).toBe(
      newest.bms?.cells[2],
    );
    expect(find(samples, "vesc_last_reading_timestamp_seconds", { device: "pack" })).toBe(
      (time + 4000) / 1000,
    );
    expect(find(samples, "vesc_poll_latency_seconds_count", { device: "pack" })).toBe(5);
  });

  test("two instances do not share a registry", async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.observeReading(syntheticReading({ time: Date.now(), deviceId: "only-a" }));
    expect(await a.text()).toContain('device="only-a"');
    expect(await b.text()).not.toContain('device="only-a"');
  });
});
