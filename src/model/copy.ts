/**
 * Shallow copies for the stages that annotate readings (sensor health, battery estimates).
 */

/**
 * A shallow copy made key by key, without `skip`: the same keys in the same order as
 * `{ ...o }`, so the JSON is the same. V8 takes a slow, allocating path for a literal that
 * spreads one object and then adds keys (docs/performance.md, "Readings built key by key").
 */
export function copyOf(o: object, skip?: string): Record<string, unknown> {
  const from = o as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in from) if (k !== skip) out[k] = from[k];
  return out;
}
