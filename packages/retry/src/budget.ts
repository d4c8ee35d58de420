import {
  type Clock,
  type Duration,
  type OptionValidator,
  createValidator,
  optionsObject,
  systemClock,
} from '@palisade/core';

/** Options of {@link retryBudget}. */
export interface RetryBudgetOptions {
  /**
   * Retries allowed per first attempt in the window when half of the attempts fail (a number ≥ 0;
   * Finagle's and Envoy's fixed ratio). The budget adapts to the dependency's health: the allowance
   * is `ratio × 2 × (share of attempts that succeeded)` per first attempt, so up to twice `ratio`
   * while calls succeed, shrinking to nothing in a full outage (leaving `minPerSecond`). The share
   * is the lower of the window's and the last tenth of it (one bucket), so an outage that starts
   * after a healthy spell shuts retries within about a tenth of the window.
   * @default 0.2
   */
  ratio?: number;
  /** Retries always allowed per second on top of the ratio, so light traffic can retry. @default 10 */
  minPerSecond?: number;
  /** The sliding window counted, in ms or a duration string; kept in 10 buckets. @default 10_000 */
  windowMs?: Duration;
  /** Source of time: give the same clock as the policies sharing the budget. @default systemClock */
  clock?: Clock;
}

/** The plain-data options of a budget (what `retry({ budget })` accepts besides a budget). */
export type RetryBudgetSpec = Omit<RetryBudgetOptions, 'clock'>;

/**
 * Caps retries as a share of first attempts over a sliding window; share one between policies to
 * cap them together. `retry()` calls `deposit`, `recordFailure` and `tryWithdraw`; you only call
 * them from a policy of your own.
 */
export interface RetryBudget {
  readonly ratio: number;
  readonly minPerSecond: number;
  /** The window, in ms. */
  readonly windowMs: number;
  /** First attempts counted in the window. */
  readonly firstAttempts: number;
  /** Retries taken in the window. */
  readonly retries: number;
  /** Attempts recorded as failed (worth retrying) in the window. */
  readonly failures: number;
  /** Retries the budget would allow now. */
  readonly available: number;
  /** Counts a first attempt (a new call). O(1); reads the clock only every 64 calls. */
  deposit(): void;
  /** Counts an attempt that failed in a way worth retrying (it lowers the success share). */
  recordFailure(): void;
  /** Takes one retry if the budget allows it; `false`, with nothing counted, when it is spent. */
  tryWithdraw(): boolean;
}

/** Defaults of {@link RetryBudgetOptions} (Finagle's and Envoy's numbers). */
export const RETRY_BUDGET_DEFAULTS = Object.freeze({
  ratio: 0.2,
  minPerSecond: 10,
  windowMs: 10_000,
});

const PKG = '@palisade/retry';
const check = createValidator(PKG);
/** The window is kept in this many buckets of `windowMs / BUCKETS`. */
const BUCKETS = 10;
/**
 * A first attempt is counted in the newest bucket as of the last clock read, and the clock is read
 * once per this many (and on every retry decision), so the hot path reads no clock. At rates where
 * that lag matters (64 calls span a bucket, i.e. under ~64 calls a second with the defaults), the
 * `minPerSecond` floor allows more than the ratio anyway; and the lag only makes the budget stricter.
 */
const CLOCK_EVERY = 64;

class WindowedBudget implements RetryBudget {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly windowMs: number;
  readonly #clock: Clock;
  readonly #bucketMs: number;
  readonly #floor: number;
  /** Per bucket: first attempts, retries, failures (bucket `b` at `3 × (b mod BUCKETS)`). */
  readonly #counts = new Float64Array(3 * BUCKETS);
  #first = 0;
  #retries = 0;
  #failures = 0;
  /** Absolute number, `floor(time / bucketMs)`, of the newest bucket. */
  #head = Number.NEGATIVE_INFINITY;
  /** Offset in `#counts` of the newest bucket. */
  #slot = 0;
  #untimed = 0;
  /** How far into the newest bucket the last clock read was, in [0, 1). */
  #fraction = 0;

  constructor(ratio: number, minPerSecond: number, windowMs: number, clock: Clock) {
    this.ratio = ratio;
    this.minPerSecond = minPerSecond;
    this.windowMs = windowMs;
    this.#clock = clock;
    this.#bucketMs = windowMs / BUCKETS;
    this.#floor = (minPerSecond * windowMs) / 1_000;
  }

  get firstAttempts(): number {
    this.#advance();
    return this.#first;
  }

  get retries(): number {
    this.#advance();
    return this.#retries;
  }

  get failures(): number {
    this.#advance();
    return this.#failures;
  }

