import {
  type Clock,
  type Duration,
  type Emit,
  type PolicyOptions,
  createValidator,
  isResilienceError,
  optionsObject,
  resolvePolicyOptions,
} from '@palisade/core';

/** Options of {@link bulkhead} and {@link concurrencyLimit} that govern waiting for a slot. */
export interface QueueOptions {
  /**
   * How many calls may wait (in FIFO order) for a slot when every slot is taken. A call that finds
   * the queue full is rejected at once with `BulkheadRejectedError` (reason `'full'`).
   * @default 0
   */
  maxQueue?: number;
  /**
   * How long a call may wait in the queue, in ms (or a duration string such as `"500ms"`), before
   * it is rejected with `BulkheadRejectedError` (reason `'queue-timeout'`). `Infinity` waits until
   * a slot frees or the caller aborts.
   * @default 1_000
   */
  queueTimeoutMs?: Duration;
}

/** Options of {@link bulkhead}. */
export interface BulkheadOptions extends PolicyOptions, QueueOptions {
  /**
   * How many calls may run at once. Further calls wait in the queue (see `maxQueue`) or are rejected.
   * @default 10
   */
  maxConcurrent?: number;
}

/** Defaults of {@link BulkheadOptions}. */
export const BULKHEAD_DEFAULTS = Object.freeze({
  maxConcurrent: 10,
  maxQueue: 0,
  queueTimeoutMs: 1_000,
});

/** The algorithms that move a {@link concurrencyLimit}. */
export type LimitAlgorithmName = 'aimd' | 'gradient' | 'vegas';

/** What `isDrop` is told about a call that failed. */
export interface DropInfo {
  /** The error the call failed with. */
  error: unknown;
}

/** Options of {@link concurrencyLimit}. */
export interface ConcurrencyLimitOptions extends PolicyOptions, QueueOptions {
  /**
   * How the limit moves:
   * - `'gradient'`: compares the recent RTT with the no-load RTT and shrinks the limit as the
   *   ratio passes `tolerance` (Netflix gradient2, Envoy adaptive concurrency).
   * - `'vegas'`: estimates how many calls wait in the dependency's queue from RTT vs no-load RTT
   *   and keeps that between 3 and 6 (log-scaled), TCP Vegas style.
   * - `'aimd'`: loss-based; grows by one per round trip while calls succeed, cuts by `backoffRatio`
   *   on a drop. It only reacts to drops (timeouts), so latency may rise up to your timeout.
   * @default 'gradient'
   */
  algorithm?: LimitAlgorithmName;
  /** The limit to start with. @default 20 */
  initial?: number;
  /**
   * The lowest the limit goes. `'gradient'` and `'vegas'` also run at this concurrency while they
   * measure the dependency's no-load RTT, so keep it at or below its real parallelism.
   * @default 3
   */
  min?: number;
  /** The highest the limit goes. @default 200 */
  max?: number;
  /**
   * The factor the limit is multiplied by on a drop (a timeout or overload signal), at most once
   * per round trip. A fraction between 0.5 and 1.
   * @default 0.9
   */
  backoffRatio?: number;
  /**
   * `'gradient'` only: how many times the no-load RTT the recent average RTT may reach before the
   * limit shrinks. At least 1; higher admits more queueing (throughput) for more latency.
   * @default 2
   */
  tolerance?: number;
  /**
   * `'gradient'` and `'vegas'`: how often, in ms, the no-load RTT is measured again (the limit is
   * held at `min` for about 50 calls while it is), so a dependency that got slower for good is
   * re-learned.
   * @default 60_000
   */
  probeIntervalMs?: Duration;
  /**
   * Decides whether a failed call was dropped — a sign of overload that lowers the limit — rather
   * than an ordinary failure whose latency is a normal sample. Calls aborted by the caller are
   * ignored either way.
   * @default ({ error }) => error is a TimeoutError, DeadlineExceededError or BulkheadRejectedError
   * @example isDrop: ({ error }) => error instanceof HttpError && error.status === 503
   */
  isDrop?: (info: DropInfo) => boolean;
}

const DROP_CODES: ReadonlySet<string> = new Set([
  'PALISADE_TIMEOUT',
  'PALISADE_DEADLINE_EXCEEDED',
  'PALISADE_BULKHEAD_REJECTED',
]);

/** The default `isDrop`: a palisade timeout, deadline or bulkhead rejection from inside. */
export const isOverloadError = ({ error }: DropInfo): boolean => isResilienceError(error) && DROP_CODES.has(error.code);

