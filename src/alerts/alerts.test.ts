import { describe, expect, test } from "vitest";
import { Bus } from "../model/bus.js";
import type { Alert } from "../model/bus.js";
import type { DeviceStatus, Reading } from "../model/reading.js";
import {
  type AlertRule,
  type AlertState,
  type AlertThresholds,
  DEFAULT_ALERT_THRESHOLDS,
  evaluateReading,
  evaluateStatus,
  mergeThresholds,
} from "./alerts.js";
import { AlertSink } from "./alertSink.js";

const T = DEFAULT_ALERT_THRESHOLDS;

function reading(
  cells: (number | null)[],
  extra: { temps?: (number | null)[]; soc?: number | null; deviceId?: string } = {},
): Reading {
  return {
    deviceId: extra.deviceId ?? "pack",
    time: "2025-01-01T00:00:00.000Z",
    device: { firmware: "6.05", hardware: "VESC Express T", uuid: "aabbccddeeff000000000000" },
    bms: {
      packVoltage: cells.reduce<number>((a, b) => a + (b ?? 0), 0),
      chargeVoltage: 84,
      current: 0,
      currentIc: 0,
      packCurrent: 0,
      packPower: 0,
      ampHours: 0,
      wattHours: 0,
      cells,
      balancing: cells.map(() => false),
      temperatures: extra.temps ?? [25, 26],
      icTemperature: 30,
      humidityTemperature: 0,
      humidity: 0,
      maxCellTemperature: 0,
      ...(extra.soc === undefined ? {} : { soc: extra.soc }),
    },
  };
}

/** 20 healthy cells around 3.7 V with one cell set to `v`. */
function pack(cellNumber: number, v: number): number[] {
  return Array.from({ length: 20 }, (_, i) => (i + 1 === cellNumber ? v : 3.7 + (i % 3) * 0.001));
}

/** Feeds readings in order and returns, per step, which of `rule` is active. */
function run(readings: Reading[], t: AlertThresholds = T): { active: boolean[]; alerts: Alert[] } {
  let state: AlertState = {};
  const active: boolean[] = [];
  const alerts: Alert[] = [];
  for (const r of readings) {
    const e = evaluateReading(r, t, state);
    state = e.state;
    alerts.push(...e.changed);
    active.push(Object.keys(state).length > 0);
  }
  return { active, alerts };
}

interface Row {
  readonly name: string;
  readonly rule: AlertRule;
  readonly steps: Reading[];
  /** Whether the rule is active after each step. */
  readonly expected: boolean[];
  readonly thresholds?: AlertThresholds;
}

const rows: Row[] = [
  {
    name: "under voltage turns on below the limit and off only past limit + hysteresis",
    rule: "cell_under_voltage",
    steps: [pack(7, 3.25), pack(7, 3.19), pack(7, 3.205), pack(7, 3.215), pack(7, 3.221)].map((c) =>
      reading(c),
    ),
    expected: [false, true, true, true, false],
    thresholds: { ...T, cellDelta: 10 },
  },
  {
    name: "over voltage with hysteresis",
    rule: "cell_over_voltage",
    steps: [4.2, 4.26, 4.24, 4.235, 4.229, 4.251].map((v) =>
      reading(Array.from({ length: 20 }, (_, i) => (i === 2 ? v : 4.2))),
    ),
    expected: [false, true, true, true, false, true],
  },
  {
    name: "cell delta with hysteresis (5 mV)",
    rule: "cell_delta",
    steps: [0.04, 0.051, 0.047, 0.046, 0.0449, 0.06].map((d) => reading(pack(12, 3.7 - d + 0.002))),
    expected: [false, true, true, true, false, true],
  },
  {
    name: "temperature high with 2 °C hysteresis",
    rule: "temperature_high",
    steps: [50, 55.5, 54, 53.1, 52.9].map((t) => reading(pack(1, 3.7), { temps: [25, t, 30] })),
    expected: [false, true, true, true, false],
  },
  {
    name: "SOC low with hysteresis; readings without SOC keep the state",
    rule: "soc_low",
    steps: [
      reading(pack(1, 3.7), { soc: 20 }),
      reading(pack(1, 3.7), { soc: 14 }),
      reading(pack(1, 3.7)),
    ].concat([16.5, 17.1].map((soc) => reading(pack(1, 3.7), { soc }))),
    expected: [false, true, true, true, false],
  },
  {
    name: "per-device override moves the limit",
    rule: "cell_under_voltage",
    steps: [pack(3, 3.31), pack(3, 3.29)].map((c) => reading(c)),
    expected: [false, true],
    thresholds: mergeThresholds(T, { cellUnderVoltage: 3.3, cellDelta: undefined, hysteresis: { delta: 1 } }),
  },
];

