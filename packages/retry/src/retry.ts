import {
  type ExecuteOptions,
  FUSE,
  type FusablePolicy,
  type FusedOutcome,
  type FusedStage,
  type Policy,
  type PolicyContext,
  abortReason,
  callerSignal,
  createContext,
  isAborted,
  isPolicyContext,
  offAbort,
  onAbort,
  Refusal,
} from '@palisade/core';
import { type Attempt, type Fn, failedAttempt, runAttempt, succeededAttempt } from './attempt.js';
import type { Backoff, BackoffFunction } from './backoff.js';
import type { RetryBudget } from './budget.js';
import { type NormalizedRetryOptions, type RetryOptions, normalizeRetryOptions } from './options.js';

/** The policy returned by {@link retry}. */
export interface RetryPolicy extends Policy {
  /** Attempts in all, the first call included. */
  readonly maxAttempts: number;
  /** The backoff in use. */
  readonly backoff: Backoff | BackoffFunction;
  /** The retry budget in use (shared or its own), or `undefined` with `budget: false`. */
  readonly budget: RetryBudget | undefined;
}

/** `retryAfterMs` of an error that carries one (palisade rejections, the fetch adapter's errors). */
function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const ms = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === 'number' && ms >= 0 ? ms : undefined;
}

function backoffMs(p: NormalizedRetryOptions, retry: number, error: unknown, previousMs: number): number {
  const { backoff } = p;
  const ms = typeof backoff === 'function' ? backoff(retry, error) : backoff.delay(retry, p.random, previousMs);
  return Number.isNaN(ms) ? 0 : Math.max(ms, 0); // negatives and NaN count as 0
}

/** Ends the call with `outcome`: returns its value or throws its error, after the event. */
function settle<T>(
  p: NormalizedRetryOptions,
  options: ExecuteOptions | undefined,
  outcome: Attempt<T>,
  start: number,
): T {
  if (p.emit) {
    const time = p.clock.now(); // stamps the event too: no second clock read
    const durationMs = time - start;
    const { attempt } = outcome;
    if (!outcome.failed && !outcome.retry) p.emit({ type: 'success', key: options?.key, attempt, durationMs, time });
    else p.emit({ type: 'failure', key: options?.key, attempt, durationMs, error: outcome.error, time });
  }
  if (outcome.failed) throw outcome.error;
  return outcome.value as T;
}

/**
 * The retry loop, entered once attempt 1 did not simply succeed: decide, wait, try again. Gives up
 * with the last outcome when it is not worth retrying, when attempts, the deadline, the budget or
 * `maxDelayMs` say so, and rejects with the abort reason when the caller aborts while it waits.
 */
async function retrying<T>(
  p: NormalizedRetryOptions,
  fn: Fn<T>,
  options: ExecuteOptions | undefined,
  first: Attempt<T>,
  start: number,
): Promise<T> {
  const { clock, emit, budget, maxDelayMs } = p;
  let outcome = first;
  let previousMs = 0;
  for (;;) {
    if (!outcome.retry) return settle(p, options, outcome, start);
    budget?.recordFailure();
    const n = outcome.attempt;
    if (n >= p.maxAttempts) return settle(p, options, outcome, start);
    const backoff = backoffMs(p, n, outcome.error, previousMs);
    let delayMs = backoff;
    const retryAfterMs = outcome.failed ? retryAfterOf(outcome.error) : undefined;
    if (retryAfterMs !== undefined) {
      // The server's "come back later" is a floor; one beyond our cap means give up now.
      if (retryAfterMs > maxDelayMs) return settle(p, options, outcome, start);
      if (retryAfterMs > delayMs) delayMs = retryAfterMs;
    }
    if (delayMs > maxDelayMs) delayMs = maxDelayMs;
    const deadline = options?.deadline;
    if (deadline !== undefined && clock.now() + delayMs >= deadline) return settle(p, options, outcome, start);
    const key = options?.key;
    if (budget && !budget.tryWithdraw()) {
      if (emit) emit({ type: 'retry.budget-exhausted', key, attempt: n + 1, error: outcome.error });
      return settle(p, options, outcome, start);
    }
    if (emit) {
      if (outcome.failed) emit({ type: 'retry', key, attempt: n + 1, delayMs, error: outcome.error });
      else emit({ type: 'retry', key, attempt: n + 1, delayMs, value: outcome.value });
    }
    try {
      // The parent's signal: a policy Context creates it only now, on this slow path.
      if (delayMs > 0) await clock.sleep(delayMs, options?.signal);
      if (isAborted(options)) throw abortReason(options);
    } catch (reason) {
      if (emit) emit({ type: 'failure', key, attempt: n, durationMs: clock.now() - start, error: reason });
      throw reason;
    }
    previousMs = backoff;
    outcome = await runAttempt(p, fn, options, n + 1);
  }
}

