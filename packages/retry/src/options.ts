import {
  type Clock,
  type Context,
  type Duration,
  type Emit,
  type PolicyOptions,
  createValidator,
  isAborted,
  isRejection,
  optionsObject,
  resolvePolicyOptions,
} from '@palisade/core';
import {
  type Backoff,
  type BackoffFunction,
  type BackoffSpec,
  EXPONENTIAL_DEFAULTS,
  normalizeBackoff,
} from './backoff.js';
import {
  RETRY_BUDGET_DEFAULTS,
  type RetryBudget,
  type RetryBudgetSpec,
  createRetryBudget,
  isRetryBudget,
} from './budget.js';

/** An attempt that threw (or rejected), as `retryOn` sees it. */
export interface RetryErrorOutcome {
  /** What the attempt threw. */
  readonly error: unknown;
  /** The attempt's number, 1-based. */
  readonly attempt: number;
  /** The attempt's Context. */
  readonly context: Context;
}

/** An attempt that returned, as `retryOn` sees it. */
export interface RetryValueOutcome {
  /** What the attempt returned (an HTTP `Response`, say). */
  readonly value: unknown;
  /** The attempt's number, 1-based. */
  readonly attempt: number;
  /** The attempt's Context. */
  readonly context: Context;
}

/** The outcome of one attempt: tell them apart with `'error' in outcome`. */
export type RetryOutcome = RetryErrorOutcome | RetryValueOutcome;

/** Options of {@link retry}. */
export interface RetryOptions extends PolicyOptions {
  /** Attempts in all, the first call included (1 = never retry). @default 3 */
  maxAttempts?: number;
  /**
   * The delay before each retry: `constant({ ms })`, `exponential({ … })`, their plain-data form
   * (`{ type: 'exponential', initialMs: 200 }`), or a function `(retry, error) => ms`.
   * @default exponential() — { type: 'exponential', initialMs: 100, maxMs: 10_000, factor: 2, jitter: 'full' }
   * @example backoff: exponential({ initialMs: '200ms', maxMs: '5s', jitter: 'decorrelated' })
   */
  backoff?: Backoff | BackoffSpec | BackoffFunction;
  /**
   * Whether an attempt's outcome is worth another attempt. It sees `{ error, attempt, context }`
   * or `{ value, attempt, context }`. Whatever it says, an abort by the caller (or an outer
   * policy) is never retried. The default, `RETRY_DEFAULTS.retryOn`, is there to compose with.
   * @default every error except palisade's "don't come back yet" rejections (`isRejection`: open
   * circuit, rate limited, bulkhead full, retry budget spent); never a value
   * @example retryOn: (o) => ('error' in o ? RETRY_DEFAULTS.retryOn(o) : (o.value as Response).status === 503)
   */
  retryOn?: (outcome: RetryOutcome) => boolean;
  /**
   * Caps retries as a share of first attempts (see `retryBudget()`): a budget to share between
   * policies, plain options for a budget of this policy's own, or `false` for none.
   * @default a budget of its own with RETRY_BUDGET_DEFAULTS — { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 }
   */
  budget?: RetryBudget | RetryBudgetSpec | false;
  /**
   * Longest single delay, in ms or a duration string: it caps backoffs and `retryAfterMs` floors.
   * An error asking (with `retryAfterMs`) for a longer wait than this is thrown at once.
   * @default 30_000
   */
  maxDelayMs?: Duration;
  /**
   * Source of the jitter draws, uniform in [0, 1); fix it in tests.
   * @default Math.random
   * @example random: () => 0.5
   */
  random?: () => number;
}

/** The default `retryOn`: every error except palisade's own rejections and aborts; no value. */
const retryErrors = (outcome: RetryOutcome): boolean =>
  'error' in outcome && !isRejection(outcome.error) && !isAborted(outcome.context);

/** Defaults of {@link RetryOptions}. */
export const RETRY_DEFAULTS = Object.freeze({
  maxAttempts: 3,
  backoff: EXPONENTIAL_DEFAULTS as BackoffSpec,
  retryOn: retryErrors as (outcome: RetryOutcome) => boolean,
  budget: RETRY_BUDGET_DEFAULTS as RetryBudgetSpec,
  maxDelayMs: 30_000,
  random: Math.random as () => number,
});

/** Options once validated and resolved. */
export interface NormalizedRetryOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly emit: Emit | undefined;
  readonly maxAttempts: number;
  readonly backoff: Backoff | BackoffFunction;
  readonly retryOn: (outcome: RetryOutcome) => boolean;
  /** True when `retryOn` was given: values are then shown to it too. */
  readonly checkValues: boolean;
  readonly budget: RetryBudget | undefined;
  readonly maxDelayMs: number;
  readonly random: () => number;
}

const PKG = '@palisade/retry';
const check = createValidator(PKG);
const KNOWN = ['maxAttempts', 'backoff', 'retryOn', 'budget', 'maxDelayMs', 'random', 'name', 'clock', 'onEvent'];

/** Validates `options` (a `TypeError` names the bad option) and applies the defaults. */
export function normalizeRetryOptions(options?: RetryOptions): NormalizedRetryOptions {
  const opts = optionsObject(PKG, 'retry', options);
  check.knownKeys(opts, KNOWN);
  const base = resolvePolicyOptions(PKG, 'retry', opts);
  const retryOn = check.func<(outcome: RetryOutcome) => boolean>('retryOn', opts.retryOn);
  let budget: RetryBudget | undefined;
  if (opts.budget === false) budget = undefined;
  else if (isRetryBudget(opts.budget)) budget = opts.budget;
  else if (opts.budget === undefined || (typeof opts.budget === 'object' && opts.budget !== null)) {
    budget = createRetryBudget(check, { ...(opts.budget ?? RETRY_DEFAULTS.budget), clock: base.clock }, 'budget');
  } else {
    check.fail('budget', 'a retryBudget(), budget options or false', opts.budget);
  }
  return {
    ...base,
    maxAttempts: check.integer('maxAttempts', opts.maxAttempts, RETRY_DEFAULTS.maxAttempts, { min: 1 }),
    backoff: normalizeBackoff(check, 'backoff', opts.backoff, RETRY_DEFAULTS.backoff),
    retryOn: retryOn ?? RETRY_DEFAULTS.retryOn,
    checkValues: retryOn !== undefined,
    budget,
    maxDelayMs: check.duration('maxDelayMs', opts.maxDelayMs, RETRY_DEFAULTS.maxDelayMs),
    random: check.func('random', opts.random, RETRY_DEFAULTS.random),
  };
}
