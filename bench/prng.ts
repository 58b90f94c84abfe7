/**
 * Small seeded PRNGs for benchmarks and fuzz tests. xorshift32 is mirrored bit for bit in
 * bench/decoder_ref.cpp so the C reference cuts the stream into the same chunks as we do.
 */

/** Marsaglia xorshift32; `seed` must be non-zero. Returns uint32s. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** A PRNG with the helpers fuzzers need. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = xorshift32(seed);
  }
  u32(): number {
    return this.next();
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return this.next() % n;
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
  float(): number {
    return this.next() / 0x100000000;
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
}

/**
 * Chunk lengths for a stream of `total` bytes: 1..maxChunk each, from xorshift32(seed).
 * decoder_ref.cpp computes `1 + next() % maxChunk` the same way.
 */
export function chunkLengths(total: number, seed: number, maxChunk: number): number[] {
  const next = xorshift32(seed);
  const out: number[] = [];
  let left = total;
  while (left > 0) {
    const n = Math.min(left, 1 + (next() % maxChunk));
    out.push(n);
    left -= n;
  }
  return out;
}
