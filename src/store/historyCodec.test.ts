/** Which catalogue values the history row stores comes from the catalogue alone. */
import { describe, expect, test } from "vitest";
import { syntheticReading } from "../../test/helpers/readings.js";
import { CATALOGUE, extendCatalogue, type ValueDef } from "../values/index.js";
import { encodeReading, historyScalars, READING_SCALARS, readingScalars } from "./historyCodec.js";

const base = syntheticReading({ deviceId: "pack", time: 1_700_000_000_000 });

describe("history columns from the catalogue", () => {
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