describe("alert rules (table)", () => {
  test.each(rows)("$name", ({ rule, steps, expected, thresholds }) => {
    let state: AlertState = {};
    const got: boolean[] = [];
    for (const r of steps) {
      state = evaluateReading(r, thresholds ?? T, state).state;
      got.push(state[rule] !== undefined);
    }
    expect(got).toEqual(expected);
  });
});

describe("alert messages", () => {
  test("under voltage names the cell, its value and its distance to the average", () => {
    const cells = Array.from({ length: 20 }, () => 3.466);
    cells[6] = 3.112;
    const { alerts } = run([reading(cells)], { ...T, cellDelta: 10 });
    expect(alerts).toHaveLength(1);
    const avg = cells.reduce((a, b) => a + b, 0) / 20;
    expect(alerts[0]?.rule).toBe("cell_under_voltage");
    expect(alerts[0]?.active).toBe(true);
    expect(alerts[0]?.message).toBe(
      `cell 7 at 3.112 V, ${Math.round((avg - 3.112) * 1000)} mV below average (limit 3.200 V)`,
    );
  });

  test("cell delta names the drifting cell", () => {
    const cells = Array.from({ length: 20 }, () => 3.7);
    cells[11] = 3.64;
    const { alerts } = run([reading(cells)]);
    expect(alerts.map((a) => a.rule)).toEqual(["cell_delta"]);
    expect(alerts[0]?.message).toMatch(
      /^cell delta 60 mV \(limit 50 mV\): cell 12 at 3\.640 V, 57 mV below average$/,
    );
  });

  test("temperature names the sensor; the clear event is emitted once", () => {
    const r = (t: number) => reading(pack(1, 3.7), { temps: [20, 21, t] });
    const { alerts } = run([r(60), r(61), r(40), r(40)]);
    expect(alerts.map((a) => [a.rule, a.active])).toEqual([
      ["temperature_high", true],
      ["temperature_high", false],
    ]);
    expect(alerts[0]?.message).toBe("temperature sensor 3 at 60 °C (limit 55 °C)");
  });

  test("null sensors and cells (not applicable, implausible) never count as the extreme", () => {
    // The data_version 1 MOSFET slot is null; no other sensor is hot: no alert.
    const hotNull = reading(pack(1, 3.7), { temps: [30, 25, 26, null, 22] });
    expect(run([hotNull]).alerts).toEqual([]);
    const { alerts } = run([reading(pack(1, 3.7), { temps: [null, 60, null] })]);
    expect(alerts[0]?.message).toBe("temperature sensor 2 at 60 °C (limit 55 °C)");
    // A null cell is neither the lowest (0 V) nor part of the delta.
    const cells: (number | null)[] = pack(1, 3.7);
    cells[4] = null;
    expect(run([reading(cells)]).alerts).toEqual([]);
    expect(run([reading([null, null, null])]).alerts).toEqual([]);
    expect(run([reading(pack(5, 3.7), { soc: null })]).alerts).toEqual([]);
  });

  test("SOC low names the value and the limit, on and off", () => {
    const r = (soc: number) => reading(pack(5, 3.7), { soc });
    const { alerts } = run([r(12.34), r(12), r(20)]);
    expect(alerts.map((a) => a.message)).toEqual([
      "SOC at 12.3 % (limit 15 %)",
      "SOC back to 20 % (limit 15 %)",
    ]);
  });

  test("a reading that changes no rule keeps the state object and emits nothing", () => {
    const first = evaluateReading(reading(pack(5, 3.1)), { ...T, cellDelta: 10 }, {});
    const again = evaluateReading(reading(pack(5, 3.09)), { ...T, cellDelta: 10 }, first.state);
    expect(again.changed).toEqual([]);
    expect(again.state).toBe(first.state);
  });

  test("an active alert keeps the message it turned on with", () => {
    let state: AlertState = {};
    state = evaluateReading(reading(pack(5, 3.1)), { ...T, cellDelta: 10 }, state).state;
    const first = state.cell_under_voltage;
    state = evaluateReading(reading(pack(5, 3.05)), { ...T, cellDelta: 10 }, state).state;
    expect(state.cell_under_voltage).toEqual(first);
  });
});

