import type { Context, ExecuteOptions, Policy } from '@palisade/core';
import { Gate, type SlotRunner } from './gate.js';
import { type BulkheadOptions, normalizeBulkheadOptions } from './options.js';

/** What {@link bulkhead} and {@link concurrencyLimit} report about their slots. */
export interface SlotState {
  /** Calls running now. */
  readonly executing: number;
  /** Calls waiting for a slot. */
  readonly queued: number;
  /** Free slots: how many more calls would start at once. */
  readonly available: number;
}

/** The policy returned by {@link bulkhead}. */
export interface BulkheadPolicy extends Policy, SlotState {
  /** The configured number of slots. */
  readonly maxConcurrent: number;
  /** The configured queue length. */
  readonly maxQueue: number;
  /** The configured queue timeout, in ms (`Infinity`: none). */
  readonly queueTimeoutMs: number;
}

/**
 * The uncontended path adds one `.then` to fn's own promise (registered before the caller's, so the
 * slot is free by the time the caller resumes) and hands that same promise back: no closure, no
 * promise of ours in between, no extra tick.
 */
const runner =
  (release: () => void): SlotRunner =>
  <T>(fn: (ctx: Context) => Promise<T> | T, ctx: Context): Promise<T> => {
    let result: Promise<T> | T;
    try {
      result = fn(ctx);
    } catch (error) {
      release();
      return Promise.reject(error);
    }
    const promise = result instanceof Promise ? result : Promise.resolve(result);
    promise.then(release, release);
    return promise;
  };

/**
 * Caps how many calls run at once, so one slow dependency cannot take every connection and request
 * slot of the service. At most `maxConcurrent` calls run; up to `maxQueue` more wait in FIFO order
 * and leave the queue at once when `queueTimeoutMs` passes (`BulkheadRejectedError`, reason
 * `'queue-timeout'`) or their caller aborts (the abort reason). Beyond that, calls are rejected at
 * once (`BulkheadRejectedError`, reason `'full'`). A slot is released exactly once when `fn` ends,
 * however it ends; a caller that aborts while `fn` runs is answered at once, but the slot stays
 * taken until `fn` really ends.
 *
 * @example
 * const db = bulkhead({ maxConcurrent: 10, maxQueue: 50, queueTimeoutMs: '500ms' });
 * const rows = await db.execute(({ signal }) => pool.query({ text: sql, signal }));
 */
export function bulkhead(options?: BulkheadOptions): BulkheadPolicy {
  const policy = normalizeBulkheadOptions(options);
  const gate = new Gate(policy, 'bulkhead', policy.maxConcurrent, runner);
  return {
    name: policy.name,
    maxConcurrent: policy.maxConcurrent,
    maxQueue: policy.maxQueue,
    queueTimeoutMs: policy.queueTimeoutMs,
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
