/**
 * Reconnect delays: exponential backoff with jitter, pure so the policy is table-tested once
 * for every transport kind. Jitter spreads the reconnects of a fleet that
 * lost its hub at the same moment.
 */

export interface BackoffOptions {
  /** Delay before the first retry, ms (default 1000). */
  readonly initialMs?: number;
  /** Upper bound, ms (default 60000). */
  readonly maxMs?: number;
  /** Growth per attempt (default 2). */
  readonly factor?: number;
  /** Fraction of the delay randomised either way, 0..1 (default 0.2: ±20 %). */
  readonly jitter?: number;
  /** A number in [0, 1); 0.5 means "no jitter". Passed in to keep this function pure. */
  readonly random?: number;
}

export const DEFAULT_BACKOFF_INITIAL_MS = 1000;
export const DEFAULT_BACKOFF_MAX_MS = 60_000;

/** Delay before retry number `attempt` (0 = the first retry), never above maxMs, never negative. */
export function nextDelay(attempt: number, opts: BackoffOptions = {}): number {
  const initial = Math.max(0, opts.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS);
  const max = Math.max(initial, opts.maxMs ?? DEFAULT_BACKOFF_MAX_MS);
  const factor = Math.max(1, opts.factor ?? 2);
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2));
  const random = Math.min(1, Math.max(0, opts.random ?? 0.5));
  const n = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt)) : 0;
  // Cap the exponent first so huge attempt counts stay finite.
  const base = Math.min(max, initial * factor ** Math.min(n, 64));
  const jittered = base * (1 + jitter * (2 * random - 1));
  return Math.round(Math.min(max, Math.max(0, jittered)));
}
