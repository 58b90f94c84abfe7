/**
 * Readings built in tests (for sinks that only need the Reading contract): a 20S pack
 * whose cells drift deterministically with the step number, so values differ per step.
 */
import { packCurrent, packPower } from "../../src/model/bmsReading.js";
import type { Reading } from "../../src/model/reading.js";

export interface SyntheticOptions {
  readonly deviceId?: string;
  readonly cells?: number;
  /** ms since epoch of this reading */
  readonly time: number;
  /** step number; changes every value a little */
  readonly step?: number;
  /** cells (1-based) that balance */
  readonly balancing?: readonly number[];
  readonly soc?: number;
  readonly withMotor?: boolean;
}

export function syntheticReading(o: SyntheticOptions): Reading {
  const n = o.cells ?? 20;
  const step = o.step ?? 0;
  // Cells at mV resolution, like the protocol delivers them.
  const cells = Array.from(
    { length: n },
    (_, i) => Math.round((3.9 + ((i * 7 + step) % 11) * 0.002) * 1000) / 1000,
  );
  const packVoltage = Math.round(cells.reduce((a, b) => a + b, 0) * 1000) / 1000;
  const balancing = cells.map((_, i) => (o.balancing ?? []).includes(i + 1));
  const current = Math.round((-5 + (step % 10)) * 1000) / 1000;
  const currentIc = 0.154;
  return {
    deviceId: o.deviceId ?? "pack",
    time: new Date(o.time).toISOString(),
    device: { firmware: "6.05", hardware: "VESC Express T", uuid: "aabbccddeeff000000000000" },
    latencyMs: 10 + (step % 5),
    bms: {
      packVoltage,
      chargeVoltage: 84,
      current,
      currentIc,
      packCurrent: packCurrent(current, currentIc),
      packPower: packPower(packVoltage, packCurrent(current, currentIc)),
      ampHours: 1.5,
      wattHours: 120.25,
      cells,
      balancing,
      temperatures: [25.5 + (step % 3), 26.25, 27.0],
      icTemperature: 38.45,
      humidityTemperature: 0,
      humidity: 0,
      maxCellTemperature: 0,
      soc: o.soc ?? 80,
      soh: 99,
      canId: 255,
      ampHoursChargedTotal: 100.5,
      wattHoursChargedTotal: 7400.25,
      ampHoursDischargedTotal: 90.125,
      wattHoursDischargedTotal: 6600.5,
    },
    ...(o.withMotor
      ? {
          can: {
            "84": {
              canId: 84,
              kind: "motor" as const,
              values: {
                tempFet: 31.5,
                tempMotor: 28,
                currentMotor: 1.25,
                inputVoltage: packVoltage,
                erpm: 1200 + step,
                dutyCycle: 0.1,
                faultName: "FAULT_CODE_NONE",
              },
            },
          },
        }
      : {}),
  };
}
