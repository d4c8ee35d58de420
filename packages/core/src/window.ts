import type { Duration } from './duration.js';
import type { OptionValidator } from './validate.js';

/**
 * Which outcomes a {@link SlidingWindow} keeps, as users write it in options:
 * - `{ kind: 'count', size }`: the last `size` outcomes (a ring).
 * - `{ kind: 'time', ms, buckets? }`: the outcomes of the last `ms` (a duration), kept in `buckets`
 *   equal buckets (default 10), so that recording is O(1) and an outcome leaves the window between
 *   `ms − ms / buckets` and `ms` after it was recorded.
 * @example { kind: 'count', size: 100 }
 * @example { kind: 'time', ms: '10s' }
 */
export type SlidingWindowOptions =
  | { kind: 'count'; size: number }
  | { kind: 'time'; ms: Duration; buckets?: number | undefined };

/** A validated {@link SlidingWindowOptions}: durations in ms, `buckets` filled in. */
export type SlidingWindowSpec =
  | { readonly kind: 'count'; readonly size: number }
  | { readonly kind: 'time'; readonly ms: number; readonly buckets: number };

/** The number of buckets of a time window when `buckets` is not given. */
export const DEFAULT_WINDOW_BUCKETS = 10;
/** Largest `size` of a count window (at most 2 bits per outcome). */
export const MAX_WINDOW_SIZE = 1_048_576;
/** Largest `buckets` of a time window. */
export const MAX_WINDOW_BUCKETS = 1_000;

/**
 * Outcomes of recent calls, counted: how many calls, how many failed, how many were slow. Shared by
 * the circuit breaker (failure and slow-call rates) and adaptive limits, resilience4j-style.
 *
 * Recording is O(1) and allocates nothing in the steady state. Memory is small and lazy: a count
 * window keeps a bit per outcome for "failed" and one for "slow", each allocated when the first
 * such outcome arrives (a healthy window is a few counters); a time window allocates its buckets
 * on the first record. Nothing owns a timer: a time window drops old buckets when it is next told the time
 * (`record` or `expire`), however long it sat idle.
 *
 * The counters reflect the window as of the last `record(…, now)` or `expire(now)`: for a time
 * window, call `expire(now)` before reading them.
 *
 * @example
 * const w = slidingWindow({ kind: 'time', ms: 10_000, buckets: 10 });
 * w.record(true, false, clock.now());
 * w.expire(clock.now());
 * const failureRate = w.calls === 0 ? 0 : w.failures / w.calls;
 */
export interface SlidingWindow {
  /** `'count'` or `'time'`, as created. */
  readonly kind: 'count' | 'time';
  /** Outcomes in the window. */
  readonly calls: number;
  /** Outcomes in the window recorded as failed. */
  readonly failures: number;
  /** Outcomes in the window recorded as slow (a call may be both failed and slow). */
  readonly slowCalls: number;
  /**
   * Records one outcome. `now` (clock time, ms) places it in a time window and expires older
   * buckets first; a count window ignores it and evicts its oldest outcome once full.
   */
  record(failed: boolean, slow: boolean, now: number): void;
  /** Drops the outcomes that left a time window by `now`. A count window ignores it. */
  expire(now: number): void;
  /** Forgets every outcome. */
  reset(): void;
}

/** `n` zeros in a plain array: V8 keeps 32-bit integers unboxed in it, at half a typed array's cost. */
const zeros = (n: number): number[] => new Array<number>(n).fill(0);

/**
 * Counts of the last `size` outcomes: a ring of 1 bit per outcome for "failed" and another for
 * "slow", each allocated on its first set bit (32 outcomes per array element).
 */
class CountWindow implements SlidingWindow {
  readonly size: number;
  calls = 0;
  failures = 0;
  slowCalls = 0;
  /** Index of the next slot to write (the oldest outcome once full). */
  #next = 0;
  #failed: number[] | undefined = undefined;
  #slow: number[] | undefined = undefined;

  constructor(size: number) {
    this.size = size;
  }

  get kind(): 'count' {
    return 'count';
  }

  record(failed: boolean, slow: boolean): void {
    const i = this.#next;
    const word = i >>> 5;
    const mask = 1 << (i & 31);
    let failedBits = this.#failed;
    let slowBits = this.#slow;
    if (this.calls === this.size) {
      if (failedBits !== undefined && ((failedBits[word] as number) & mask) !== 0) {
        this.failures--;
        failedBits[word] = (failedBits[word] as number) & ~mask;
      }
      if (slowBits !== undefined && ((slowBits[word] as number) & mask) !== 0) {
        this.slowCalls--;
        slowBits[word] = (slowBits[word] as number) & ~mask;
      }
    } else {
      this.calls++;
    }
    if (failed) {
      if (failedBits === undefined) failedBits = this.#failed = zeros((this.size + 31) >>> 5);
      this.failures++;
      failedBits[word] = (failedBits[word] as number) | mask;
    }
    if (slow) {
      if (slowBits === undefined) slowBits = this.#slow = zeros((this.size + 31) >>> 5);
      this.slowCalls++;
      slowBits[word] = (slowBits[word] as number) | mask;
    }
    this.#next = i + 1 === this.size ? 0 : i + 1;
  }

  expire(): void {}

  reset(): void {
    this.calls = this.failures = this.slowCalls = this.#next = 0;
    this.#failed = this.#slow = undefined;
  }
}

