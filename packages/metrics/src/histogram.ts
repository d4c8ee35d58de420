/** One bucket of a {@link HistogramSnapshot}. */
export interface HistogramBucket {
  /** Upper bound, in ms (inclusive); `Infinity` for the last bucket. */
  le: number;
  /** Observations in this bucket (not cumulative). */
  count: number;
}

/** A latency histogram, as reported by `snapshot()`. Times in ms. */
export interface HistogramSnapshot {
  /** Observations recorded. */
  count: number;
  /** Sum of all observations, in ms. */
  sum: number;
  /** Smallest observation, in ms (`undefined` when empty). */
  min: number | undefined;
  /** Largest observation, in ms (`undefined` when empty). */
  max: number | undefined;
  /** Estimated median, in ms (`undefined` when empty). */
  p50: number | undefined;
  /** Estimated 90th percentile, in ms. */
  p90: number | undefined;
  /** Estimated 99th percentile, in ms. */
  p99: number | undefined;
  /** The fixed buckets and their counts. */
  buckets: HistogramBucket[];
}

/**
 * Index of the bucket that holds `ms`: the first bound ≥ `ms` (Prometheus `le` semantics), or
 * `bounds.length` for the implied `+Inf` bucket. Binary search: O(log buckets).
 */
export function bucketIndex(bounds: Float64Array, ms: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((bounds[mid] as number) < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whole milliseconds a {@link bucketFinder} answers from its table, at most. */
const TABLE_MS = 4_096;

/**
 * `bucketIndex` over `bounds`, answered for whole milliseconds up to the last bound (at most
 * 4_096 ms) from a table built once: durations measured with `Date.now()` are whole ms, so most
 * lookups are one typed-array read. Others (fractions, longer calls) take the binary search,
 * which costs ~10 ns more per event. `ms` must be ≥ 0 (the sink drops negative durations).
 */
export function bucketFinder(bounds: Float64Array): (ms: number) => number {
  const size = Math.min(Math.ceil(bounds[bounds.length - 1] as number), TABLE_MS) + 1;
  const table = new Uint8Array(size);
  for (let ms = 0; ms < size; ms++) table[ms] = bucketIndex(bounds, ms);
  return (ms) => (ms < size && (ms | 0) === ms ? (table[ms] as number) : bucketIndex(bounds, ms));
}

/**
 * Estimates the `q` quantile (0–1) of observations counted in fixed buckets, interpolating
 * linearly inside the bucket that holds the rank (as Prometheus' `histogram_quantile` does).
 * `counts[offset .. offset + bounds.length]` are the per-bucket counts (the last is `+Inf`).
 * Known `min`/`max` tighten the first and last buckets and clamp the estimate.
 * @returns `undefined` when there are no observations
 */
export function quantile(
  bounds: Float64Array,
  counts: ArrayLike<number>,
  q: number,
  offset = 0,
  min?: number,
  max?: number,
): number | undefined {
  const n = bounds.length;
  let total = 0;
  for (let i = 0; i <= n; i++) total += counts[offset + i] as number;
  if (total === 0) return undefined;
  const rank = q * total;
  let before = 0;
  for (let i = 0; i <= n; i++) {
    const c = counts[offset + i] as number;
    if (c > 0 && before + c >= rank) {
      let lower = i === 0 ? 0 : (bounds[i - 1] as number);
      let upper = i < n ? (bounds[i] as number) : (max ?? lower);
      if (min !== undefined && min > lower) lower = Math.min(min, upper);
      if (max !== undefined && max < upper) upper = Math.max(max, lower);
      const value = lower + (upper - lower) * Math.max(0, Math.min(1, (rank - before) / c));
      return clamp(value, min, max);
    }
    before += c;
  }
  return clamp(max ?? (bounds[n - 1] as number), min, max);
}

const clamp = (value: number, min: number | undefined, max: number | undefined): number =>
  min !== undefined && value < min ? min : max !== undefined && value > max ? max : value;

/**
 * A fixed-bucket latency histogram: `record` is O(log buckets) and allocates nothing. Buckets
 * are shared bounds (ms) plus one `+Inf` bucket.
 */
export class Histogram {
  readonly bounds: Float64Array;
  readonly counts: Float64Array;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(bounds: Float64Array) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one observation of `ms` that falls in bucket `index` (from {@link bucketIndex}). */
  add(ms: number, index: number): void {
    this.counts[index] = (this.counts[index] as number) + 1;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** Records one observation of `ms`. */
  record(ms: number): void {
    this.add(ms, bucketIndex(this.bounds, ms));
  }

  /** Estimated `q` quantile (0–1), in ms, or `undefined` when empty. */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    return quantile(this.bounds, this.counts, q, 0, this.min, this.max);
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }

  snapshot(): HistogramSnapshot {
    const empty = this.count === 0;
    const buckets: HistogramBucket[] = [];
    for (let i = 0; i < this.counts.length; i++) {
      buckets.push({
        le: i < this.bounds.length ? (this.bounds[i] as number) : Number.POSITIVE_INFINITY,
        count: this.counts[i] as number,
      });
    }
    return {
      count: this.count,
      sum: this.sum,
      min: empty ? undefined : this.min,
      max: empty ? undefined : this.max,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      buckets,
    };
  }
}
