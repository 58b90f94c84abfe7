import { describe, expect, it } from "vitest";
import { batteryConfigSchema, DEFAULT_BATTERY_CONFIG } from "./config.js";

describe("battery config", () => {
  it("defaults to NMC, capacity learned, 10 min rest", () => {
    expect(DEFAULT_BATTERY_CONFIG).toEqual({ chemistry: "nmc", restMinutes: 10 });
  });

  it("accepts a full section", () => {
    const c = batteryConfigSchema.parse({
      chemistry: "custom",
      capacityAh: 12,
      ocv: [
        [0, 3],
        [100, 4.1],
      ],
      restCurrentA: 0.3,
      restMinutes: 5,
    });
    expect(c.capacityAh).toBe(12);
    expect(c.ocv).toHaveLength(2);
  });

  it("rejects custom without a table, a falling table, unknown keys and bad numbers with a path", () => {
    const issues = (v: unknown) => {
      const r = batteryConfigSchema.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    };
    expect(issues({ chemistry: "custom" })).toEqual(["ocv: chemistry custom needs an ocv table"]);
    expect(
      issues({
        ocv: [
          [0, 3.5],
          [50, 3.4],
        ],
      })[0],
    ).toMatch(/^ocv: ocv point 2: volts must rise/);
    expect(issues({ chemistry: "lipo" })[0]).toMatch(/^chemistry: expected nmc, lfp, lto or custom/);
    expect(issues({ capacityAh: -1 })[0]).toMatch(/^capacityAh: expected a capacity/);
    expect(issues({ capacity: 12 })).toHaveLength(1);
    expect(issues({ ocv: [[0, 3, 4]] })).not.toEqual([]);
  });
});
