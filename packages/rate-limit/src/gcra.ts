import type { RateLimitDecision, RateLimitRule } from './store.js';

/**
 * GCRA (the generic cell rate algorithm of ATM networks, as used by Stripe's and Redis-cell's
 * limiters). A key's whole state is one number, its theoretical arrival time (TAT): when the key
 * will be back to full burst. A call costing `c` conforms when `max(TAT, now) + c·T − burst·T ≤ now`
 * (T = `windowMs / limit`, the emission interval); taking it moves TAT forward by `c·T`.
 *
 * Against a fixed window it never lets 2× through at a boundary: any span of `d` ms admits at most
 * `burst + d / T` units. Against a token bucket it is the same limit with less state (one number,
 * no "last refill" pair) and no refill arithmetic: O(1), one field per key, which is what makes
 * ≤ 150 bytes per key in memory and one small `SET` in Redis possible.
 */
export interface GcraRule {
  /** Emission interval T = windowMs / limit, in ms per unit. */
  readonly intervalMs: number;
  /** burst · T: how far TAT may run ahead of now, in ms. */
  readonly toleranceMs: number;
  readonly limit: number;
  readonly burst: number;
}

/** A decision of an in-process GCRA store, with the key's TAT after it (its refund token). */
export interface GcraDecision extends RateLimitDecision {
  /** The key's theoretical arrival time after this decision (epoch ms). */
  readonly tat: number;
}

/**
 * Float slack in ms. TATs are epoch ms (~1.7e12), where doubles resolve ~0.25 µs, and fractional
 * intervals (1000 / 3) accumulate rounding; 1 µs of slack keeps `n` calls of `T` from being one
 * rounding error short, and is far below anything a rate limit can observe.
 */
export const EPSILON_MS = 1e-3;

/** Derives the GCRA constants of a rule. */
export function gcraRule(rule: Pick<RateLimitRule, 'limit' | 'windowMs' | 'burst'>): GcraRule {
  const intervalMs = rule.windowMs / rule.limit;
  return { intervalMs, toleranceMs: rule.burst * intervalMs, limit: rule.limit, burst: rule.burst };
}

/** Whole ms, rounded up (so that waiting that long is always enough), never negative. */
export const ceilMs = (ms: number): number => (ms <= EPSILON_MS ? 0 : Math.ceil(ms - EPSILON_MS));

/**
 * Decides one `consume` of `cost` units at `now` for a key whose stored TAT is `stored`
 * (`undefined` for an unknown key). Allowed when the call conforms within `maxWaitMs`;
 * `retryAfterMs` is then the wait before it does (0 unless reserved ahead).
 */
export function gcra(
  stored: number | undefined,
  now: number,
  cost: number,
  maxWaitMs: number,
  rule: GcraRule,
): GcraDecision {
  const { intervalMs, toleranceMs } = rule;
  const tat = stored === undefined || stored < now ? now : stored;
  const next = tat + cost * intervalMs;
  const waitMs = next - toleranceMs - now;
  if (waitMs > maxWaitMs + EPSILON_MS) {
    return {
      allowed: false,
      limit: rule.limit,
      remaining: remainingAt(tat, now, rule),
      resetMs: ceilMs(tat - now),
      retryAfterMs: ceilMs(waitMs),
      tat,
    };
  }
  return {
    allowed: true,
    limit: rule.limit,
    remaining: remainingAt(next, now, rule),
    resetMs: ceilMs(next - now),
    retryAfterMs: ceilMs(waitMs),
    tat: next,
  };
}

/** Units that could be taken at once at `now` with the key's TAT at `tat`. */
function remainingAt(tat: number, now: number, rule: GcraRule): number {
  const left = Math.floor((rule.toleranceMs - (tat - now)) / rule.intervalMs + EPSILON_MS / rule.intervalMs);
  return left <= 0 ? 0 : Math.min(left, rule.burst);
}
