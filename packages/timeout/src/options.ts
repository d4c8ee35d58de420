import {
  type Clock,
  type Duration,
  type Emit,
  type PolicyOptions,
  createValidator,
  optionsObject,
  resolvePolicyOptions,
} from '@palisade/core';

/** How a timeout ends a call that is still running. */
export type TimeoutStrategy = 'cooperative' | 'aggressive';

/** Options of {@link timeout}. */
export interface TimeoutOptions extends PolicyOptions {
  /**
   * Time allowed for the call, in ms (or a duration string such as `"2s"`). An earlier deadline
   * (`ExecuteOptions.deadline` or one set by an outer policy) shortens it.
   * @default 30_000
   */
  ms?: Duration;
  /**
   * `'cooperative'`: abort `ctx.signal` with a `TimeoutError` and wait for `fn` to settle (it should
   * pass the signal on, e.g. to `fetch`). `'aggressive'`: abort the signal and reject at once,
   * leaving `fn` to finish in the background.
   * @default 'cooperative'
   */
  strategy?: TimeoutStrategy;
}

/** Defaults of {@link TimeoutOptions}. */
export const TIMEOUT_DEFAULTS = Object.freeze({
  ms: 30_000,
  strategy: 'cooperative' as TimeoutStrategy,
});

/** Options once validated and resolved. */
export interface NormalizedTimeoutOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly emit: Emit | undefined;
  readonly ms: number;
  readonly strategy: TimeoutStrategy;
}

const PKG = '@palisade/timeout';
const check = createValidator(PKG);
const KNOWN = ['ms', 'strategy', 'name', 'clock', 'onEvent'] as const;

/** Validates `options` (a `TypeError` names the bad option) and applies the defaults. */
export function normalizeTimeoutOptions(options?: TimeoutOptions): NormalizedTimeoutOptions {
  const opts = optionsObject(PKG, 'timeout', options);
  check.knownKeys(opts, KNOWN);
  return {
    ...resolvePolicyOptions(PKG, 'timeout', opts),
    ms: check.duration('ms', opts.ms, TIMEOUT_DEFAULTS.ms, { min: 1 }),
    strategy: check.oneOf('strategy', opts.strategy, ['cooperative', 'aggressive'], TIMEOUT_DEFAULTS.strategy),
  };
}
