/**
 * Golden outputs of everything derived from the value catalogue: HA discovery (device and
 * entity mode, BMS and motor, several firmware cuts), the Prometheus exposition, the history
 * columns and rows, the CLI `read` table and the state documents with their change keys.
 * A refactor of how values are described must leave these files byte for byte as they are;
 * a deliberate change shows up as a diff of the files under __golden__/.
 */
import { describe, expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import { formatReading, toJsonReading } from "../cli/format.js";
import { Metrics } from "../metrics/metrics.js";
import type { BatteryReading, BmsReading, MotorValues, Reading } from "../model/reading.js";
import { discoveryMessages, type DiscoveryOptions } from "../mqtt/homeassistant/discovery.js";
import {
  type DeviceDescription,
  EMPTY_PRESENCE,
  haDevices,
  updatePresence,
} from "../mqtt/homeassistant/devices.js";
import { canStateDocs, changeKey, deviceStateDoc } from "../mqtt/state.js";
import {
  csvColumns,
  decodeToVector,
  encodeReading,
  FIXED_FIELDS,
  vectorLength,
} from "../store/historyCodec.js";
import { COLUMNS, VECTOR_SIGNATURE } from "../store/historySchema.js";

const BASE = "vesc2mqtt";

function withStats(r: Reading): Reading {
  const all = r.bms?.cells ?? [];
  const cells = all.filter((c): c is number => c !== null);
  const min = Math.min(...cells);
  const max = Math.max(...cells);
  const stats = {
    cellMin: min,
    cellMinNumber: all.indexOf(min) + 1,
    cellMax: max,
    cellMaxNumber: all.indexOf(max) + 1,
    cellAverage: cells.reduce((a, b) => a + b, 0) / cells.length,
    cellDelta: max - min,
  };
  return { ...r, bms: { ...(r.bms as BmsReading), stats } };
}

/** The bridge's battery estimates (src/bridge/batteryStage.ts) as they ride on a reading. */
function withBattery(r: Reading): Reading {
  const n = r.bms?.cells.length ?? 0;
  const battery: BatteryReading = {
    socPercent: 80,
    socSource: "bms",
    socEstimatePercent: 78.4,
    socMethod: "coulomb",
    bmsSocPercent: 80,
    calibrated: true,
    socConfidence: 0.9,
    whCharged: 1234.5678,
    whDischarged: 987.6543,
    ahCharged: 15.125,
    ahDischarged: 12.5,
    bmsTotals: { whCharged: 7400.25, whDischarged: 6600.5, ahCharged: 100.5, ahDischarged: 90.125 },
    cycles: 1.25,
    capacityAh: 10.2,
    capacityLearnedAh: 10.2,
    sohPercent: 98,
    charging: false,
    discharging: true,
    smoothedCurrentA: -5,
    timeToFullS: null,
    timeToEmptyS: 5875,
    cellResistanceOhm: Array.from({ length: n }, (_, i) => 0.02 + i * 0.0001),
    cellCapacityAh: Array.from({ length: n }, () => null),
    cellDriftV: Array.from({ length: n }, (_, i) => (i === 6 ? -0.012 : 0.0005)),
    cellDriftRateVPerDay: Array.from({ length: n }, () => null),
    weakestCell: 7,
    alerts: { driftingCells: [7], highResistanceCells: [] },
    maxCellResistanceOhm: 0.02 + (n - 1) * 0.0001,
    maxCellDriftV: -0.012,
  };
  return { ...r, bms: { ...(r.bms as BmsReading), battery } };
}

/** Firmware 6.05 Express, 20S, lifetime totals, a motor node answering COMM_GET_VALUES in part; the bridge's battery estimates. */
const express605 = withBattery(
  withStats(
    syntheticReading({ deviceId: "pack", time: 1_700_000_000_000, withMotor: true, balancing: [3, 17] }),
  ),
);

/** Every motor field of a full COMM_GET_VALUES (firmware 6.x). */
const fullMotor: MotorValues = {
  tempFet: 41.2,
  tempMotor: 55.75,
  currentMotor: -12.5,
  currentInput: -3.25,
  currentD: 0.5,
  currentQ: -12.4,
  dutyCycle: -0.255,
  erpm: -4200,
  inputVoltage: 79.8,
  ampHours: 1.2345,
  ampHoursCharged: 0.125,
  wattHours: 98.76,
  wattHoursCharged: 10.5,
  tachometer: -1234,
  tachometerAbs: 5678,
  fault: 4,
  faultName: "FAULT_CODE_DRV",
  pidPosition: 12.5,
  controllerId: 22,
  tempMos1: 40,
  tempMos2: 41,
  tempMos3: 42,
};

/** Firmware 6.06 BMS (data_version 1): named temperature slots, humidity and pressure, no lifetime totals. */
function bmsV1(r: Reading): Reading {
  const b = r.bms as BmsReading;
  const {
    ampHoursChargedTotal: _a,
    wattHoursChargedTotal: _b,
    ampHoursDischargedTotal: _c,
    wattHoursDischargedTotal: _d,
    ...rest
  } = b;
  return {
    ...r,
    deviceId: "bike",
    device: { firmware: "6.06", hardware: "VESC BMS ünï", uuid: "00112233445566778899aabb" },
    latencyMs: undefined,
    bms: {
      ...rest,
      dataVersion: 1,
      cells: [3.701, null, 3.712, 3.699],
      balancing: [false, false, true, false],
      temperatures: [31.5, 24.25, 26.5, null, 22.75],
      humidity: 45.5,
      humidityTemperature: 21.25,
      pressure: 101325,
      maxCellTemperature: 26.5,
      soc: 0,
      soh: null,
      implausible: ["cells[1]", "soh"],
      status: "OK",
    },
    can: {
      "10": {
        canId: 10,
        kind: "motor",
        values: fullMotor,
        device: { firmware: "6.05", hardware: "75_300", uuid: "0a0b0c0d0e0f101112131415", canId: 10 },
      },
      // Firmware 3.x selective read: only what the mask asked for.
      "11": {
        canId: 11,
        kind: "motor",
        values: { erpm: 0, inputVoltage: 50.1, currentMotor: 0, faultName: "FAULT_CODE_SOMETHING_NEW" },
      },
      "12": { canId: 12, kind: "motor", error: "timeout" },
    },
  };
}
const bike606 = withStats(bmsV1(syntheticReading({ time: 1_700_000_001_000, step: 3 })));

/** An Express 6.02 without SOC/SOH reported and no cells yet. */
const bareExpress: Reading = {
  deviceId: "bare",
  time: "2023-11-14T22:13:22.500Z",
  device: { firmware: "6.02", hardware: "VESC Express T", uuid: "000000000000000000000000" },
  latencyMs: 7,
  bms: {
    ...(syntheticReading({ time: 0 }).bms as BmsReading),
    cells: [],
    balancing: [],
    temperatures: [0, 0],
    soc: undefined,
    soh: undefined,
    packCurrent: null,
    packPower: null,
  },
};

/** A Floatwheel (bldc 6.05, Refloat 1.2.3) on CAN 84 with every ride group, riding. */
const floatwheel: Reading = {
  deviceId: "board",
  time: "2023-11-14T22:13:22.000Z",
  device: { firmware: "6.05", hardware: "VESC Express T", uuid: "0102030405060000000000ab" },
  can: {
    "84": {
      canId: 84,
      kind: "motor",
      device: { firmware: "6.05", hardware: "ADV500", uuid: "aabbccddeeff001122334455", canId: 84 },
      values: { erpm: 6200, inputVoltage: 78.4, currentMotor: 11.5, faultName: "FAULT_CODE_NONE", fault: 0 },
      setup: {
        speedMps: 6.1234,
        tripDistanceAbsM: 12345.6,
        odometerM: 1_523_400,
        batteryLevel: 0.734,
        wattHoursLeft: 812.5,
        wattHoursTotal: 250.25,
        wattHoursChargedTotal: 12.5,
        vescCount: 1,
        controllerId: 84,
        uptimeMs: 3_600_000,
      },
      stats: {
        speedAvgMps: 5.5,
        speedMaxMps: 8.25,
        powerAvgW: 420.5,
        powerMaxW: 2100,
        currentAvgA: 6.25,
        currentMaxA: 38.5,
        tempMosAvgC: 41.5,
        tempMotorAvgC: 48.25,
        elapsedS: 3540,
      },
      batteryCut: { startV: 62, endV: 60 },
      refloat: {
        package: "Refloat 1.2.3",
        rideState: "riding",
        state: "running",
        footpad: "both",
        footpadLeft: true,
        footpadRight: true,
        adcLeftV: 3.02,
        adcRightV: 2.98,
        pitch: 1.5,
        roll: -2.3,
        charging: false,
      },
      ride: {
        speedKmh: 22.04,
        tripKm: 12.346,
        odometerKm: 1523.4,
        batteryPercent: 73.4,
        wattHoursLeft: 812.5,
        whPerKm: 19.3,
        state: "riding",
        footpadLeft: true,
        footpadRight: false,
        pitch: 1.5,
        roll: -2.3,
        charging: false,
      },
    },
  },
};

const descs: Record<string, DeviceDescription> = {
  pack: { id: "pack", name: "Garage pack", can: [{ id: 84, kind: "motor", name: "Front motor" }] },
  bike: {
    id: "bike",
    name: "Bike",
    can: [
      { id: 10, kind: "motor" },
      { id: 11, kind: "motor", name: "Rear" },
      { id: 12, kind: "motor" },
    ],
    temperatureNames: new Map([[2, "Cell min NTC"]]),
  },
  bare: { id: "bare", name: "Bare", can: [], alerts: false },
  board: { id: "board", name: "Floatwheel", can: [{ id: 84, kind: "motor" }], alerts: false },
};

const READINGS = [express605, bike606, bareExpress, floatwheel];

const opts = (mode: "device" | "entity"): DiscoveryOptions => ({
  prefix: "homeassistant",
  mode,
  origin: { name: "vesc2mqtt", sw: "0.1.0", url: "https://github.com/vesc2mqtt/vesc2mqtt" },
  bridgeTopic: `${BASE}/bridge/state`,
});

function discoveryText(mode: "device" | "entity"): string {
  const out: string[] = [];
  for (const r of READINGS) {
    const desc = descs[r.deviceId] as DeviceDescription;
    const presence = updatePresence(EMPTY_PRESENCE, r);
    for (const d of haDevices(BASE, desc, presence))
      for (const m of discoveryMessages(opts(mode), d).messages) out.push(`${m.topic}\n${m.payload}`);
  }
  return `${out.join("\n")}\n`;
}

describe("golden outputs of the value descriptions", () => {
  test.each(["device", "entity"] as const)("HA discovery, %s mode", async (mode) => {
    await expect(discoveryText(mode)).toMatchFileSnapshot(`__golden__/discovery-${mode}.txt`);
  });

  test("Prometheus exposition for fixed readings", async () => {
    const metrics = new Metrics({
      statuses: () => [
        {
          deviceId: "pack",
          link: "online",
          url: "tcp://127.0.0.1:65102",
          reconnects: 2,
          crcErrors: 3,
          discardedBytes: 40,
          framesReceived: 500,
          implausibleValues: 1,
        },
      ],
    });
    for (const r of READINGS) metrics.observeReading(r);
    metrics.observeAlert({
      deviceId: "pack",
      rule: "cell_delta",
      active: true,
      message: "x",
      time: express605.time,
    } as never);
    await expect(await metrics.text()).toMatchFileSnapshot("__golden__/metrics.txt");
  });

  test("history columns, rows and vectors", async () => {
    const lines = [
      `COLUMNS ${COLUMNS.join(",")}`,
      `FIXED_FIELDS ${FIXED_FIELDS.join(",")}`,
      `VECTOR_SIGNATURE ${VECTOR_SIGNATURE}`,
      `CSV ${csvColumns({ temps: 5, cells: 4 }).join(",")}`,
    ];
    for (const r of READINGS) {
      const row = encodeReading(r);
      const shown = row.map((v) => (Buffer.isBuffer(v) ? `0x${v.toString("hex")}` : String(v)));
      lines.push(`ROW ${r.deviceId} ${shown.join(",")}`);
      const cells = row[row.length - 4] as Buffer | null;
      const temps = row[row.length - 3] as Buffer | null;
      const layout = { cells: (cells?.byteLength ?? 0) >> 1, temps: (temps?.byteLength ?? 0) >> 1 };
      const v = new Float64Array(vectorLength(layout));
      decodeToVector(row, layout, v);
      lines.push(`VECTOR ${r.deviceId} ${[...v].map((x) => String(x)).join(",")}`);
    }
    await expect(`${lines.join("\n")}\n`).toMatchFileSnapshot("__golden__/history.txt");
  });

  test("CLI read table", async () => {
    const blocks = [
      formatReading(toJsonReading(express605), express605.time),
      formatReading({ device: express605.device, values: express605.can?.["84"]?.values }),
      formatReading(toJsonReading(bike606)),
      formatReading(toJsonReading(bike606, 10)),
      formatReading({ device: bike606.device, values: bike606.can?.["11"]?.values }),
      formatReading(toJsonReading(bareExpress)),
      formatReading(toJsonReading(floatwheel, 84)),
    ];
    await expect(`${blocks.join("\n\n")}\n`).toMatchFileSnapshot("__golden__/cli.txt");
  });

  test("state documents and their change keys", async () => {
    const lines: string[] = [];
    for (const r of READINGS) {
      const d = deviceStateDoc(r);
      lines.push(`${d.topicKind} ${d.keyStart} ${d.keyEnd}\n${d.payload}\nKEY ${changeKey(d)}`);
      for (const c of canStateDocs(r))
        lines.push(`${c.topicKind} ${c.canId} ${c.keyStart} ${c.keyEnd}\n${c.payload}\nKEY ${changeKey(c)}`);
    }
    await expect(`${lines.join("\n")}\n`).toMatchFileSnapshot("__golden__/state.txt");
  });
});
