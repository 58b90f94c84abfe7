/**
 * The fleet pipeline bench measures a steady state: by its first measured round the start-up
 * discovery (the connect republish, then each device's first shape) is over, so no discovery
 * is built or published in the rounds it reports.
 */
import { expect, test } from "vitest";
import { runPipeline } from "../../bench/fleetPipeline.js";

test("no discovery goes out in the measured rounds, however many slices the connect republish takes", async () => {
  // 200 devices are ten republish slices: more than the warm-up's rounds.
  const r = await runPipeline(200, 3, 5);
  expect(r.published).toBeGreaterThan(0);
  expect(r.discoveryPublished).toBe(0);
}, 60_000);
