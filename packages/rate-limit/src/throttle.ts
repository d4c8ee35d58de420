import {
  type Clock,
  type Context,
  type ExecuteOptions,
  type Policy,
  abortReason,
  callerSignal,
  invoke,
  isAborted,
  isPolicyContext,
  toContext,
} from '@palisade/core';
import { type Limiter, createLimiter, untilAborted } from './limiter.js';
import { type NormalizedThrottleOptions, type ThrottleOptions, normalizeThrottleOptions } from './options.js';
import type { RateLimitDecision, RateLimitStore, StoreErrorMode } from './store.js';

/** The policy returned by {@link throttle}. */
export interface ThrottlePolicy extends Policy {
  /** Units per window. */
  readonly limit: number;
  /** The window, in ms. */
  readonly windowMs: number;
  /** Units an idle key may take at once. */
  readonly burst: number;
  /** Calls that may wait at once in this process. */
  readonly maxQueue: number;
  /** Longest a call may be scheduled ahead, in ms. */
  readonly maxWaitMs: number;
  /** The store the reservations are made in. */
  readonly store: RateLimitStore;
  /** What the policy does when the store fails. */
  readonly onStoreError: StoreErrorMode;
  /** Calls waiting for their turn in this process now. */
  readonly queued: number;
}

/** Per-policy state shared by the calls. */
interface ThrottleState {
  readonly policy: NormalizedThrottleOptions;
  readonly limiter: Limiter;
  readonly clock: Clock;
  /** Calls sleeping until their slot. */
  queued: number;
  /** Reservations in flight to an asynchronous store (counted against `maxQueue` too). */
  reserving: number;
}

/**
 * Queue mode on the same GCRA and stores as `rateLimit()`: instead of being refused, a call over
 * the limit reserves the earliest slot and waits for it (through the clock, abortable), then runs.
 * A reservation that would wait longer than `maxWaitMs`, past the call's `deadline`, or with
 * `maxQueue` calls already waiting is refused with a `RateLimitedError` and takes nothing; a call
 * aborted while it waits gives its slot back where GCRA allows. Under its limit a call runs at once
 * (no timer, no promise with `memoryStore()`). With `redisStore()` the pace holds across the fleet.
 *
 * @example
 * // A third-party quota of 100 requests per second, shared by every instance:
 * const paced = throttle({ limit: 100, windowMs: '1s', burst: 1, store: redisStore({ client }) });
 * const res = await paced.execute(({ signal }) => fetch(url, { signal }));
 */
export function throttle(options?: ThrottleOptions): ThrottlePolicy {
  const policy = normalizeThrottleOptions(options);
  const state: ThrottleState = {
    policy,
    limiter: createLimiter(policy, 'throttle'),
    clock: policy.clock,
    queued: 0,
    reserving: 0,
  };
  const { keyOf, costOf, tryTake } = state.limiter;

  return {
    name: policy.name,
    limit: policy.limit,
    windowMs: policy.windowMs,
    burst: policy.burst,
    maxQueue: policy.maxQueue,
    maxWaitMs: policy.maxWaitMs,
    store: policy.store,
    onStoreError: policy.onStoreError,
    get queued() {
      return state.queued;
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
      const decision = state.limiter.consume(key, cost, maxWaitOf(state, ctx));
      if (typeof (decision as Promise<RateLimitDecision>).then === 'function') {
        return afterStore(state, decision as Promise<RateLimitDecision>, fn, ctx, executeOptions, key, cost);
      }
      const d = decision as RateLimitDecision;
      if (!d.allowed) return Promise.reject(state.limiter.rejection(d));
      if (d.retryAfterMs === 0) return invoke(fn, ctx);
      return waitTurn(state, d, fn, ctx, executeOptions, key, cost);
    },
  };
}

/** How far ahead this call may be scheduled: `maxWaitMs`, its deadline, or not at all when the queue is full. */
function maxWaitOf(state: ThrottleState, ctx: Context): number {
  const { maxQueue, maxWaitMs } = state.policy;
  if (state.queued + state.reserving >= maxQueue) return 0;
  if (ctx.deadline === undefined) return maxWaitMs;
  const left = ctx.deadline - state.clock.now();
  return left <= 0 ? 0 : Math.min(left, maxWaitMs);
}

/** The call once an asynchronous store has answered; a caller abort meanwhile rejects at once. */
async function afterStore<T>(
  state: ThrottleState,
  pending: Promise<RateLimitDecision>,
  fn: (ctx: Context) => Promise<T> | T,
  ctx: Context,
  executeOptions: ExecuteOptions | undefined,
  key: string,
  cost: number,
): Promise<T> {
  const caller = callerSignal(executeOptions);
  let decision: RateLimitDecision;
  state.reserving++;
  try {
    decision = caller ? await untilAborted(pending, caller) : await pending;
  } catch (reason) {
    // Only an abort gets here (the limiter never rejects): give back what the store takes late.
    pending.then((late) => state.limiter.refund(key, cost, late));
    throw reason;
  } finally {
    state.reserving--;
  }
  if (isAborted(ctx)) {
    state.limiter.refund(key, cost, decision);
    throw abortReason(ctx);
  }
  if (!decision.allowed) throw state.limiter.rejection(decision);
  if (decision.retryAfterMs === 0) return invoke(fn, ctx);
  return waitTurn(state, decision, fn, ctx, executeOptions, key, cost);
}

/** Waits for the reserved slot (abortable: the slot is given back), then runs `fn`. */
async function waitTurn<T>(
  state: ThrottleState,
  decision: RateLimitDecision,
  fn: (ctx: Context) => Promise<T> | T,
  ctx: Context,
  executeOptions: ExecuteOptions | undefined,
  key: string,
  cost: number,
): Promise<T> {
  const { emit } = state.policy;
  const waitMs = decision.retryAfterMs;
  if (emit) emit({ type: 'ratelimit.queued', key, waitMs });
  // An outer policy's Context has a signal that follows every abort above it (timeouts too); a
  // plain caller's options have at most their own signal. Either way no signal is made for us.
  const signal = isPolicyContext(executeOptions) ? executeOptions.signal : executeOptions?.signal;
  state.queued++;
  try {
    await state.clock.sleep(waitMs, signal);
  } catch (reason) {
    state.limiter.refund(key, cost, decision);
    throw reason;
  } finally {
    state.queued--;
  }
  return invoke(fn, ctx);
}
