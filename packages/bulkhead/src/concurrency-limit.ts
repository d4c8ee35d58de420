import { type Context, type ExecuteOptions, type Policy, isAborted } from '@palisade/core';
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
  const gate = new Gate(policy, 'concurrency-limit', algorithm.limit);
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
    } catch {
      return false; // a throwing predicate must not change the call's outcome
    }
  };

  // An async helper keeps the start time and inflight count in its frame: no closure per call.
  async function measure<T>(
    fn: (ctx: Context) => Promise<T> | T,
    ctx: Context,
    inflight: number,
    start: number,
  ): Promise<T> {
    let value: T;
    try {
      value = await fn(ctx);
    } catch (error) {
      release();
      const drop = dropped(error);
      // A call its caller gave up on says nothing about the dependency, unless it was a timeout.
      if (drop || !isAborted(ctx)) {
        const now = clock.now();
        record(now - start, inflight, drop, now);
      }
      throw error;
    }
    release();
    const now = clock.now();
    record(now - start, inflight, false, now);
    return value;
  }
  gate.run = <T>(fn: (ctx: Context) => Promise<T> | T, ctx: Context): Promise<T> =>
    measure(fn, ctx, gate.executing, clock.now());

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
