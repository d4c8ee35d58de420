import {
  type Context,
  type ExecuteOptions,
  type Policy,
  abortReason,
  callerSignal,
  invoke,
  isAborted,
  toContext,
} from '@palisade/core';
import { type Limiter, createLimiter, untilAborted } from './limiter.js';
import { type RateLimitOptions, normalizeRateLimitOptions } from './options.js';
import type { RateLimitDecision, RateLimitStore, StoreErrorMode } from './store.js';

/** The policy returned by {@link rateLimit}. */
export interface RateLimitPolicy extends Policy {
  /** Units per window. */
  readonly limit: number;
  /** The window, in ms. */
  readonly windowMs: number;
  /** Units an idle key may take at once. */
  readonly burst: number;
  /** The store the policy keeps its state in. */
  readonly store: RateLimitStore;
  /** What the policy does when the store fails. */
  readonly onStoreError: StoreErrorMode;
  /**
   * Takes `cost` units from `key` now and returns the decision, allowed or not — for HTTP adapters,
   * which send the IETF `RateLimit` headers on every response and run the handler themselves.
   * Emits the same events and applies `onStoreError` like `execute`. Synchronous with
   * `memoryStore()`, a promise with `redisStore()`.
   * @param cost units to take; defaults to the `cost` option (its value, or 1 when it is a function)
   */
  consume(key: string, cost?: number): RateLimitDecision | Promise<RateLimitDecision>;
}

/**
 * Rejects calls over `limit` per `windowMs` (per key) with a `RateLimitedError` that says when to
 * come back (`retryAfterMs`, plus `limit`, `remaining` and `resetMs` for the `RateLimit` headers);
 * `fn` is not called. GCRA: calls are admitted smoothly — up to `burst` at once, then one every
 * `windowMs / limit` ms — never 2× at a window boundary. With `memoryStore()` (the default) the
 * decision is synchronous and nothing is awaited before `fn`.
 *
 * @example
 * const perClient = rateLimit({ limit: 100, windowMs: '1m' });
 * await perClient.execute(() => handle(req), { key: req.ip });
 */
export function rateLimit(options?: RateLimitOptions): RateLimitPolicy {
  const policy = normalizeRateLimitOptions(options);
  const limiter = createLimiter(policy, 'rate-limit');
  const { keyOf, costOf, tryTake } = limiter;
  const defaultCost = typeof policy.cost === 'number' ? policy.cost : 1;

  return {
    name: policy.name,
    limit: policy.limit,
    windowMs: policy.windowMs,
    burst: policy.burst,
    store: policy.store,
    onStoreError: policy.onStoreError,
    consume(key: string, cost?: number): RateLimitDecision | Promise<RateLimitDecision> {
      return limiter.consume(key, cost === undefined ? defaultCost : limiter.checkCost(cost), 0);
    },
    execute<T>(fn: (ctx: Context) => Promise<T> | T, executeOptions?: ExecuteOptions): Promise<T> {
      if (isAborted(executeOptions)) return Promise.reject(abortReason(executeOptions));
      const ctx = toContext(executeOptions);
      let key: string;
      let cost: number;
      try {
        key = keyOf(ctx);
        cost = costOf(ctx);
      } catch (error) {
        return Promise.reject(error);
      }
      if (tryTake?.(key, cost)) return invoke(fn, ctx);
      const decision = limiter.consume(key, cost, 0);
      if (typeof (decision as Promise<RateLimitDecision>).then === 'function') {
        return afterStore(decision as Promise<RateLimitDecision>, fn, ctx, executeOptions, limiter, key, cost);
      }
      if (!(decision as RateLimitDecision).allowed) {
        return Promise.reject(limiter.rejection(decision as RateLimitDecision));
      }
      return invoke(fn, ctx);
    },
  };
}

/** The call once an asynchronous store has answered; a caller abort meanwhile rejects at once. */
async function afterStore<T>(
  pending: Promise<RateLimitDecision>,
  fn: (ctx: Context) => Promise<T> | T,
  ctx: Context,
  executeOptions: ExecuteOptions | undefined,
  limiter: Limiter,
  key: string,
  cost: number,
): Promise<T> {
  const caller = callerSignal(executeOptions);
  let decision: RateLimitDecision;
  try {
    decision = caller ? await untilAborted(pending, caller) : await pending;
  } catch (reason) {
    // Only an abort gets here (the limiter never rejects): give back what the store takes late.
    pending.then((late) => limiter.refund(key, cost, late));
    throw reason;
  }
  if (isAborted(ctx)) {
    limiter.refund(key, cost, decision);
    throw abortReason(ctx);
  }
  if (!decision.allowed) throw limiter.rejection(decision);
  return invoke(fn, ctx);
}
