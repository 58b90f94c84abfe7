/**
 * V8 settings for a process that runs a bridge: `vesc2mqtt run` applies them at start, before
 * the fleet is built; a program embedding Bridge decides for itself (they are process-wide).
 * Both flags are read by V8 as it goes, so setting them at run time takes effect (the heap's
 * size limits are not: those only come from the command line or NODE_OPTIONS).
 *
 * No allocation-site pretenuring. V8 watches how many objects from each allocation site
 * outlive a young-generation GC and, past 85 %, allocates that site's objects straight in the
 * old generation from then on. A bridge's start-up (thousands of handshakes and discovery
 * documents at once) could tip the sites of per-reading objects (decoded values, readings)
 * over that line; the decision held for the life of the process, and every reading, dead a
 * millisecond later, became old-generation garbage: a major GC every few seconds at fleet
 * scale. Whether it happened differed from run to run, and with it the CPU per reading
 * (~100 vs ~120 µs at 5,000 devices, `npm run bench -- fleet`).
 *
 * Heap growth ×2 instead of up to ×4. After a major GC, V8 lets the old generation grow to a
 * multiple of what survived before the next one: up to four times on a machine with memory
 * to spare. A 5,000-device bridge keeps ~110 MB live and sat at 380–500 MB RSS; at twice the
 * live heap it holds ~320 MB, for a major GC about every minute once the fleet runs (little
 * outlives a young-generation GC any more), with the same poll latency.
 */
import v8 from "node:v8";

export function tuneV8ForBridge(): void {
  v8.setFlagsFromString("--no-allocation-site-pretenuring");
  v8.setFlagsFromString("--heap-growing-percent=100");
}
