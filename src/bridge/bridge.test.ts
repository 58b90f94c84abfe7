/** Bridge composition details that need no broker traffic: how pollers are started. */
import { afterEach, expect, test } from "vitest";
import { validateConfig } from "../config/load.js";
import { Bridge } from "./bridge.js";

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