/**
 * Counts of the last `ms`, in `buckets` buckets of `ms / buckets` each: per-bucket calls, failures
 * and slow calls in three arrays. While every counted call sits in the newest bucket (a key that
 * saw one burst, then went idle), the totals are that bucket's counts and no array exists; each
 * array is made when a second bucket comes into play (and dropped when the window empties).
 */
class TimeWindow implements SlidingWindow {
  readonly buckets: number;
  readonly bucketMs: number;
  calls = 0;
  failures = 0;
  slowCalls = 0;
  /** Absolute number (`floor(time / bucketMs)`) of the newest bucket; its slot is `head % buckets`. */
  #head = Number.NEGATIVE_INFINITY;
  #calls: number[] | undefined = undefined;
  #failed: number[] | undefined = undefined;
  #slow: number[] | undefined = undefined;

  constructor(ms: number, buckets: number) {
    this.buckets = buckets;
    this.bucketMs = ms / buckets;
  }

  get kind(): 'time' {
    return 'time';
  }

  record(failed: boolean, slow: boolean, now: number): void {
    this.expire(now);
    this.calls++;
    if (failed) this.failures++;
    if (slow) this.slowCalls++;
    const calls = this.#calls;
    if (calls === undefined) return; // all in the newest bucket: the totals say it all
    // A clock that went backwards records into the newest bucket.
    const slot = this.#head % this.buckets;
    calls[slot] = (calls[slot] as number) + 1;
    if (failed) {
      const failures = (this.#failed ??= zeros(this.buckets));
      failures[slot] = (failures[slot] as number) + 1;
    }
    if (slow) {
      const slowCalls = (this.#slow ??= zeros(this.buckets));
      slowCalls[slot] = (slowCalls[slot] as number) + 1;
    }
  }

  expire(now: number): void {
    const bucket = Math.floor(now / this.bucketMs);
    const head = this.#head;
    if (!(bucket > head)) return;
    this.#head = bucket;
    if (this.calls === 0) return; // every bucket is already empty
    if (bucket - head >= this.buckets) {
      // Idle for a whole window or more: everything left, whatever the length of the gap.
      this.reset();
      return;
    }
    let calls = this.#calls;
    if (calls === undefined) {
      // Everything counted so far is in the bucket `head`, about to become an older one.
      const slot = head % this.buckets;
      calls = this.#calls = zeros(this.buckets);
      calls[slot] = this.calls;
      if (this.failures !== 0) (this.#failed = zeros(this.buckets))[slot] = this.failures;
      if (this.slowCalls !== 0) (this.#slow = zeros(this.buckets))[slot] = this.slowCalls;
      return; // the buckets after `head` up to `bucket` are empty already
    }
    const failed = this.#failed;
    const slow = this.#slow;
    for (let b = head + 1; b <= bucket; b++) {
      const slot = b % this.buckets;
      this.calls -= calls[slot] as number;
      calls[slot] = 0;
      if (failed !== undefined) {
        this.failures -= failed[slot] as number;
        failed[slot] = 0;
      }
      if (slow !== undefined) {
        this.slowCalls -= slow[slot] as number;
        slow[slot] = 0;
      }
    }
  }

  reset(): void {
    this.calls = this.failures = this.slowCalls = 0;
    this.#calls = this.#failed = this.#slow = undefined;
  }
}

/** Creates the {@link SlidingWindow} a validated spec describes. */
export function slidingWindow(spec: SlidingWindowSpec): SlidingWindow {
  return spec.kind === 'count' ? new CountWindow(spec.size) : new TimeWindow(spec.ms, spec.buckets);
}

/**
 * Validates a window option with the calling package's validator (so the `TypeError` names that
 * package and `option`), applying `fallback` when it is `undefined`. Returns a frozen spec.
 * @example const window = normalizeWindowOptions(check, 'window', opts.window, { kind: 'count', size: 100 });
 */
export function normalizeWindowOptions(
  check: OptionValidator,
  option: string,
  value: unknown,
  fallback: SlidingWindowSpec,
): SlidingWindowSpec {
  if (value === undefined) return fallback;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return check.fail(option, "a window: { kind: 'count', size } or { kind: 'time', ms }", value);
  }
  const rawKind = (value as { kind?: unknown }).kind;
  if (rawKind === undefined) check.fail(`${option}.kind`, "one of 'count', 'time'", rawKind);
  const kind = check.oneOf(`${option}.kind`, rawKind, ['count', 'time'], 'count');
  if (kind === 'count') {
    check.knownKeys(value, ['kind', 'size'], option);
    const { size } = value as { size?: unknown };
    if (size === undefined) check.fail(`${option}.size`, `an integer between 1 and ${MAX_WINDOW_SIZE}`, size);
    return Object.freeze({ kind, size: check.integer(`${option}.size`, size, 0, { min: 1, max: MAX_WINDOW_SIZE }) });
  }
  check.knownKeys(value, ['kind', 'ms', 'buckets'], option);
  const { ms, buckets } = value as { ms?: unknown; buckets?: unknown };
  if (ms === undefined) check.fail(`${option}.ms`, 'a duration ≥ 1 ms', ms);
  return Object.freeze({
    kind,
    ms: check.duration(`${option}.ms`, ms, 0, { min: 1 }),
    buckets: check.integer(`${option}.buckets`, buckets, DEFAULT_WINDOW_BUCKETS, { min: 1, max: MAX_WINDOW_BUCKETS }),
  });
}
