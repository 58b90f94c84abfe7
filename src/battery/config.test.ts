import { describe, expect, it } from "vitest";
import { parseConfig } from "../config/load.js";
import { batteryConfigSchema, DEFAULT_BATTERY_CONFIG, deviceBatterySchema } from "./config.js";

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

describe("a device's battery key", () => {
  const device = (battery: string) =>
    parseConfig(`devices:\n  - id: pack\n    connection: { type: tcp, host: 127.0.0.1 }\n${battery}`, {
      env: {},
      baseDir: "/tmp",
    }).devices[0]?.battery;

  it("false, or enabled: false, turns the estimates off", () => {
    expect(device("    battery: false\n")).toBe(false);
    expect(device("    battery: { enabled: false, chemistry: lfp }\n")).toBe(false);
  });

  it("absent, true or enabled: true is the section without enabled", () => {
    expect(device("")).toEqual(DEFAULT_BATTERY_CONFIG);
    expect(device("    battery: true\n")).toEqual(DEFAULT_BATTERY_CONFIG);
    expect(device("    battery: { enabled: true, chemistry: lfp }\n")).toEqual({
      chemistry: "lfp",
      restMinutes: 10,
    });
  });

  it("a section that is off is still checked; a wrong type is one clear error", () => {
    const issues = (v: unknown) => {
      const r = deviceBatterySchema.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    };
    expect(issues({ enabled: false, chemistry: "lead" })).toEqual([
      "chemistry: expected nmc, lfp, lto or custom",
    ]);
    expect(issues({ enabled: "no" })).toEqual(["enabled: expected true or false"]);
    expect(issues("off")).toEqual([": expected true, false or a section { chemistry, capacity_ah, … }"]);
    // Unknown keys keep their own message.
    expect(issues({ capacity: 10 })).toEqual([': Unrecognized key: "capacity"']);
  });
});
