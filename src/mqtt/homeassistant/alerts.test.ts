import { describe, expect, test } from "vitest";
import type { Alert } from "../../model/bus.js";
import { ALERT_RULES } from "../../alerts/alerts.js";
import { alertEntities, alertsDoc, alertsTopic } from "./alerts.js";

const alert = (rule: string, message: string): Alert => ({
  deviceId: "pack",
  rule,
  active: true,
  message,
  time: "2025-01-01T00:00:00.000Z",
});

describe("HA alert entities", () => {
  test("one problem binary_sensor per rule plus a message sensor, unique keys, bridge availability only", () => {
    const e = alertEntities();
    expect(e.filter((x) => x.platform === "binary_sensor").map((x) => x.key)).toEqual(
      ALERT_RULES.map((r) => `alert_${r}`),
    );
    expect(e.every((x) => x.platform !== "binary_sensor" || x.deviceClass === "problem")).toBe(true);
    expect(new Set(e.map((x) => x.key)).size).toBe(e.length);
    expect(e.every((x) => x.bridgeAvailabilityOnly && x.source === "alerts")).toBe(true);
    expect(alertsTopic("vesc2mqtt", "pack")).toBe("vesc2mqtt/pack/alerts");
  });

  test.each([
    { active: [], problem: false, message: "" },
    {
      active: [alert("cell_delta", "cell delta 62 mV"), alert("soc_low", "SOC at 9 %")],
      problem: true,
      message: "Cell delta high: cell delta 62 mV; SOC low: SOC at 9 %",
    },
  ])("document for $active.length active alerts", ({ active, problem, message }) => {
    const doc = alertsDoc(active);
    expect(doc.problem).toBe(problem);
    expect(doc.message).toBe(message);
    expect(Object.keys(doc.rules)).toEqual([...ALERT_RULES]);
    for (const a of active)
      expect(doc.rules[a.rule as (typeof ALERT_RULES)[number]]).toEqual({
        active: true,
        message: a.message,
        since: a.time,
      });
  });

  test("the message stays within HA's 255-character state limit", () => {
    const doc = alertsDoc(ALERT_RULES.map((r) => alert(r, "x".repeat(80))));
    expect(doc.message.length).toBe(255);
    expect(doc.message.endsWith("…")).toBe(true);
  });
});