/** The caller's abort listener: rejects the call with the abort reason. */
class CallerAbort {
  constructor(
    readonly signal: AbortSignal,
    readonly reject: (reason: unknown) => void,
  ) {}
  handleEvent(): void {
    this.reject(this.signal.reason);
  }
}

/**
 * Rejects at once when the caller's own signal aborts, even while an attempt that ignores its
 * `ctx.signal` runs on (its outcome is then dropped: an aborted call is never retried).
 */
function raceCaller<T>(signal: AbortSignal, call: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = new CallerAbort(signal, reject);
    onAbort(signal, listener);
    call.then(
      (value) => {
        offAbort(signal, listener);
        resolve(value);
      },
      (error: unknown) => {
        offAbort(signal, listener);
        reject(error);
      },
    );
  });
}

/** Attempt 1 failed: judge it (in its Context), dispose of the Context, go on retrying. */
function recover<T>(
  p: NormalizedRetryOptions,
  fn: Fn<T>,
  options: ExecuteOptions | undefined,
  ctx: PolicyContext,
  error: unknown,
  start: number,
): Promise<T> {
  let first: Attempt<T>;
  try {
    first = failedAttempt<T>(p, options, ctx, error);
  } finally {
    release(options, ctx);
  }
  return retrying(p, fn, options, first, start);
}

/**
 * The Context of attempt 1: the one retry was given, when that is already a palisade Context for
 * attempt 1 (a timeout's, an outer retry's first attempt), else a child of it. Sharing saves a
 * Context a call, and its link into the parent; it behaves the same to `fn`: the same signal
 * (aborted by everything above), key, deadline and attempt number. Later attempts always get one
 * of their own.
 */
function firstContext(options: ExecuteOptions | undefined): PolicyContext {
  return isPolicyContext(options) && options.attempt === 1 ? options : createContext(options, 1);
}

/** Done with attempt 1's Context: disposed, unless it is the one retry was given (see {@link firstContext}). */
function release(options: ExecuteOptions | undefined, ctx: PolicyContext): void {
  if (ctx !== options) ctx.dispose();
}

// The handlers of attempt 1 are made in these two functions, not in `execute`: its own frame then
// holds no captured variables, and the lean path allocates one small closure, not the context of
// every variable either handler might need. (Closures written inline: a named one would cost a
// `name` definition per call under esbuild's keepNames, as in tsx and vitest.)

/** Judges a successful attempt 1 (in its Context), then disposes of the Context. */
function judgeValue<T>(
  p: NormalizedRetryOptions,
  options: ExecuteOptions | undefined,
  ctx: PolicyContext,
  value: T,
): Attempt<T> {
  try {
    return succeededAttempt(p, options, ctx, value);
  } finally {
    release(options, ctx);
  }
}

/**
 * Retry's part of a fused pipeline's call: attempt 1 as {@link judged} handles it, with the
 * policies inside retry run again for the attempts that follow. (A caller's abort is raced by the
 * pipeline, once for all its stages.)
 */
class RetryStage<T> implements FusedStage {
  constructor(
    readonly p: NormalizedRetryOptions,
    readonly options: ExecuteOptions | undefined,
    readonly ctx: PolicyContext,
    readonly start: number,
    readonly lean: boolean,
  ) {}

