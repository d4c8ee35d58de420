import {
  type Clock,
  type Context,
  type Duration,
  type Emit,
  type PolicyOptions,
  createValidator,
  optionsObject,
  resolvePolicyOptions,
} from '@palisade/core';
import { memoryStore } from './memory-store.js';
import type { BoundRateLimitStore, RateLimitRule, RateLimitStore, StoreErrorMode } from './store.js';

/** Options shared by {@link rateLimit} and {@link throttle}: the limit, the key and the store. */
export interface LimitOptions extends PolicyOptions {
  /**
   * Units allowed per `windowMs` (a unit is one call unless `cost` says otherwise). Under GCRA they
   * are released evenly: one every `windowMs / limit` ms.
   * @default 100
   */
  limit?: number;
  /** The window `limit` applies to, in ms or a duration string (`"1s"`, `"1m"`). @default 60_000 */
  windowMs?: Duration;
  /**
   * Units an idle key may take at once (then one every `windowMs / limit` ms). `1` spaces calls
   * evenly; `limit` (the default) lets a quiet client spend a whole window's worth in one go.
   * @default limit
   */
  burst?: number;
  /**
   * Whose budget a call spends: a fixed key, or a function of the call's Context. When absent,
   * `execute` uses `ExecuteOptions.key`, and calls without one share the key `"*"`.
   * @example key: (ctx) => ctx.key ?? 'anonymous'
   */
  key?: string | ((ctx: Context) => string);
  /**
   * Units one call takes: a number ≥ 0 and ≤ `burst`, or a function of the Context (a call whose
   * function returns anything else is rejected with a `RangeError`, taking nothing).
   * @default 1
   * @example cost: (ctx) => (ctx.key?.startsWith('batch:') ? 10 : 1)
   */
  cost?: number | ((ctx: Context) => number);
  /**
   * Where per-key state lives: `memoryStore()` in this process, `redisStore()` from
   * `@palisade/redis` for a fleet.
   * @default memoryStore()
   */
  store?: RateLimitStore;
  /**
   * What to do when the store fails or times out: `'fail-open'` lets the call through,
   * `'fail-closed'` rejects it with a `RateLimitedError` (whose `cause` is the store's error).
   * Either way a `ratelimit.store-error` event is emitted. A store may carry its own preference
   * (`redisStore({ onStoreError })`); this option overrides it.
   * @default 'fail-open' for rateLimit(), 'fail-closed' for throttle()
   */
  onStoreError?: StoreErrorMode;
}

/** Options of {@link rateLimit}. */
export interface RateLimitOptions extends LimitOptions {}

/** Options of {@link throttle}. */
export interface ThrottleOptions extends LimitOptions {
  /**
   * Calls that may wait for their turn in this process at once. When full, a call runs only if it
   * may run now; otherwise it is refused (taking nothing).
   * @default 1_000
   */
  maxQueue?: number;
  /**
   * Longest a call may be scheduled ahead, in ms or a duration string. A call that would wait
   * longer (or past its `deadline`) is refused with a `RateLimitedError`, taking nothing.
   * @default 30_000
   */
  maxWaitMs?: Duration;
}

/** Defaults of {@link RateLimitOptions}. `burst` follows `limit` when only `limit` is set. */
export const RATE_LIMIT_DEFAULTS = Object.freeze({
  limit: 100,
  windowMs: 60_000,
  burst: 100,
  cost: 1,
  onStoreError: 'fail-open' as StoreErrorMode,
});

/** Defaults of {@link ThrottleOptions}. `burst` follows `limit` when only `limit` is set. */
export const THROTTLE_DEFAULTS = Object.freeze({
  ...RATE_LIMIT_DEFAULTS,
  onStoreError: 'fail-closed' as StoreErrorMode,
  maxQueue: 1_000,
  maxWaitMs: 30_000,
});

/** Options once validated and resolved, with the store bound to the rule. */
export interface NormalizedLimitOptions extends RateLimitRule {
  readonly emit: Emit | undefined;
  readonly key: string | ((ctx: Context) => string) | undefined;
  readonly cost: number | ((ctx: Context) => number);
  readonly store: RateLimitStore;
  readonly bound: BoundRateLimitStore;
  readonly onStoreError: StoreErrorMode;
}

/** {@link NormalizedLimitOptions} of a throttle. */
export interface NormalizedThrottleOptions extends NormalizedLimitOptions {
  readonly maxQueue: number;
  readonly maxWaitMs: number;
}

const PKG = '@palisade/rate-limit';
const check = createValidator(PKG);
const KNOWN = ['limit', 'windowMs', 'burst', 'key', 'cost', 'store', 'onStoreError', 'name', 'clock', 'onEvent'];
const MODES: readonly StoreErrorMode[] = ['fail-open', 'fail-closed'];

function normalizeLimit(
  kind: 'rate-limit' | 'throttle',
  opts: LimitOptions,
  defaults: typeof RATE_LIMIT_DEFAULTS,
): NormalizedLimitOptions {
  const { name, clock, emit } = resolvePolicyOptions(PKG, kind, opts);
  const limit = check.integer('limit', opts.limit, defaults.limit, { min: 1 });
  const windowMs = check.duration('windowMs', opts.windowMs, defaults.windowMs, { min: 1 });
  const burst = check.integer('burst', opts.burst, limit, { min: 1 });
  const key = opts.key;
  if (key !== undefined && typeof key !== 'function' && (typeof key !== 'string' || key.length === 0)) {
    check.fail('key', 'a non-empty string or a function of the Context', key);
  }
  const cost =
    typeof opts.cost === 'function'
      ? opts.cost
      : check.number('cost', opts.cost, defaults.cost, { min: 0, max: burst });
  const store = opts.store === undefined ? memoryStore() : opts.store;
  if (typeof store !== 'object' || store === null || typeof store.bind !== 'function') {
    check.fail('store', 'a RateLimitStore such as memoryStore() or redisStore()', store);
  }
  const mode =
    opts.onStoreError === undefined ? undefined : check.oneOf('onStoreError', opts.onStoreError, MODES, 'fail-open');
  // Bind last: every option is valid by now, so a bad option never leaves a bound store behind.
  const rule: RateLimitRule = Object.freeze({ name, limit, windowMs, burst, clock: clock as Clock });
  const bound = store.bind(rule);
  const onStoreError = mode ?? bound.onStoreError ?? defaults.onStoreError;
  return { ...rule, emit, key, cost, store, bound, onStoreError };
}

/** Validates rateLimit options (a `TypeError` names the bad option), applies the defaults, binds the store. */
export function normalizeRateLimitOptions(options?: RateLimitOptions): NormalizedLimitOptions {
  const opts = optionsObject(PKG, 'rateLimit', options);
  check.knownKeys(opts, KNOWN);
  return normalizeLimit('rate-limit', opts, RATE_LIMIT_DEFAULTS);
}

/** Validates throttle options (a `TypeError` names the bad option), applies the defaults, binds the store. */
export function normalizeThrottleOptions(options?: ThrottleOptions): NormalizedThrottleOptions {
  const opts = optionsObject(PKG, 'throttle', options);
  check.knownKeys(opts, [...KNOWN, 'maxQueue', 'maxWaitMs']);
  const maxQueue = check.integer('maxQueue', opts.maxQueue, THROTTLE_DEFAULTS.maxQueue, { min: 0 });
  const maxWaitMs = check.duration('maxWaitMs', opts.maxWaitMs, THROTTLE_DEFAULTS.maxWaitMs);
  return { ...normalizeLimit('throttle', opts, THROTTLE_DEFAULTS), maxQueue, maxWaitMs };
}
