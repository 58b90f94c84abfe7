import { describe, expect, it } from "vitest";
import { hex } from "../../../test/helpers/hex.js";
import { decodeBmsValues, encodeBmsValuesResponse } from "./bmsGetValues.js";
import { bmsTemperatureLabel, isTemperatureNotApplicable } from "./bmsTemperatures.js";

/** A data_version 1 reply (firmware 6.06+): 1 cell, 5 temperature slots, MOSFET slot n/a. */
const V1_REPLY = hex(`60 02 fa f0 80 ${"00 ".repeat(20)}
  01 0e 74 00 05 0b b8 09 c4 0a 28 92 3c 08 98 0b b8 00 00 00 00 0a 28 01 f4 03 e8 0a
  ${"00 ".repeat(16)} 00 00 01 4f 4b 00`);

describe("BMS temperature slots", () => {
  it("decodes the data_version 1 reply with the raw wire values (n/a marker kept)", () => {
    const v = decodeBmsValues(V1_REPLY);
    expect(v.packVoltage).toBe(50);
    expect(v.cells).toEqual([3.7]);
    expect(v.temperatures).toEqual([30, 25, 26, -281, 22]);
    expect(v.icTemperature).toBe(30);
    expect(v.maxCellTemperature).toBe(26);
    expect(v.soc).toBe(50);
    expect(v.soh).toBe(100);
    expect(v.canId).toBe(10);
    expect(v.pressure).toBe(0);
    expect(v.dataVersion).toBe(1);
    expect(v.status).toBe("OK");
    expect(encodeBmsValuesResponse(v)).toEqual(V1_REPLY);
  });

  it("marks ≤ −280 °C as not applicable, nothing warmer", () => {
    expect(isTemperatureNotApplicable(-281)).toBe(true);
    expect(isTemperatureNotApplicable(-280)).toBe(true);
    expect(isTemperatureNotApplicable(-327.68)).toBe(true);
    expect(isTemperatureNotApplicable(-279.99)).toBe(false);
    expect(isTemperatureNotApplicable(-40)).toBe(false);
    expect(isTemperatureNotApplicable(0)).toBe(false);
  });

  it("labels data_version 1 slots as VESC Tool does, extra sensors numbered after them", () => {
    const labels = Array.from({ length: 7 }, (_, i) => bmsTemperatureLabel(i, 1));
    expect(labels).toEqual([
      "IC",
      "Cell Min",
      "Cell Max",
      "Mosfet",
      "Ambient",
      "Temperature 1",
      "Temperature 2",
    ]);
  });

  it("labels older data generically, by 1-based slot number", () => {
    expect(bmsTemperatureLabel(0, undefined)).toBe("Temperature 1");
    expect(bmsTemperatureLabel(3, 0)).toBe("Temperature 4");
    expect(bmsTemperatureLabel(23, undefined)).toBe("Temperature 24");
  });
});
