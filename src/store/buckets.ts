/**
 * Weighted averaging of value vectors into time buckets (NaN = absent, ignored per value),
 * shared by raw-row and minute-average range queries. Time is averaged too, so a bucket's
 * point sits where its readings are, not at the bucket's edge.
 */
export type Point = readonly [time: number, values: Float64Array];

export class BucketAverager {
  private readonly sum: Float64Array;
  private readonly weight: Float64Array;
  private readonly avg: Float64Array;
  private bucket = Number.NaN;
  private tSum = 0;
  private tWeight = 0;

  constructor(size: number) {
    this.sum = new Float64Array(size);
    this.weight = new Float64Array(size);
    this.avg = new Float64Array(size);
  }

  /** Adds a point to `bucket`; returns the previous bucket's average when this one is new. */
  push(bucket: number, t: number, values: Float64Array, weight = 1): Point | undefined {
    const done = bucket !== this.bucket && this.tWeight > 0 ? this.finish() : undefined;
    this.bucket = bucket;
    for (let i = 0; i < values.length; i++) {
      const x = values[i] ?? Number.NaN;
      if (!Number.isNaN(x)) {
        this.sum[i] = (this.sum[i] ?? 0) + x * weight;
        this.weight[i] = (this.weight[i] ?? 0) + weight;
      }
    }
    this.tSum += t * weight;
    this.tWeight += weight;
    return done;
  }

  /** The open bucket's average (the returned array is reused by the next call). */
  finish(): Point | undefined {
    if (this.tWeight === 0) return undefined;
    for (let i = 0; i < this.avg.length; i++) {
      const w = this.weight[i] ?? 0;
      this.avg[i] = w > 0 ? (this.sum[i] ?? 0) / w : Number.NaN;
    }
    const out: Point = [Math.round(this.tSum / this.tWeight), this.avg];
    this.sum.fill(0);
    this.weight.fill(0);
    this.tSum = 0;
    this.tWeight = 0;
    return out;
  }
}