  get available(): number {
    this.#advance();
    return Math.max(0, Math.floor(this.#allowance() - this.#retries));
  }

  deposit(): void {
    if (--this.#untimed <= 0) this.#advance();
    (this.#counts[this.#slot] as number)++;
    this.#first++;
  }

  recordFailure(): void {
    this.#advance();
    (this.#counts[this.#slot + 2] as number)++;
    this.#failures++;
  }

  tryWithdraw(): boolean {
    this.#advance();
    if (this.#retries + 1 > this.#allowance()) return false;
    (this.#counts[this.#slot + 1] as number)++;
    this.#retries++;
    return true;
  }

  /** Retries allowed in the window: the floor plus `2 × ratio × success share` per first attempt. */
  #allowance(): number {
    const attempts = this.#first + this.#retries;
    const windowShare = attempts > 0 ? 1 - this.#failures / attempts : 1;
    // The last bucket's worth of time: the newest bucket plus the part of the one before that it
    // has not yet replaced. It reacts to an outage within one bucket, the window within ten.
    const c = this.#counts;
    const s = this.#slot;
    const p = (s + 3 * (BUCKETS - 1)) % (3 * BUCKETS);
    const w = 1 - this.#fraction;
    const recentAttempts = (c[s] as number) + (c[s + 1] as number) + w * ((c[p] as number) + (c[p + 1] as number));
    const recentFailures = (c[s + 2] as number) + w * (c[p + 2] as number);
    const recentShare = recentAttempts > 0 ? 1 - recentFailures / recentAttempts : 1;
    const successShare = Math.max(0, Math.min(windowShare, recentShare));
    return this.#floor + 2 * this.ratio * this.#first * successShare;
  }

  /** Reads the clock and drops the buckets that left the window. */
  #advance(): void {
    this.#untimed = CLOCK_EVERY;
    const time = this.#clock.now() / this.#bucketMs;
    const bucket = Math.floor(time);
    const head = this.#head;
    if (bucket >= head) this.#fraction = time - bucket;
    // Same bucket, or a clock that stepped back: keep counting into the newest bucket.
    if (!(bucket > head)) return;
    this.#head = bucket;
    const counts = this.#counts;
    if (bucket - head >= BUCKETS) {
      counts.fill(0);
      this.#first = this.#retries = this.#failures = 0;
    } else {
      for (let b = head + 1; b <= bucket; b++) {
        const slot = 3 * (((b % BUCKETS) + BUCKETS) % BUCKETS);
        this.#first -= counts[slot] as number;
        this.#retries -= counts[slot + 1] as number;
        this.#failures -= counts[slot + 2] as number;
        counts[slot] = counts[slot + 1] = counts[slot + 2] = 0;
      }
    }
    this.#slot = 3 * (((bucket % BUCKETS) + BUCKETS) % BUCKETS);
  }
}

/** Builds a budget from options, naming bad ones under `path` (e.g. `budget.ratio`). */
export function createRetryBudget(v: OptionValidator, options: RetryBudgetOptions, path: string): RetryBudget {
  const at = (option: string) => (path ? `${path}.${option}` : option);
  v.knownKeys(options, ['ratio', 'minPerSecond', 'windowMs', 'clock'], path || undefined);
  const ratio = v.number(at('ratio'), options.ratio, RETRY_BUDGET_DEFAULTS.ratio, { min: 0 });
  const minPerSecond = v.number(at('minPerSecond'), options.minPerSecond, RETRY_BUDGET_DEFAULTS.minPerSecond, {
    min: 0,
  });
  const windowMs = v.duration(at('windowMs'), options.windowMs, RETRY_BUDGET_DEFAULTS.windowMs, { min: BUCKETS });
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    v.fail(at('clock'), 'a Clock with now()', clock);
  }
  return new WindowedBudget(ratio, minPerSecond, windowMs, clock);
}

/**
 * A retry budget: retries are allowed while they stay within `minPerSecond × window` plus, per
 * first attempt in the window, `ratio × 2 × success share`, the share being the lower of the
 * window's and its last bucket's (see {@link RetryBudgetOptions.ratio}).
 * When it is spent a failed call is not retried: its error is thrown as is and a
 * `retry.budget-exhausted` event says why. Share one budget between policies (pass `budget`) to
 * cap the retries of a whole process against one dependency.
 * @example
 * const budget = retryBudget({ ratio: 0.1 });
 * const users = retry({ budget });
 * const orders = retry({ budget });
 */
export function retryBudget(options?: RetryBudgetOptions): RetryBudget {
  return createRetryBudget(check, optionsObject(PKG, 'retryBudget', options), '');
}

/** True for a {@link RetryBudget} (anything with its three methods), as opposed to plain options. */
export function isRetryBudget(value: unknown): value is RetryBudget {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RetryBudget).deposit === 'function' &&
    typeof (value as RetryBudget).tryWithdraw === 'function' &&
    typeof (value as RetryBudget).recordFailure === 'function'
  );
}
