/** BMS entity names and templates that follow the reading model: slot labels, current/power. */
import { describe, expect, test } from "vitest";
import { hex } from "../../../test/helpers/hex.js";
import { toBmsReading } from "../../model/bmsReading.js";
import { decodeBmsValues } from "../../protocol/index.js";
import { bmsEntities, bmsPresence } from "./bmsEntities.js";

const V1_REPLY = hex(`60 02 fa f0 80 ${"00 ".repeat(20)}
  01 0e 74 00 05 0b b8 09 c4 0a 28 92 3c 08 98 0b b8 00 00 00 00 0a 28 01 f4 03 e8 0a
  ${"00 ".repeat(16)} 00 00 01 4f 4b 00`);

const names = (bms: ReturnType<typeof toBmsReading>) =>
  bmsEntities(bmsPresence(bms))
    .filter((e) => e.key.startsWith("temperature_"))
    .map((e) => [e.key, e.name]);

describe("BMS temperature entities", () => {
  test("data_version 1 slots are named as VESC Tool names them; the n/a slot gets no entity", () => {
    expect(names(toBmsReading(decodeBmsValues(V1_REPLY)))).toEqual([
      ["temperature_1", "IC"],
      ["temperature_2", "Cell Min"],
      ["temperature_3", "Cell Max"],
      ["temperature_5", "Ambient"],
    ]);
  });

  test("older data keeps the generic names", () => {
    const v0 = { ...decodeBmsValues(V1_REPLY), dataVersion: 0, temperatures: [30, 25, 26, 20, 22] };
    expect(names(toBmsReading(v0)).map(([, n]) => n)).toEqual([
      "Temperature 1",
      "Temperature 2",
      "Temperature 3",
      "Temperature 4",
      "Temperature 5",
    ]);
  });
});

describe("BMS current and power entities", () => {
  test("publish packCurrent and packPower (what the BMS measures), not i_in", () => {
    const es = bmsEntities(bmsPresence(toBmsReading(decodeBmsValues(V1_REPLY))));
    const byKey = new Map(es.map((e) => [e.key, e]));
    expect(byKey.get("current")?.template).toBe("{{ value_json.bms.packCurrent }}");
    expect(byKey.get("power")?.template).toBe("{{ value_json.bms.packPower }}");
    expect(byKey.get("power")?.unit).toBe("W");
    expect(byKey.get("current_ic")?.template).toBe("{{ value_json.bms.currentIc }}");
  });
});