  settle(outcome: FusedOutcome): Promise<unknown> | undefined {
    const { p, options, ctx, start } = this;
    if (!outcome.ok) return recover(p, outcome.inner() as Fn<T>, options, ctx, outcome.result, start);
    if (this.lean) {
      release(options, ctx);
      return undefined;
    }
    const first = judgeValue(p, options, ctx, outcome.result as T);
    if (first.retry) return retrying(p, outcome.inner() as Fn<T>, options, first, start);
    outcome.result = settle(p, options, first, start);
    return undefined;
  }
}

/** Attempt 1 when success needs nothing done: only a failure is looked at. */
function onFailure<T>(
  p: NormalizedRetryOptions,
  fn: Fn<T>,
  options: ExecuteOptions | undefined,
  ctx: PolicyContext,
  promise: Promise<T>,
  start: number,
): Promise<T> {
  return promise.then(undefined, (error: unknown) => recover(p, fn, options, ctx, error, start));
}

/** Attempt 1 judged either way (events, `retryOn` values, a caller signal to race). */
function judged<T>(
  p: NormalizedRetryOptions,
  fn: Fn<T>,
  options: ExecuteOptions | undefined,
  ctx: PolicyContext,
  promise: Promise<T>,
  start: number,
): Promise<T> {
  const call = promise.then(
    (value) => {
      const first = judgeValue(p, options, ctx, value);
      if (first.retry) return retrying(p, fn, options, first, start);
      return settle(p, options, first, start);
    },
    (error: unknown) => recover(p, fn, options, ctx, error, start),
  );
  const caller = callerSignal(options);
  return caller === undefined ? call : raceCaller(caller, call);
}

/**
 * Retries a failed call with backoff and jitter, within a retry budget. `maxAttempts` counts the
 * first call; `retryOn` picks what is worth retrying (errors except palisade's own rejections, by
 * default; values too, if you say so). A `retryAfterMs` on the error is a floor for the next delay;
 * no delay exceeds `maxDelayMs`; no retry starts past the deadline (`ctx.deadline`). A caller abort
 * rejects at once with its reason — mid-backoff, or mid-attempt even if `fn` ignores `ctx.signal` —
 * and an aborted call is never retried. When it gives up, the last error is thrown as it is (or the
 * last value returned).
 *
 * The first attempt runs without an `async` frame: a call that succeeds first time costs a Context
 * and one `.then`.
 *
 * @example
 * const withRetry = retry({ maxAttempts: 4, backoff: exponential({ initialMs: '200ms' }) });
 * const user = await withRetry.execute(({ signal }) => fetchUser(id, { signal }));
 */
export function retry(options?: RetryOptions): RetryPolicy {
  const p = normalizeRetryOptions(options);
  const { clock, emit, budget } = p;
  /** Nothing to do when attempt 1 succeeds: no event, no value check. */
  const lean = emit === undefined && !p.checkValues;

  const policy: RetryPolicy & FusablePolicy = {
    name: p.name,
    maxAttempts: p.maxAttempts,
    backoff: p.backoff,
    budget,
    [FUSE](executeOptions: ExecuteOptions | undefined): RetryStage<unknown> | Refusal {
      if (executeOptions !== undefined && isAborted(executeOptions)) return new Refusal(abortReason(executeOptions));
      if (budget !== undefined) budget.deposit();
      const start = emit === undefined ? 0 : clock.now();
      return new RetryStage(p, executeOptions, firstContext(executeOptions), start, lean);
    },
    execute<T>(fn: Fn<T>, executeOptions?: ExecuteOptions): Promise<T> {
      if (executeOptions !== undefined && isAborted(executeOptions)) return Promise.reject(abortReason(executeOptions));
      if (budget !== undefined) budget.deposit();
      const start = emit === undefined ? 0 : clock.now();
      const ctx = firstContext(executeOptions);
      let promise: Promise<T>;
      try {
        const result = fn(ctx);
        promise = result instanceof Promise ? result : Promise.resolve(result);
      } catch (error) {
        promise = Promise.reject(error);
      }
      // With no parent signal, ctx never listens to anything: success needs no disposal.
      if (
        lean &&
        (executeOptions === undefined || (!isPolicyContext(executeOptions) && executeOptions.signal === undefined))
      ) {
        return onFailure(p, fn, executeOptions, ctx, promise, start);
      }
      return judged(p, fn, executeOptions, ctx, promise, start);
    },
  };
  return policy;
}
