/** The per-device `battery:` section as the config loader reads it (snake_case YAML). */
import { describe, expect, test } from "vitest";
import { ConfigError, parseConfig } from "./load.js";

const device = (battery: string) =>
  `devices:\n  - id: pack\n    connection: { type: tcp, host: 127.0.0.1 }\n${battery}`;

function errorsOf(text: string): readonly string[] {
  try {
    parseConfig(text, { env: {}, baseDir: "/tmp" });
  } catch (e) {
    if (e instanceof ConfigError) return e.errors;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("devices[].battery", () => {
  test("absent: NMC, capacity learned, 10 minutes of rest", () => {
    const d = parseConfig(device(""), { env: {}, baseDir: "/tmp" }).devices[0];
    expect(d?.battery).toEqual({ chemistry: "nmc", restMinutes: 10 });
  });

  test("snake_case keys and an own OCV table", () => {
    const d = parseConfig(
      device(
        "    battery:\n      chemistry: custom\n      capacity_ah: 12.5\n      rest_current_a: 0.3\n      ocv: [[0, 3.0], [50, 3.7], [100, 4.2]]\n",
      ),
      { env: {}, baseDir: "/tmp" },
    ).devices[0];
    expect(d?.battery).toEqual({
      chemistry: "custom",
      capacityAh: 12.5,
      restCurrentA: 0.3,
      restMinutes: 10,
      ocv: [
        [0, 3.0],
        [50, 3.7],
        [100, 4.2],
      ],
    });
  });

  test.each([
    ["    battery: { chemistry: lead }\n", "devices[0].battery.chemistry"],
    ["    battery: { capacity_ah: -1 }\n", "devices[0].battery.capacity_ah"],
    ["    battery: { chemistry: custom }\n", "devices[0].battery.ocv"],
    ["    battery: { capacity: 10 }\n", "devices[0].battery"],
  ])("%s is one clear error at its key", (yaml, where) => {
    const errors = errorsOf(device(yaml));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(where);
  });
});
