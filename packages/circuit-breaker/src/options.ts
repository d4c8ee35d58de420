import {
  type Clock,
  type Duration,
  type Emit,
  type PolicyOptions,
  type SlidingWindowOptions,
  type SlidingWindowSpec,
  createValidator,
  normalizeWindowOptions,
  optionsObject,
  resolvePolicyOptions,
} from '@palisade/core';

/**
 * What `isFailure` is asked about: a call that returned (`ok: true`, its `value`) or threw
 * (`ok: false`, its `error`). Calls aborted by their caller and palisade's own rejections from
 * inner policies (`isRejection(error)`) are never shown to it: they count as neither.
 */
export type CircuitOutcome =
  | { readonly ok: true; readonly value: unknown; readonly error?: undefined }
  | { readonly ok: false; readonly error: unknown; readonly value?: undefined };

/**
 * How long the circuit stays open, from the number of consecutive openings since it last closed
 * (1 on the first opening, 2 when the first half-open probes failed, …). Returns ms; a negative or
 * `NaN` result counts as 0.
 * @example (openings) => Math.min(1_000 * 2 ** (openings - 1), 60_000) // 1 s, 2 s, 4 s, … capped at 1 min
 */
export type OpenBackoff = (openings: number) => number;

/** Options of {@link circuitBreaker}. Rates and thresholds are fractions between 0 and 1. */
export interface CircuitBreakerOptions extends PolicyOptions {
  /**
   * Opens the circuit when this fraction of the calls in the window failed (and at least
   * `minimumCalls` were recorded). A fraction: 0.5 means 50 %. Must be greater than 0.
   * @default 0.5
   */
  failureRateThreshold?: number;
  /**
   * A call that takes at least this long (ms, or `"2s"`) counts as slow. Off by default
   * (`Infinity`; resilience4j uses 60 s): detection costs two `clock.now()` reads per call, and a
   * breaker with no listener and a count window reads no clock at all while closed.
   * @default Infinity
   * @example slowCallDurationMs: '2s'
   */
  slowCallDurationMs?: Duration;
  /**
   * Opens the circuit when this fraction of the calls in the window were slow (and at least
   * `minimumCalls` were recorded). A fraction; 1 means "every call in the window was slow". Only
   * used once `slowCallDurationMs` is set.
   * @default 1
   */
  slowCallRateThreshold?: number;
  /**
   * No decision is taken before the window holds this many calls. With a count window, a value
   * above its `size` acts as `size`.
   * @default 100
   */
  minimumCalls?: number;
  /**
   * Which recent calls the rates are computed over: the last `size` calls, or the calls of the last
   * `ms` (in `buckets` buckets, default 10: a call leaves the window between `ms − ms/buckets` and
   * `ms` after it ended).
   * @default { kind: 'count', size: 100 }
   * @example window: { kind: 'time', ms: '30s' }
   */
  window?: SlidingWindowOptions;
  /**
   * How long the circuit stays open before letting probes through: ms (or `"30s"`), or an
   * {@link OpenBackoff} of the number of consecutive openings, so that a dependency that stays down
   * is probed less and less often.
   * @default 60_000
   * @example openMs: (openings) => Math.min(1_000 * 2 ** (openings - 1), 60_000)
   */
  openMs?: Duration | OpenBackoff;
  /**
   * Half-open lets exactly this many probe calls through (at most this many at once); the others are
   * rejected. When all have ended, their failure and slow-call rates close or re-open the circuit.
   * A probe whose caller aborts frees its place for another.
   * @default 10
   */
  halfOpenMaxCalls?: number;
  /**
   * Decides whether an outcome counts as a failure of the dependency (`true`) or a success
   * (`false`). Not consulted for calls aborted by their caller nor for palisade's own rejections
   * (`isRejection(error)`), which count as neither. A throwing `isFailure` counts as its default.
   * @default every error is a failure, no value is: `({ ok }) => !ok`
   * @example isFailure: ({ ok, value }) => !ok || (value instanceof Response && value.status >= 500)
   */
  isFailure?: (outcome: CircuitOutcome) => boolean;
}

/** The default `isFailure`: every error counts, no value does. */
export const isErrorOutcome = (outcome: CircuitOutcome): boolean => !outcome.ok;

/** Defaults of {@link CircuitBreakerOptions}: resilience4j's, except that slow-call detection is off. */
export const CIRCUIT_BREAKER_DEFAULTS = Object.freeze({
  failureRateThreshold: 0.5,
  slowCallDurationMs: Number.POSITIVE_INFINITY,
  slowCallRateThreshold: 1,
  minimumCalls: 100,
  window: Object.freeze({ kind: 'count', size: 100 }) as SlidingWindowSpec,
  openMs: 60_000 as number | OpenBackoff,
  halfOpenMaxCalls: 10,
  isFailure: isErrorOutcome as (outcome: CircuitOutcome) => boolean,
});