describe("stale rule", () => {
  const status = (link: DeviceStatus["link"]): DeviceStatus => ({
    deviceId: "pack",
    link,
    url: "tcp://127.0.0.1:65102",
    reconnects: 0,
    crcErrors: 0,
    discardedBytes: 0,
    framesReceived: 0,
    lastReadingTime: "2025-01-01T00:00:00.000Z",
  });
  const now = "2025-01-01T00:01:00.000Z";

  test.each([
    { links: ["online", "stale", "stale", "online"], expected: [false, true, true, false], stale: true },
    {
      links: ["offline", "connecting", "yielded", "online"],
      expected: [true, true, true, false],
      stale: true,
    },
    { links: ["stale", "offline"], expected: [false, false], stale: false },
  ] as const)("links $links (enabled: $stale)", ({ links, expected, stale }) => {
    let state: AlertState = {};
    const got: boolean[] = [];
    for (const link of links) {
      state = evaluateStatus(status(link), { ...T, stale }, state, now).state;
      got.push(state.stale !== undefined);
    }
    expect(got).toEqual(expected);
  });

  test("a fresh reading ends a stale alert", () => {
    const s = evaluateStatus(status("stale"), T, {}, now);
    expect(s.changed[0]?.message).toBe("no data since 2025-01-01T00:00:00.000Z (link stale)");
    const e = evaluateReading(reading(pack(1, 3.7)), T, s.state);
    expect(e.changed.map((a) => [a.rule, a.active])).toEqual([["stale", false]]);
  });
});

describe("AlertSink on a real Bus", () => {
  test("emits alerts for readings and status; per-device overrides apply; stop() detaches", async () => {
    const bus = new Bus();
    const sink = new AlertSink({
      bus,
      thresholds: { ...T, cellDelta: 1 },
      overrides: { strict: { cellUnderVoltage: 3.6 } },
      now: () => new Date("2025-01-01T00:00:00Z"),
    });
    const seen: Alert[] = [];
    bus.on("alert", (a) => seen.push(a));
    await sink.start();
    bus.emit("reading", reading(pack(2, 3.55), { deviceId: "relaxed" }));
    bus.emit("reading", reading(pack(2, 3.55), { deviceId: "strict" }));
    expect(seen.map((a) => [a.deviceId, a.rule])).toEqual([["strict", "cell_under_voltage"]]);
    expect(sink.active("strict").map((a) => a.rule)).toEqual(["cell_under_voltage"]);
    expect(sink.active("relaxed")).toEqual([]);
    await sink.stop();
    bus.emit("reading", reading(pack(2, 2.0), { deviceId: "relaxed" }));
    expect(seen).toHaveLength(1);
    expect(bus.listenerCount("reading")).toBe(0);
  });
});
