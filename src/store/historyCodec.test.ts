/**
 * Which catalogue values the history row stores comes from the catalogue alone: every source
 * read from a BMS part writes its stored values (a summary or verdict given a column is not
 * silently dropped), and the reading's own values (the poll latency) keep their column.
 */
import { describe, expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import type { BmsReading, Reading } from "../model/reading.js";
import { BMS_SOURCES, CATALOGUE, extendCatalogue, SOURCES, type ValueDef } from "../values/index.js";
import { encodeReading, historyScalars, READING_SCALARS, readingScalars } from "./historyCodec.js";

const base = syntheticReading({ deviceId: "pack", time: 1_700_000_000_000 });

/** `base` with `field` = x where the source reads it (bms, bms.stats, bms.battery …). */
function withField(source: (typeof BMS_SOURCES)[number], field: string, x: unknown): Reading {
  const bms = base.bms as BmsReading;
  const within = SOURCES[source].within;
  let part: Record<string, unknown> = { [field]: x };
  for (let i = within.length - 1; i >= 0; i--) {
    const key = within[i] as string;
    const holder = (i === 0 ? bms : {}) as Record<string, unknown>;
    part = { [key]: { ...(holder[key] as object | undefined), ...part } };
  }
  return { ...base, bms: { ...bms, ...part } as BmsReading };
}

describe("history columns from the catalogue", () => {
  test.each([...BMS_SOURCES])("a stored %s value is written to its column", (source) => {
    const def: ValueDef = {
      id: `probe.${source}`,
      source,
      field: "probe",
      label: "Probe",
      history: { column: `probe_${source.toLowerCase()}`, scale: 10 },
    };
    const scalars = historyScalars(extendCatalogue(CATALOGUE, [def]));
    const at = scalars.findIndex(([column]) => column === def.history?.column);
    expect(at, `${source} value has a column`).toBeGreaterThanOrEqual(0);
    expect(encodeReading(withField(source, "probe", 4.2), scalars)[1 + at]).toBe(42);
    // A flag (a verdict) is stored as 1 or 0, not dropped as "not a number".
    expect(encodeReading(withField(source, "probe", true), scalars)[1 + at]).toBe(1);
    expect(encodeReading(withField(source, "probe", false), scalars)[1 + at]).toBe(0);
    expect(encodeReading(base, scalars)[1 + at]).toBeNull();
  });

  test("the poll latency is the reading's own column, after the scalars", () => {
    expect(READING_SCALARS.map(([c, id, scale]) => [c, id, scale])).toEqual([["latency_ms", "latencyMs", 1]]);
    const row = encodeReading({ ...base, latencyMs: 12.6 });
    expect(row[1 + historyScalars(CATALOGUE).length]).toBe(13);
    expect(encodeReading({ ...base, latencyMs: undefined })[1 + historyScalars(CATALOGUE).length]).toBeNull();
    const queue: ValueDef = {
      id: "queueMs",
      source: "poll",
      field: "queueMs",
      label: "Queue wait",
      history: { column: "queue_ms", scale: 1 },
    };
    expect(readingScalars(extendCatalogue(CATALOGUE, [queue])).map(([c]) => c)).toEqual([
      "latency_ms",
      "queue_ms",
    ]);
  });
});
