import { LRUCache } from 'lru-cache';
import type { NormalizedAdaptiveDelay } from './options.js';

/** Buckets per doubling of latency: each bucket spans 4.4% (2^(1/16)). */
const PER_OCTAVE = 16;
/** The lowest bucket starts at 2^-3 ms (0.125 ms); anything faster lands in it. */
const MIN_LOG2 = -3;
/** 20 doublings: the highest bucket ends at 2^17 ms (131 s); anything slower lands in it. */
const BUCKETS = PER_OCTAVE * 20;
/** Samples per half of the window: the window holds the last 1,024 to 2,048 latencies. */
export const HALF_WINDOW = 1_024;
/** Fewer latencies than this and the percentile is not trusted (the delay is `maxMs`). */
export const MIN_SAMPLES = 20;
/** The cached percentile is recomputed after this many new latencies. */
const REFRESH_EVERY = 16;
/**
 * The median may reach this multiple of its floor (the lowest median seen, see
 * {@link FLOOR_DOUBLING_MS}) before the dependency counts as queueing and hedges stop: a hedge sent
 * into a queue only lengthens it.
 */
const QUEUEING_FACTOR = 2;
/**
 * The floor may at most double in this time (10 min), so the queueing check is a matter of time,
 * whatever the call rate: a median that jumped c-fold (c > 2) stops hedges for 10 min × log2(c / 2)
 * (~6 min for 3x, 10 min for 4x), after which a dependency that stays that slow is hedged again.
 * (A floor rising per call would take an overload for the new normal within seconds on a busy
 * client, and take hours to accept a lasting change on a quiet one.)
 */
const FLOOR_DOUBLING_MS = 600_000;
/**
 * Latencies the window must hold before its median may set the floor: a median of fewer is too
 * rough to compare later medians with (of 256, it is within a few percent for a steady dependency).
 */
const FLOOR_MIN_SAMPLES = 256;

/** Upper edge of bucket `i`, in ms. */
const upperEdge = (i: number): number => 2 ** ((i + 1) / PER_OCTAVE + MIN_LOG2);

/**
 * Recent latencies in fixed memory: a log-scale histogram (320 buckets, 4.4% wide, 0.125 ms to
 * 131 s) in two halves of 1,024 samples. When the current half is full the older one is dropped,
 * so the percentile follows a changing distribution within ~2,048 calls (and rises within a few
 * dozen calls when latencies grow, since only the tail has to fill). Recording is O(1); a
 * percentile scans the buckets and is cached for {@link REFRESH_EVERY} records.
 */
export class LatencyHistogram {
  /** `[current half | previous half]` counts; a half never exceeds 1,024 so 16 bits suffice. */
  readonly #counts = new Uint16Array(BUCKETS * 2);
  #current = 0;
  #currentCount = 0;
  #previousCount = 0;
  #sinceRefresh = 0;
  #cached: number | undefined = undefined;
  /** The lowest trusted median seen, allowed to rise 2x per {@link FLOOR_DOUBLING_MS}. */
  #floor = Number.POSITIVE_INFINITY;
  /** Clock time (ms) the floor was last updated. */
  #floorTime = 0;
  /** The median is over {@link QUEUEING_FACTOR} × its floor (as of the last refresh). */
  #queueing = false;
  /** The second percentile the last {@link #scan} was asked for. */
  #second = 0;
  readonly #settings: NormalizedAdaptiveDelay;

  constructor(settings: NormalizedAdaptiveDelay) {
    this.#settings = settings;
  }

  /** Latencies in the window. */
  get count(): number {
    return this.#currentCount + this.#previousCount;
  }

  /** Adds one latency, in ms. */
  record(ms: number): void {
    let i = Math.floor((Math.log2(ms) - MIN_LOG2) * PER_OCTAVE);
    if (!(i >= 0)) i = 0;
    else if (i >= BUCKETS) i = BUCKETS - 1;
    if (this.#currentCount === HALF_WINDOW) {
      // The current half becomes the previous one; the old previous half is cleared and reused.
      this.#current = this.#current === 0 ? BUCKETS : 0;
      this.#counts.fill(0, this.#current, this.#current + BUCKETS);
      this.#previousCount = HALF_WINDOW;
      this.#currentCount = 0;
    }
    (this.#counts[this.#current + i] as number)++;
    this.#currentCount++;
    this.#sinceRefresh++;
  }

