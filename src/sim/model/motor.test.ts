import { describe, expect, test } from "vitest";
import { MotorModel } from "./motor.js";
import { speedFromErpm } from "./ride.js";

describe("the simulated motor while riding", () => {
  test("a onewheel's speeds: 12–31 km/h over a whole ride period, about 21 on average", () => {
    const start = 1_700_000_000_000;
    const motor = new MotorModel({ canId: 84, hardware: "ADV500", seed: 9, now: start });
    motor.setScenario("riding", start);
    const kmh: number[] = [];
    for (let s = 0; s < 40; s++) kmh.push(speedFromErpm(motor.values(start + s * 1000, 78).erpm ?? 0) * 3.6);
    expect(Math.min(...kmh)).toBeGreaterThan(12);
    expect(Math.max(...kmh)).toBeLessThan(31);
    expect(kmh.reduce((a, b) => a + b, 0) / kmh.length).toBeCloseTo(21, 0);
  });
});