/** Defaults of {@link ConcurrencyLimitOptions}. */
export const CONCURRENCY_LIMIT_DEFAULTS = Object.freeze({
  algorithm: 'gradient' as LimitAlgorithmName,
  initial: 20,
  min: 3,
  max: 200,
  backoffRatio: 0.9,
  tolerance: 2,
  probeIntervalMs: 60_000,
  maxQueue: 0,
  queueTimeoutMs: 1_000,
  isDrop: isOverloadError,
});

/** Common resolved fields. */
interface NormalizedBase {
  readonly name: string;
  readonly clock: Clock;
  readonly emit: Emit | undefined;
  readonly maxQueue: number;
  /** `Infinity` when waiters never time out. */
  readonly queueTimeoutMs: number;
}

/** {@link BulkheadOptions} once validated and resolved. */
export interface NormalizedBulkheadOptions extends NormalizedBase {
  readonly maxConcurrent: number;
}

/** {@link ConcurrencyLimitOptions} once validated and resolved. */
export interface NormalizedConcurrencyLimitOptions extends NormalizedBase {
  readonly algorithm: LimitAlgorithmName;
  readonly initial: number;
  readonly min: number;
  readonly max: number;
  readonly backoffRatio: number;
  readonly tolerance: number;
  readonly probeIntervalMs: number;
  readonly isDrop: (info: DropInfo) => boolean;
}

const PKG = '@palisade/bulkhead';
const check = createValidator(PKG);
const COMMON = ['name', 'clock', 'onEvent', 'maxQueue', 'queueTimeoutMs'] as const;
const BULKHEAD_KEYS = [...COMMON, 'maxConcurrent'] as const;
const LIMIT_KEYS = [
  ...COMMON,
  'algorithm',
  'initial',
  'min',
  'max',
  'backoffRatio',
  'tolerance',
  'probeIntervalMs',
  'isDrop',
] as const;

const queueOptions = (opts: QueueOptions, defaults: { maxQueue: number; queueTimeoutMs: number }) => ({
  maxQueue: check.integer('maxQueue', opts.maxQueue, defaults.maxQueue, { min: 0 }),
  queueTimeoutMs:
    opts.queueTimeoutMs === Number.POSITIVE_INFINITY
      ? Number.POSITIVE_INFINITY
      : check.duration('queueTimeoutMs', opts.queueTimeoutMs, defaults.queueTimeoutMs, { min: 1 }),
});

/** Validates `options` (a `TypeError` names the bad option) and applies the defaults. */
export function normalizeBulkheadOptions(options?: BulkheadOptions): NormalizedBulkheadOptions {
  const opts = optionsObject(PKG, 'bulkhead', options);
  check.knownKeys(opts, BULKHEAD_KEYS);
  return {
    ...resolvePolicyOptions(PKG, 'bulkhead', opts),
    maxConcurrent: check.integer('maxConcurrent', opts.maxConcurrent, BULKHEAD_DEFAULTS.maxConcurrent, { min: 1 }),
    ...queueOptions(opts, BULKHEAD_DEFAULTS),
  };
}

/** Validates `options` (a `TypeError` names the bad option) and applies the defaults. */
export function normalizeConcurrencyLimitOptions(options?: ConcurrencyLimitOptions): NormalizedConcurrencyLimitOptions {
  const opts = optionsObject(PKG, 'concurrencyLimit', options);
  check.knownKeys(opts, LIMIT_KEYS);
  const D = CONCURRENCY_LIMIT_DEFAULTS;
  // An explicit `max` below the default `min` lowers the default `min` with it.
  const minFallback = typeof opts.max === 'number' && opts.max >= 1 ? Math.min(D.min, Math.floor(opts.max)) : D.min;
  const min = check.integer('min', opts.min, minFallback, { min: 1 });
  const max = check.integer('max', opts.max, Math.max(D.max, min), { min });
  const initial = check.integer('initial', opts.initial, Math.min(Math.max(D.initial, min), max), { min, max });
  return {
    ...resolvePolicyOptions(PKG, 'concurrency-limit', opts),
    algorithm: check.oneOf('algorithm', opts.algorithm, ['aimd', 'gradient', 'vegas'], D.algorithm),
    initial,
    min,
    max,
    backoffRatio: check.number('backoffRatio', opts.backoffRatio, D.backoffRatio, { min: 0.5, max: 1 }),
    tolerance: check.number('tolerance', opts.tolerance, D.tolerance, { min: 1 }),
    probeIntervalMs: check.duration('probeIntervalMs', opts.probeIntervalMs, D.probeIntervalMs, { min: 1 }),
    isDrop: check.func('isDrop', opts.isDrop, D.isDrop),
    ...queueOptions(opts, D),
  };
}
