import type { Clock } from '@palisade/core';

/**
 * What a rate limit store answers for one `consume`: everything an HTTP adapter needs for the IETF
 * `RateLimit` / `RateLimit-Policy` headers, for allowed calls as much as for refused ones.
 */
export interface RateLimitDecision {
  /** Whether the cost was taken. A refused call took nothing. */
  readonly allowed: boolean;
  /** The limit in force: units per window (`limit` of the policy). */
  readonly limit: number;
  /** Units that could still be taken at once after this decision (0 … `burst`). */
  readonly remaining: number;
  /** Time in ms until the key is back to its full `burst` (0 when it already is). */
  readonly resetMs: number;
  /**
   * Refused: time in ms until the same cost would be allowed. Allowed: time in ms the caller must
   * wait before acting on it — always 0, except for a reservation made ahead of time by `throttle()`.
   */
  readonly retryAfterMs: number;
}

/** What a policy does when its store fails or does not answer in time. */
export type StoreErrorMode = 'fail-open' | 'fail-closed';

/**
 * The rule a policy hands its store once, at construction: `limit` units per `windowMs`, with up
 * to `burst` at once. Under GCRA one unit is released every `windowMs / limit` ms.
 */
export interface RateLimitRule {
  /** The policy's name: stores shared by several policies keep each one's keys apart with it. */
  readonly name: string;
  /** Units per window. */
  readonly limit: number;
  /** The window, in ms. */
  readonly windowMs: number;
  /** Units that may be taken at once by an idle key. */
  readonly burst: number;
  /** The policy's clock. In-process stores read time from it; Redis uses its own server time. */
  readonly clock: Clock;
}

/**
 * A store bound to one policy's {@link RateLimitRule}: the state of every key of that policy.
 * `consume` may answer synchronously (`memoryStore`: no promise on the hot path) or with a promise
 * (`redisStore`).
 */
export interface BoundRateLimitStore {
  /**
   * Takes `cost` units from `key` if they are available now — or, with `maxWaitMs > 0`, reserves
   * them for the earliest time within `maxWaitMs` (then `retryAfterMs` of the allowed decision says
   * how long to wait). A refused call takes nothing.
   * @param cost units to take, 0 … `burst` (0 only reads the state)
   * @param maxWaitMs how far ahead a reservation may be made, in ms (default 0: now or never)
   */
  consume(key: string, cost: number, maxWaitMs?: number): RateLimitDecision | Promise<RateLimitDecision>;
  /**
   * Gives back what `decision` took from `key` (a reservation abandoned before it ran), where the
   * algorithm allows: under GCRA only while nothing else was taken from the key since, so that
   * giving back never lets a later caller jump ahead of one that is already scheduled.
   */
  refund?(key: string, cost: number, decision: RateLimitDecision): void | Promise<void>;
  /** What to do when this store fails, unless the policy says otherwise. */
  readonly onStoreError?: StoreErrorMode | undefined;
}

/**
 * Where a policy keeps its per-key state: `memoryStore()` in the process, `redisStore()` from
 * `@palisade/redis` across a fleet. Each policy calls `bind` once with its rule.
 */
export interface RateLimitStore {
  /** A short name for messages, e.g. `'memory'`, `'redis'`. */
  readonly kind: string;
  /** Binds the store to one policy's rule. Called once per policy, at construction. */
  bind(rule: RateLimitRule): BoundRateLimitStore;
}
