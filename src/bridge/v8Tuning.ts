/**
 * V8 settings for a process that runs a bridge: `vesc2mqtt run` applies them at start, before
 * the fleet is built; a program embedding Bridge decides for itself (they are process-wide).
 *
 * Allocation-site pretenuring: V8 watches how many objects from each allocation site outlive a
 * young-generation GC and, past 85 %, allocates that site's objects straight in the old
 * generation from then on. A bridge's start-up (thousands of handshakes and discovery
 * documents at once) can tip the sites of the per-reading objects (decoded values, readings)
 * over that line; the decision then holds for the life of the process, and every reading,
 * dead a millisecond later, becomes old-generation garbage: a major GC every few seconds at
 * fleet scale. Whether it happens differed from run to run, and with it the CPU per reading
 * (~100 vs ~120 µs at 5,000 devices, `npm run bench -- fleet`). Without pretenuring, the young
 * generation's GC sorts these objects out as it should.
 */
import v8 from "node:v8";

export function tuneV8ForBridge(): void {
  v8.setFlagsFromString("--no-allocation-site-pretenuring");
}
