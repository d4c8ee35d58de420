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

/**
 * A hedge delay that follows recent latencies: the `percentile` of the last 1,024 to 2,048
 * successful calls (per key when calls carry a `key`), clamped to `[minMs, maxMs]`. Until 20
 * latencies are known the delay is `maxMs`.
 */
export interface AdaptiveDelay {
  /**
   * Which percentile of recent latencies to wait for before hedging, 0 < p < 100. About
   * `100 - percentile` percent of calls are hedged (95 → ~5%, 98 → ~2%).
   * @default 95
   */
  percentile?: number;
  /** The shortest delay, in ms (or a duration string). @default 1 */
  minMs?: Duration;
  /** The longest delay, in ms (or a duration string); also the delay while there is too little history. @default 1_000 */
  maxMs?: Duration;
}

/** What {@link HedgeOptions.shouldHedge} is told about a call. */
export interface HedgeInfo {
  /** The call's Context (its `key`, `deadline` and the caller's signal). */
  context: Context;
}

/** Options of {@link hedge}. */
export interface HedgeOptions extends PolicyOptions {
  /**
   * How many extra attempts (1–16) may be started on top of the first one.
   * @default 1
   */
  maxHedges?: number;
  /**
   * How long to wait for an attempt before starting the next one: a fixed number of ms (or a
   * duration string), or an {@link AdaptiveDelay} that follows a percentile of recent latencies.
   * @default { percentile: 95, minMs: 1, maxMs: 1_000 }
   */
  delayMs?: Duration | AdaptiveDelay;
  /**
   * Cap on hedges as a percentage (0–100) of the hedgeable calls in the last 10 s, plus a reserve
   * of one hedge per second so that light traffic can hedge. Past it no hedge is sent (a
   * `hedge.budget-exhausted` event says so), so an overload degrades to plain calls instead of
   * adding load. With an adaptive `delayMs`, the budget also sends no hedge while the dependency
   * is queueing — its median latency over twice its recent floor — since a hedge sent into a
   * queue lengthens it for every caller (servers that finish abandoned work pay twice). `0` turns
   * hedging off; `100` turns the budget off (with `maxHedges: 1` it never binds, and the queueing
   * check is skipped).
   * @default 10
   */
  budgetPercent?: number;
  /**
   * Decides per call whether it may be hedged (e.g. only idempotent requests). A call it refuses
   * runs once, plainly, and does not count in the budget.
   * @default every call may be hedged
   * @example shouldHedge: ({ context }) => context.key?.startsWith('GET ') === true
   */
  shouldHedge?: (info: HedgeInfo) => boolean;
  /**
   * How many keys keep their own latency history (adaptive delay only); the least recently used
   * key is forgotten past it. Calls without a `key` share one history.
   * @default 1_000
   */
  maxKeys?: number;
}

/** Defaults of {@link HedgeOptions}. */
export const HEDGE_DEFAULTS = Object.freeze({
  maxHedges: 1,
  delayMs: Object.freeze({ percentile: 95, minMs: 1, maxMs: 1_000 }),
  budgetPercent: 10,
  maxKeys: 1_000,
});

/** An {@link AdaptiveDelay} once validated. */
export interface NormalizedAdaptiveDelay {
  readonly percentile: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** Options once validated and resolved. */
export interface NormalizedHedgeOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly emit: Emit | undefined;
  readonly maxHedges: number;
  /** A fixed delay in ms, or the adaptive delay's settings. */
  readonly delayMs: number | NormalizedAdaptiveDelay;
  readonly budgetPercent: number;
  readonly shouldHedge: ((info: HedgeInfo) => boolean) | undefined;
  readonly maxKeys: number;
}

const PKG = '@palisade/hedge';
const check = createValidator(PKG);
const KNOWN = ['maxHedges', 'delayMs', 'budgetPercent', 'shouldHedge', 'maxKeys', 'name', 'clock', 'onEvent'] as const;
const KNOWN_DELAY = ['percentile', 'minMs', 'maxMs'] as const;

function normalizeDelay(value: unknown): number | NormalizedAdaptiveDelay {
  if (value === undefined) return HEDGE_DEFAULTS.delayMs;
  if (typeof value === 'number' || typeof value === 'string') return check.duration('delayMs', value, 0);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return check.fail('delayMs', 'a duration or { percentile, minMs, maxMs }', value);
  }
  check.knownKeys(value, KNOWN_DELAY, 'delayMs');
  const d = value as AdaptiveDelay;
  const defaults = HEDGE_DEFAULTS.delayMs;
  const percentile = check.number('delayMs.percentile', d.percentile, defaults.percentile, { min: 1, max: 99.99 });
  const minMs = check.duration('delayMs.minMs', d.minMs, defaults.minMs);
  const maxMs = check.duration('delayMs.maxMs', d.maxMs, Math.max(defaults.maxMs, minMs), { min: minMs });
  return { percentile, minMs, maxMs };
}

/** Validates `options` (a `TypeError` names the bad option) and applies the defaults. */
export function normalizeHedgeOptions(options?: HedgeOptions): NormalizedHedgeOptions {
  const opts = optionsObject(PKG, 'hedge', options);
  check.knownKeys(opts, KNOWN);
  return {
    ...resolvePolicyOptions(PKG, 'hedge', opts),
    maxHedges: check.integer('maxHedges', opts.maxHedges, HEDGE_DEFAULTS.maxHedges, { min: 1, max: 16 }),
    delayMs: normalizeDelay(opts.delayMs),
    budgetPercent: check.percent('budgetPercent', opts.budgetPercent, HEDGE_DEFAULTS.budgetPercent),
    shouldHedge: check.func<(info: HedgeInfo) => boolean>('shouldHedge', opts.shouldHedge),
    maxKeys: check.integer('maxKeys', opts.maxKeys, HEDGE_DEFAULTS.maxKeys, { min: 1 }),
  };
}