  /**
   * The `p`th percentile (0 < p < 100) of the window, rounded up to its bucket's upper edge (so it
   * errs late by < 4.5%: fewer hedges, never more), or `undefined` with fewer than
   * {@link MIN_SAMPLES} latencies.
   */
  percentile(p: number): number | undefined {
    return this.count < MIN_SAMPLES ? undefined : this.#scan(p, p);
  }

  /**
   * Two percentiles of the window in one pass over the buckets (a refresh needs the delay's and
   * the median): returns the `p`th and leaves the `q`th in {@link #second}.
   */
  #scan(p: number, q: number): number {
    const total = this.count;
    const low = Math.ceil((Math.min(p, q) / 100) * total);
    const high = Math.ceil((Math.max(p, q) / 100) * total);
    const counts = this.#counts;
    let seen = 0;
    let lowValue: number | undefined;
    let i = 0;
    // The last bucket holds whatever is left: the scan never needs to count it.
    for (; i < BUCKETS - 1; i++) {
      seen += (counts[i] as number) + (counts[BUCKETS + i] as number);
      if (lowValue === undefined && seen >= low) lowValue = upperEdge(i);
      if (seen >= high) break;
    }
    const highValue = upperEdge(i);
    lowValue ??= highValue;
    this.#second = q < p ? lowValue : highValue;
    return p <= q ? lowValue : highValue;
  }

  /**
   * The hedge delay this history gives: its percentile clamped to `[minMs, maxMs]` (cached).
   * @param now the policy clock's time, in ms: the floor of the queueing check rises with it
   */
  delayMs(now: number): number {
    if (this.#cached === undefined || this.#sinceRefresh >= REFRESH_EVERY) {
      const { percentile, minMs, maxMs } = this.#settings;
      this.#sinceRefresh = 0;
      // Not cached until trusted, so the first trusted value is used as soon as it exists.
      if (this.count < MIN_SAMPLES) return maxMs;
      const value = this.#scan(percentile, 50);
      this.#cached = Math.min(Math.max(value, minMs), maxMs);
      if (this.count >= FLOOR_MIN_SAMPLES) {
        const median = this.#second;
        // A clock that stepped back leaves the floor where it was.
        const elapsed = Math.max(0, now - this.#floorTime);
        const floor = Math.min(median, this.#floor * 2 ** (elapsed / FLOOR_DOUBLING_MS));
        this.#floor = floor;
        this.#floorTime = now;
        this.#queueing = median > floor * QUEUEING_FACTOR;
      }
    }
    return this.#cached;
  }

  /**
   * True while the median latency is over {@link QUEUEING_FACTOR} times its floor: the whole
   * distribution moved up, as it does when the dependency queues under load, and a hedge would
   * add to the queue rather than route around one slow call.
   */
  get queueing(): boolean {
    return this.#queueing;
  }
}

/**
 * The latency histories of one hedge policy: one shared by calls without a key, and one per key
 * held in an LRU of at most `maxKeys` (a flood of distinct keys costs bounded memory and no timer).
 */
export class LatencyTrackers {
  readonly #settings: NormalizedAdaptiveDelay;
  readonly #shared: LatencyHistogram;
  readonly #byKey: LRUCache<string, LatencyHistogram>;

  constructor(settings: NormalizedAdaptiveDelay, maxKeys: number) {
    this.#settings = settings;
    this.#shared = new LatencyHistogram(settings);
    this.#byKey = new LRUCache({ max: maxKeys });
  }

  /** Keys with their own history. */
  get size(): number {
    return this.#byKey.size;
  }

  /** The history of `key` (created on first use), or the shared one when `key` is undefined. */
  get(key: string | undefined): LatencyHistogram {
    if (key === undefined) return this.#shared;
    let histogram = this.#byKey.get(key);
    if (histogram === undefined) {
      histogram = new LatencyHistogram(this.#settings);
      this.#byKey.set(key, histogram);
    }
    return histogram;
  }

  /** The history of `key` if it exists, without creating or touching it. */
  peek(key: string | undefined): LatencyHistogram | undefined {
    return key === undefined ? this.#shared : this.#byKey.peek(key);
  }
}
