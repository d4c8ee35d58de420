import { type Duration, type OptionValidator, createValidator, optionsObject } from '@palisade/core';

/**
 * How `exponential()` spreads its delays (the formulas of the AWS "Exponential Backoff and Jitter"
 * analysis, with `e = min(maxMs, initialMs × factor^(retry − 1))`):
 * - `'none'`: `e` — every client waits the same; they collide again.
 * - `'full'`: a uniform draw in `[0, e)` — fewest calls, the recommended default.
 * - `'equal'`: `e / 2` plus a uniform draw in `[0, e / 2)` — never shorter than half of `e`.
 * - `'decorrelated'`: a uniform draw in `[initialMs, 3 × previous)`, capped at `maxMs`; it grows
 *   from the previous delay rather than from the retry number (`factor` does not apply).
 */
export type Jitter = 'none' | 'full' | 'equal' | 'decorrelated';

/**
 * A backoff strategy made by {@link constant} or {@link exponential}: frozen plain data (the same
 * fields as its declarative form) plus `delay`, a pure function.
 */
export interface Backoff {
  /** `'constant'` or `'exponential'`. */
  readonly type: 'constant' | 'exponential';
  /**
   * The delay in ms before retry number `retry` (1 = the first retry, i.e. before attempt 2). Pure:
   * it depends only on its arguments, draws only from `random` (uniform in [0, 1)), and
   * `previousMs` is what it returned for the retry before (0 before the first retry).
   */
  delay(retry: number, random: () => number, previousMs: number): number;
}

/** The same delay before every retry. */
export interface ConstantBackoff extends Backoff {
  readonly type: 'constant';
  /** The delay, in ms. */
  readonly ms: number;
}

/** Delays that grow by `factor` per retry up to `maxMs`, spread by `jitter`. */
export interface ExponentialBackoff extends Backoff {
  readonly type: 'exponential';
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: Jitter;
}

/** Options of {@link constant}. */
export interface ConstantBackoffOptions {
  /** The delay before every retry, in ms (or a duration string such as `"500ms"`). Required. */
  ms: Duration;
}

/** Options of {@link exponential}. */
export interface ExponentialBackoffOptions {
  /** The base delay (before the first retry, before jitter), in ms or a duration string. @default 100 */
  initialMs?: Duration;
  /** No delay exceeds it, in ms or a duration string. @default 10_000 */
  maxMs?: Duration;
  /** Growth per retry (≥ 1). Not used by `'decorrelated'` jitter. @default 2 */
  factor?: number;
  /** How delays are spread so that clients that failed together do not retry together. @default 'full' */
  jitter?: Jitter;
}

/**
 * The declarative, JSON-able form of a backoff, as written in a `fromSpec()` spec.
 * @example { type: 'exponential', initialMs: '200ms', maxMs: '5s', jitter: 'decorrelated' }
 * @example { type: 'constant', ms: 250 }
 */
export type BackoffSpec =
  | ({ type: 'constant' } & ConstantBackoffOptions)
  | ({ type: 'exponential' } & ExponentialBackoffOptions);

/**
 * A backoff of your own: the delay in ms before retry number `retry` (1 = the first retry), given
 * the error that failed the attempt (`undefined` when a value is retried). A result that is not a
 * number ≥ 0 counts as 0.
 * @example (retry) => 100 * retry
 */
export type BackoffFunction = (retry: number, error: unknown) => number;

/** Defaults of {@link exponential} (and the default backoff of `retry()`). */
export const EXPONENTIAL_DEFAULTS = Object.freeze({
  type: 'exponential' as const,
  initialMs: 100,
  maxMs: 10_000,
  factor: 2,
  jitter: 'full' as Jitter,
});

const PKG = '@palisade/retry';
const check = createValidator(PKG);
const JITTERS: readonly Jitter[] = ['none', 'full', 'equal', 'decorrelated'];

/** `option` prefixed by the path of the object holding it, for error messages. */
const at = (path: string, option: string): string => (path ? `${path}.${option}` : option);

