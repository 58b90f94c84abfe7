/**
 * V8 settings `vesc2mqtt run` applies before building the fleet. They are process-wide, so a
 * program embedding Bridge decides for itself. Why: docs/performance.md, "Bridge heap".
 */
import v8 from "node:v8";

/** The old generation grows to twice what survived a major GC, not up to four times. */
export function tuneV8ForBridge(): void {
  v8.setFlagsFromString("--heap-growing-percent=100");
}
