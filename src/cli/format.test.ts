import { describe, expect, it } from "vitest";
import { createLog, escapeControl } from "../bridge/log.js";
import { toBmsReading } from "../model/bmsReading.js";
import type { MotorValues } from "../model/reading.js";
import { decodeBmsValues } from "../protocol/index.js";
import { hex } from "../../test/helpers/hex.js";
import { cellBar, cellBarScale, formatBms, formatReading } from "./format.js";

const filled = (bar: string) => [...bar].filter((c) => c === "█").length;

describe("cell bars", () => {
  it("scale around the pack's own min and max, so a few mV of imbalance are visible", () => {
    const cells = [3.727, 3.737, 3.732];
    const { low, high } = cellBarScale(cells);
    const bars = cells.map((v) => filled(cellBar(v, low, high, 24)));
    expect(bars[1]).toBe(24); // highest cell: full
    expect(bars[0]).toBeGreaterThan(0); // lowest cell: short, never empty
    expect(bars[0]).toBeLessThan(bars[2] as number);
    expect(bars[2]).toBeLessThan(24);
  });

  it("do not magnify noise: equal cells or sub-10 mV spreads use a 10 mV span", () => {
    const same = cellBarScale([4.1, 4.1]);
    expect(same.high - same.low).toBeCloseTo(0.0125, 9);
    expect(filled(cellBar(4.1, same.low, same.high, 24))).toBe(5);
    const tiny = cellBarScale([4.1, 4.101]);
    expect(filled(cellBar(4.101, tiny.low, tiny.high, 24))).toBeLessThan(24);
  });
});

describe("control characters from the device", () => {
  const hostile = "BMS\u001b]0;pwned\u0007\u001b[2J\rX\u0000\u202e";
  const device = { firmware: "6.05\u001b[31m", hardware: hostile, uuid: "aa\nbb" };

  it("are escaped in the read table, so a hardware name cannot drive the terminal", () => {
    const text = formatReading({ device, values: { faultName: "FAULT\u001b[0m" } as MotorValues });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none are left
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
    expect(text.split("\n")[0]).toBe(
      "BMS\\x1b]0;pwned\\x07\\x1b[2J\\rX\\x00\\u202e  firmware 6.05\\x1b[31m  uuid aa\\nbb",
    );
    expect(text).toContain("FAULT\\x1b[0m");
  });

  it("are escaped in log lines: every event stays one printable line", () => {
    const lines: string[] = [];
    const log = createLog("debug", (l) => lines.push(l));
    log.warn(`hub: device ${hostile} registered`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(" warn  hub: device BMS\\x1b]0;pwned\\x07\\x1b[2J\\rX\\x00\\u202e registered");
    expect(escapeControl("plain ascii, ümlauts and °C")).toBe("plain ascii, ümlauts and °C");
  });
});

describe("BMS table", () => {
  // data_version 1, MOSFET slot n/a; 1 cell; i_in 0 and i_in_ic 0.15 A at 50 V.
  const v1 = decodeBmsValues(
    hex(`60 02 fa f0 80 00 00 00 00 00 00 00 00 00 02 49 f0 ${"00 ".repeat(8)}
      01 0e 74 00 05 0b b8 09 c4 0a 28 92 3c 08 98 0b b8 00 00 00 00 0a 28 01 f4 03 e8 0a
      ${"00 ".repeat(16)} 00 00 01 4f 4b 00`),
  );

  it("shows the measured current and its power, with i_in and the IC current raw", () => {
    const pack = formatBms(toBmsReading(v1))[0];
    expect(pack).toContain("current 0.150 A  power 7.5 W  (i_in 0.00 A, IC 0.150 A)");
  });

  it("names data_version 1 temperature slots and shows n/a for the unused one", () => {
    const temps = formatBms(toBmsReading(v1)).find((l) => l.startsWith("Temps"));
    expect(temps).toContain("IC 30.0, Cell Min 25.0, Cell Max 26.0, Mosfet n/a, Ambient 22.0 °C");
  });

  it("shows an implausible cell and pack voltage as such, never as a number", () => {
    const bms = toBmsReading({ ...v1, packVoltage: 2147.483647, cells: [-32.768], balancing: [false] });
    const text = formatBms(bms).join("\n");
    expect(text).toContain("Pack      - V");
    expect(text).toContain("power - W");
    expect(text).toContain("  1  implausible reading");
    expect(text).not.toMatch(/2147|32\.768/);
  });
});