function buildConstant(v: OptionValidator, opts: ConstantBackoffOptions, path: string): ConstantBackoff {
  v.knownKeys(opts, path ? ['type', 'ms'] : ['ms'], path || undefined);
  if (opts.ms === undefined) v.fail(at(path, 'ms'), 'a duration ≥ 0 ms', opts.ms);
  const ms = v.duration(at(path, 'ms'), opts.ms, 0);
  return Object.freeze({ type: 'constant', ms, delay: () => ms });
}

function buildExponential(v: OptionValidator, opts: ExponentialBackoffOptions, path: string): ExponentialBackoff {
  const keys = ['initialMs', 'maxMs', 'factor', 'jitter'];
  v.knownKeys(opts, path ? ['type', ...keys] : keys, path || undefined);
  const initialMs = v.duration(at(path, 'initialMs'), opts.initialMs, EXPONENTIAL_DEFAULTS.initialMs);
  const maxMs = v.duration(at(path, 'maxMs'), opts.maxMs, Math.max(initialMs, EXPONENTIAL_DEFAULTS.maxMs), {
    min: initialMs,
  });
  const factor = v.number(at(path, 'factor'), opts.factor, EXPONENTIAL_DEFAULTS.factor, { min: 1 });
  const jitter = v.oneOf(at(path, 'jitter'), opts.jitter, JITTERS, EXPONENTIAL_DEFAULTS.jitter);
  const grown = (retry: number): number => (initialMs === 0 ? 0 : Math.min(maxMs, initialMs * factor ** (retry - 1)));
  let delay: ExponentialBackoff['delay'];
  switch (jitter) {
    case 'none':
      delay = grown;
      break;
    case 'full':
      delay = (retry, random) => random() * grown(retry);
      break;
    case 'equal':
      delay = (retry, random) => {
        const half = grown(retry) / 2;
        return half + random() * half;
      };
      break;
    case 'decorrelated':
      delay = (_retry, random, previousMs) =>
        Math.min(maxMs, initialMs + random() * (Math.max(previousMs, initialMs) * 3 - initialMs));
      break;
  }
  return Object.freeze({ type: 'exponential', initialMs, maxMs, factor, jitter, delay });
}

/**
 * The same delay before every retry.
 * @example retry({ backoff: constant({ ms: '250ms' }) })
 */
export function constant(options: ConstantBackoffOptions): ConstantBackoff {
  return buildConstant(check, optionsObject(PKG, 'constant', options), '');
}

/**
 * Exponentially growing delays with jitter (see {@link Jitter}); the default backoff of `retry()`.
 * @example retry({ backoff: exponential({ initialMs: 200, maxMs: '5s', jitter: 'decorrelated' }) })
 */
export function exponential(options?: ExponentialBackoffOptions): ExponentialBackoff {
  return buildExponential(check, optionsObject(PKG, 'exponential', options), '');
}

/**
 * Resolves the `backoff` option of `retry()`: a {@link Backoff} (anything with a `delay` method) or
 * a {@link BackoffFunction} as is, a {@link BackoffSpec} built; anything else is a `TypeError`.
 */
export function normalizeBackoff(
  v: OptionValidator,
  option: string,
  value: unknown,
  fallback: BackoffSpec,
): Backoff | BackoffFunction {
  const spec = value === undefined ? fallback : value;
  if (typeof spec === 'function') return spec as BackoffFunction;
  if (typeof spec === 'object' && spec !== null && !Array.isArray(spec)) {
    if (typeof (spec as Partial<Backoff>).delay === 'function') return spec as Backoff;
    const type = (spec as { type?: unknown }).type;
    if (type === 'constant') return buildConstant(v, spec as ConstantBackoffOptions, option);
    if (type === 'exponential') return buildExponential(v, spec as ExponentialBackoffOptions, option);
    return v.fail(`${option}.type`, "one of 'constant', 'exponential'", type);
  }
  return v.fail(
    option,
    "a backoff: constant(…), exponential(…), { type: 'constant' | 'exponential', … } or a function",
    spec,
  );
}
