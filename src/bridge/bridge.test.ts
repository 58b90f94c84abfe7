/** Bridge composition details that need no broker traffic: how pollers are started. */
import { afterEach, expect, test } from "vitest";
import { validateConfig } from "../config/load.js";
import { syntheticReading } from "../../test/helpers/readings.js";
import type { BmsReading } from "../model/reading.js";
import { Bridge, sensorHealthOf } from "./bridge.js";
import { scratchDataDir } from "../../test/helpers/dataDir.js";

let bridge: Bridge | undefined;
afterEach(async () => {
  await bridge?.stop();
  bridge = undefined;
});

test("pollers start spread over their interval, so their polls never all fall in one instant", async () => {
  const devices = ["a", "b", "c", "d"].map((id) => ({
    id,
    interval_s: 2,
    connection: { type: "tcp", host: "127.0.0.1", port: 1 },
  }));
  const config = validateConfig(
    {
      data_dir: scratchDataDir(),
      mqtt: { embedded: { enabled: true, host: "127.0.0.1", port: 0 } },
      web: { enabled: false },
      history: { enabled: false },
      devices,
    },
    { env: {} },
  );
  bridge = new Bridge({ config });
  await bridge.start();
  const delays = ["a", "b", "c", "d"].map((id) => bridge?.pollers.get(id)?.options.startDelayMs);
  expect(delays).toEqual([0, 500, 1000, 1500]);
});

test("devices[].bms config: sensor numbers as keys, ignore and name, stuck and stale times", () => {
  const config = validateConfig(
    {
      data_dir: scratchDataDir(),
      devices: [
        {
          id: "pack",
          connection: { type: "tcp", host: "127.0.0.1", port: 1 },
          bms: {
            temperatures: { 4: { ignore: true }, 1: { name: "Cells top" } },
            stale_after_s: 30,
            stuck_after_s: 1,
            stuck_after_readings: 2,
          },
        },
      ],
    },
    { env: {} },
  );
  const d = config.devices[0];
  if (!d) throw new Error("no device");
  expect(d.bms).toEqual({
    temperatures: { "4": { ignore: true }, "1": { name: "Cells top" } },
    staleAfterS: 30,
    stuckAfterS: 1,
    stuckAfterReadings: 2,
  });
  const r = syntheticReading({ time: 0 });
  const bms = sensorHealthOf(d).apply({
    ...r,
    bms: { ...(r.bms as BmsReading), temperatures: [20, 21, 22, 99] },
  }).bms;
  expect(bms?.temperatures).toEqual([20, 21, 22, null]);
  expect(() =>
    validateConfig(
      {
        data_dir: scratchDataDir(),
        devices: [
          {
            id: "p",
            connection: { type: "tcp", host: "h", port: 1 },
            bms: { temperatures: { 0: { ignore: true } } },
          },
        ],
      },
      { env: {} },
    ),
  ).toThrow(/sensor number 1, 2/);
});
