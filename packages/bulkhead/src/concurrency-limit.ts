import { type Context, type ExecuteOptions, type Policy, isAborted, reportCallbackError } from '@palisade/core';
import { aimd } from './aimd.js';
import type { SlotState } from './bulkhead.js';
import { Gate } from './gate.js';
import { gradient } from './gradient.js';
import type { LimitAlgorithm } from './limit-algorithm.js';
import {
  type ConcurrencyLimitOptions,
  type LimitAlgorithmName,
  type NormalizedConcurrencyLimitOptions,
  normalizeConcurrencyLimitOptions,
} from './options.js';
import { vegas } from './vegas.js';

/** The policy returned by {@link concurrencyLimit}. */
export interface ConcurrencyLimitPolicy extends Policy, SlotState {
  /** How many calls may run at once right now; it moves with measured latency and drops. */
  readonly limit: number;
  /** The configured algorithm. */
  readonly algorithm: LimitAlgorithmName;
  /** The configured floor of the limit. */
  readonly min: number;
  /** The configured ceiling of the limit. */
  readonly max: number;
}

const ALGORITHMS = { aimd, gradient, vegas } as const;

const createAlgorithm = (policy: NormalizedConcurrencyLimitOptions): LimitAlgorithm =>
  ALGORITHMS[policy.algorithm](policy);

/**
 * A bulkhead whose limit finds itself: instead of a number you guess once, the limit follows the
 * dependency's measured latency and drops (Netflix concurrency-limits, Envoy adaptive concurrency).
 * When the dependency slows down because it queues, the limit shrinks and the excess is shed at
 * once with `BulkheadRejectedError` — cheap for you, and the dependency keeps serving the calls it
 * can within their timeouts instead of collapsing under a queue of doomed ones.
 *
 * It has the same interface as {@link bulkhead} (`maxQueue`, `queueTimeoutMs`, `executing`,
 * `queued`, `available`) plus `limit`; each change of the limit emits `limit.changed`. A call that
 * fails with a `TimeoutError`, `DeadlineExceededError` or `BulkheadRejectedError` counts as a drop
 * (see `isDrop`); a call aborted by its caller teaches it nothing.
 *
 * @example
 * const inventory = concurrencyLimit({ algorithm: 'gradient', max: 100 });
 * const api = pipeline(inventory, timeout({ ms: '1s' }));
 * const item = await api.execute(({ signal }) => fetch(url, { signal }));
 */
export function concurrencyLimit(options?: ConcurrencyLimitOptions): ConcurrencyLimitPolicy {
  const policy = normalizeConcurrencyLimitOptions(options);
  const { clock, emit, isDrop } = policy;
  const algorithm = createAlgorithm(policy);
  const gate: Gate = new Gate(policy, 'concurrency-limit', algorithm.limit, () => run);
  const { release } = gate;

  const record = (rttMs: number, inflight: number, dropped: boolean, now: number): void => {
    const limit = algorithm.update(rttMs, inflight, dropped, now);
    const previous = gate.limit;
    if (limit === previous) return;
    if (emit) emit({ type: 'limit.changed', limit, previous });
    gate.setLimit(limit);
  };

  const dropped = (error: unknown): boolean => {
    try {
      return isDrop({ error }) === true;
    } catch (error) {
      reportCallbackError('isDrop', isDrop, error);
      return false; // a throwing predicate must not change the call's outcome
    }
  };

  /** One finished call: feed the algorithm (unless its caller gave up on it and it was no drop). */
  const finish = (ctx: Context, inflight: number, start: number, failed: boolean, error: unknown): void => {
    const drop = failed && dropped(error);
    if (failed && !drop && isAborted(ctx)) return;
    const now = clock.now();
    record(now - start, inflight, drop, now);
  };

  // Watches fn's promise: the async frame keeps the start time and inflight count (no closure per
  // call), and its reaction is registered before the caller's, so the slot is free when they resume.
  async function track(promise: Promise<unknown>, ctx: Context, inflight: number, start: number): Promise<void> {
    try {
      await promise;
    } catch (error) {
      release();
      finish(ctx, inflight, start, true, error);
      return;
    }
    release();
    finish(ctx, inflight, start, false, undefined);
  }

  function run<T>(fn: (ctx: Context) => Promise<T> | T, ctx: Context): Promise<T> {
    const inflight = gate.executing;
    const start = clock.now();
    let result: Promise<T> | T;
    try {
      result = fn(ctx);
    } catch (error) {
      release();
      finish(ctx, inflight, start, true, error);
      return Promise.reject(error);
    }
    const promise = result instanceof Promise ? result : Promise.resolve(result);
    void track(promise, ctx, inflight, start);
    return promise;
  }

  return {
    name: policy.name,
    algorithm: policy.algorithm,
    min: policy.min,
    max: policy.max,
    get limit() {
      return gate.limit;
    },
    get executing() {
      return gate.executing;
    },
    get queued() {
      return gate.queued;
    },
    get available() {
      return gate.available;
    },
    execute<T>(fn: (ctx: Context) => Promise<T> | T, executeOptions?: ExecuteOptions): Promise<T> {
      return gate.execute(fn, executeOptions);
    },
  };
}