/** Options once validated and resolved. */
export interface NormalizedCircuitBreakerOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly emit: Emit | undefined;
  readonly failureRateThreshold: number;
  /** `Infinity` when slow-call detection is off. */
  readonly slowCallDurationMs: number;
  readonly slowCallRateThreshold: number;
  readonly minimumCalls: number;
  readonly window: SlidingWindowSpec;
  readonly openMs: number | OpenBackoff;
  readonly halfOpenMaxCalls: number;
  readonly isFailure: (outcome: CircuitOutcome) => boolean;
}

const PKG = '@palisade/circuit-breaker';
const check = createValidator(PKG);
const KNOWN = [
  'failureRateThreshold',
  'slowCallDurationMs',
  'slowCallRateThreshold',
  'minimumCalls',
  'window',
  'openMs',
  'halfOpenMaxCalls',
  'isFailure',
  'name',
  'clock',
  'onEvent',
] as const;

const threshold = (option: string, value: unknown, fallback: number): number => {
  const fraction = check.fraction(option, value, fallback);
  return fraction > 0 ? fraction : check.fail(option, 'a fraction greater than 0 and at most 1', value);
};

/** Validates `options` (a `TypeError` names the bad option) and applies the defaults. */
export function normalizeCircuitBreakerOptions(options?: CircuitBreakerOptions): NormalizedCircuitBreakerOptions {
  const opts = optionsObject(PKG, 'circuitBreaker', options);
  check.knownKeys(opts, KNOWN);
  const d = CIRCUIT_BREAKER_DEFAULTS;
  return Object.freeze({
    ...resolvePolicyOptions(PKG, 'circuit-breaker', opts),
    failureRateThreshold: threshold('failureRateThreshold', opts.failureRateThreshold, d.failureRateThreshold),
    slowCallDurationMs:
      opts.slowCallDurationMs === Number.POSITIVE_INFINITY
        ? Number.POSITIVE_INFINITY
        : check.duration('slowCallDurationMs', opts.slowCallDurationMs, d.slowCallDurationMs, { min: 1 }),
    slowCallRateThreshold: threshold('slowCallRateThreshold', opts.slowCallRateThreshold, d.slowCallRateThreshold),
    minimumCalls: check.integer('minimumCalls', opts.minimumCalls, d.minimumCalls, { min: 1 }),
    window: normalizeWindowOptions(check, 'window', opts.window, d.window),
    openMs:
      typeof opts.openMs === 'function'
        ? opts.openMs
        : check.duration('openMs', opts.openMs, d.openMs as number, { min: 0 }),
    halfOpenMaxCalls: check.integer('halfOpenMaxCalls', opts.halfOpenMaxCalls, d.halfOpenMaxCalls, {
      min: 1,
      max: 1_000_000,
    }),
    isFailure: check.func('isFailure', opts.isFailure, d.isFailure),
  });
}

/** What a breaker runs on: the resolved options plus what the hot path derives from them once. */
export interface BreakerConfig extends NormalizedCircuitBreakerOptions {
  /** Calls are timed: slow-call detection is on, or a listener wants `durationMs`. */
  readonly timed: boolean;
  /** The window needs `now` for every outcome. */
  readonly timeWindow: boolean;
  /** `isFailure` is the user's: build an outcome object for it. */
  readonly customIsFailure: boolean;
  /** `minimumCalls`, capped by a count window's size. */
  readonly minimum: number;
}

const configs = new WeakMap<object, BreakerConfig>();
let unset: BreakerConfig | undefined;

/**
 * The {@link BreakerConfig} of `options`, validated once per options object: breakers built from
 * the same object (one per key) share it, so a breaker costs only its own state.
 */
export function breakerConfig(options: CircuitBreakerOptions | undefined): BreakerConfig {
  const cached = options === undefined ? unset : configs.get(options);
  if (cached !== undefined) return cached;
  const n = normalizeCircuitBreakerOptions(options);
  const config: BreakerConfig = Object.freeze({
    ...n,
    timed: n.slowCallDurationMs !== Number.POSITIVE_INFINITY || n.emit !== undefined,
    timeWindow: n.window.kind === 'time',
    customIsFailure: n.isFailure !== isErrorOutcome,
    minimum: n.window.kind === 'count' ? Math.min(n.minimumCalls, n.window.size) : n.minimumCalls,
  });
  if (options === undefined) unset = config;
  else configs.set(options, config);
  return config;
}
