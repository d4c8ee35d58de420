import { type Context, RateLimitedError, describe, offAbort, onAbort } from '@palisade/core';
import { TRY_TAKE } from './memory-store.js';
import type { NormalizedLimitOptions } from './options.js';
import type { RateLimitDecision } from './store.js';

/** A decision the policy made itself because the store failed (`onStoreError`). */
export interface StoreErrorDecision extends RateLimitDecision {
  /** The store's error (or timeout) that led to this decision. */
  readonly storeError: unknown;
}

/** The key all calls share when neither the `key` option nor `ExecuteOptions.key` names one. */
export const SHARED_KEY = '*';

/**
 * The store as a policy sees it: `consume` never throws or rejects — a failing store becomes the
 * decision `onStoreError` asks for — and it emits `ratelimit.rejected` / `ratelimit.store-error`.
 */
export interface Limiter {
  /**
   * Takes `cost` from `key` if available right now, building nothing (in-process stores only);
   * `undefined` for stores without a fast path. False: ask `consume` for the decision.
   */
  readonly tryTake: ((key: string, cost: number) => boolean) | undefined;
  consume(key: string, cost: number, maxWaitMs: number): RateLimitDecision | Promise<RateLimitDecision>;
  /** Gives back what an allowed `decision` took; a failing refund is ignored (the slot is lost, never doubled). */
  refund(key: string, cost: number, decision: RateLimitDecision): void;
  /** The key of a call. */
  keyOf(ctx: Context): string;
  /** The cost of a call; a `cost` function returning a bad value throws a `RangeError`. */
  costOf(ctx: Context): number;
  /** Checks a cost given at call time. */
  checkCost(cost: number): number;
  /** The error for a refused decision. */
  rejection(decision: RateLimitDecision): RateLimitedError;
}

/** Wraps a policy's bound store with its `onStoreError` mode and its events. */
export function createLimiter(policy: NormalizedLimitOptions, kind: string): Limiter {
  const { bound, emit, onStoreError: mode, limit, burst, windowMs, key: keyOption, cost: costOption } = policy;
  // Fail-closed callers are told to come back in a second (or a window, if shorter): long enough
  // not to hammer a failing store, short enough that recovery is seen soon.
  const closedRetryMs = Math.min(windowMs, 1_000);

  const failed = (error: unknown, key: string): StoreErrorDecision => {
    if (emit) emit({ type: 'ratelimit.store-error', key, error, mode });
    if (mode === 'fail-open') {
      return { allowed: true, limit, remaining: burst, resetMs: 0, retryAfterMs: 0, storeError: error };
    }
    if (emit) emit({ type: 'ratelimit.rejected', key, retryAfterMs: closedRetryMs, limit, remaining: 0 });
    return {
      allowed: false,
      limit,
      remaining: 0,
      resetMs: closedRetryMs,
      retryAfterMs: closedRetryMs,
      storeError: error,
    };
  };

  const decided = (decision: RateLimitDecision, key: string): RateLimitDecision => {
    if (emit && !decision.allowed) {
      emit({
        type: 'ratelimit.rejected',
        key,
        retryAfterMs: decision.retryAfterMs,
        limit: decision.limit,
        remaining: decision.remaining,
      });
    }
    return decision;
  };

  const checkCost = (cost: unknown): number => {
    if (typeof cost === 'number' && cost >= 0 && cost <= burst) return cost;
    throw new RangeError(
      `@palisade/rate-limit: a call's cost must be a number between 0 and ${burst} (got ${describe(cost)})`,
    );
  };

  const fast = (bound as { [TRY_TAKE]?: (key: string, cost: number) => boolean })[TRY_TAKE];
  return {
    tryTake: typeof fast === 'function' ? fast.bind(bound) : undefined,
    consume(key, cost, maxWaitMs) {
      let result: RateLimitDecision | Promise<RateLimitDecision>;
      try {
        result = bound.consume(key, cost, maxWaitMs);
      } catch (error) {
        return failed(error, key);
      }
      if (typeof (result as Promise<RateLimitDecision>).then === 'function') {
        return (result as Promise<RateLimitDecision>).then(
          (decision) => decided(decision, key),
          (error: unknown) => failed(error, key),
        );
      }
      return emit ? decided(result as RateLimitDecision, key) : (result as RateLimitDecision);
    },
    refund(key, cost, decision) {
      if (
        !decision.allowed ||
        bound.refund === undefined ||
        (decision as StoreErrorDecision).storeError !== undefined
      ) {
        return;
      }
      try {
        const done = bound.refund(key, cost, decision);
        if (done) done.then(undefined, () => {});
      } catch {
        // Losing a refund only under-uses the limit; it never lets more through.
      }
    },
    keyOf:
      typeof keyOption === 'function'
        ? keyOption
        : keyOption !== undefined
          ? () => keyOption
          : (ctx) => ctx.key ?? SHARED_KEY,
    costOf: typeof costOption === 'function' ? (ctx) => checkCost(costOption(ctx)) : () => costOption,
    checkCost,
    rejection(decision) {
      const { retryAfterMs, limit: l, remaining, resetMs } = decision;
      const cause = (decision as StoreErrorDecision).storeError;
      return new RateLimitedError(
        { retryAfterMs, limit: l, remaining, resetMs, windowMs },
        cause === undefined ? { policy: kind } : { policy: kind, cause },
      );
    },
  };
}

/**
 * `promise`, or the `signal`'s reason as soon as it aborts (for a prompt rejection while a store
 * round trip is in flight). The listener is removed either way.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const aborted = () => reject(signal.reason);
    onAbort(signal, aborted);
    promise.then(
      (value) => {
        offAbort(signal, aborted);
        resolve(value);
      },
      (error: unknown) => {
        offAbort(signal, aborted);
        reject(error);
      },
    );
  });
}
