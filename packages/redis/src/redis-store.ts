import { type GcraDecision, type RateLimitStore, type RateLimitDecision, ceilMs, gcraRule } from '@palisade/rate-limit';
import { batcher } from './batch.js';
import { scriptRunner, unavailable } from './client.js';
import { type RedisStoreOptions, normalizeRedisStoreOptions } from './options.js';
import { REFUND_SCRIPT, REFUND_SHA } from './script.js';

/** A {@link RateLimitStore} kept in Redis, shared by every process that uses the same keys. */
export interface RedisStore extends RateLimitStore {
  readonly kind: 'redis';
  readonly prefix: string;
  readonly timeoutMs: number;
}

const nothing = (): undefined => undefined;

/** Number → ARGV string, with the common small costs and waits cached. */
const SMALL = Array.from({ length: 65 }, (_, i) => String(i));
const arg = (n: number): string => (Number.isInteger(n) && n >= 0 && n < 65 ? (SMALL[n] as string) : String(n));

/**
 * Fleet-wide state for `rateLimit()` and `throttle()`: each `consume` is decided atomically by a
 * Lua script (GCRA on Redis server time — `TIME` — so the callers' clocks never matter), sent
 * with EVALSHA; the script is loaded on the first NOSCRIPT (and again after a Redis restart). The
 * consumes of a policy issued in the same tick share one script call, which decides them one after
 * the other in the order they were issued (see `batch.ts`). Keys expire (PXAT) when their state
 * runs out, so nothing is left behind. Every call is bounded by `timeoutMs`; a failure or timeout
 * is decided by `onStoreError` (fail-open or fail-closed) and reported as a `ratelimit.store-error`
 * event, and the next call simply tries Redis again — the store recovers by itself as soon as the
 * client reconnects.
 *
 * @example
 * import { createClient } from 'redis';
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * const store = redisStore({ client });
 * const perClient = rateLimit({ limit: 100, windowMs: '1m', store });
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  const { client, prefix, timeoutMs, onStoreError } = normalizeRedisStoreOptions(options);
  return {
    kind: 'redis',
    prefix,
    timeoutMs,
    bind(rule) {
      const g = gcraRule(rule);
      const { limit, burst } = rule;
      const keyPrefix = `${prefix}${rule.name}:`;
      // The script works in whole microseconds.
      const interval = String(g.intervalMs * 1_000);
      const tolerance = String(g.toleranceMs * 1_000);
      const runner = scriptRunner(client, rule.clock, timeoutMs);

      // The script answers each consume with one number (see CONSUME_SCRIPT); the rest of the
      // decision follows from it, the cost and the rule.
      const intervalUs = g.intervalMs * 1_000;
      const toleranceUs = g.toleranceMs * 1_000;
      const remainingAt = (resetUs: number): number => {
        const left = Math.floor((toleranceUs - resetUs + 1) / intervalUs);
        return left <= 0 ? 0 : Math.min(left, burst);
      };
      const decide = (now: number, value: number, cost: number): RateLimitDecision => {
        if (value >= 0) {
          return {
            allowed: true,
            limit,
            remaining: remainingAt(value),
            resetMs: ceilMs(value / 1_000),
            retryAfterMs: ceilMs((value - toleranceUs) / 1_000),
            tat: now + value,
          } as GcraDecision;
        }
        const resetUs = -value - 1;
        return {
          allowed: false,
          limit,
          remaining: remainingAt(resetUs),
          resetMs: ceilMs(resetUs / 1_000),
          retryAfterMs: ceilMs(Math.ceil(resetUs + Math.ceil(cost * intervalUs) - toleranceUs) / 1_000),
          tat: 0,
        } as GcraDecision;
      };
      const consume = batcher({ runner, interval, tolerance, acrossKeys: !client.isCluster, decide });

      return {
        onStoreError,
        consume(key, cost, maxWaitMs = 0) {
          if (client.isReady === false) return Promise.reject(unavailable());
          return consume(keyPrefix + key, cost, arg(cost), arg(maxWaitMs * 1_000));
        },
        refund(key, cost, d) {
          const token = (d as GcraDecision).tat;
          if (!d.allowed || cost <= 0 || typeof token !== 'number' || token === 0) return undefined;
          return runner.run(
            REFUND_SHA,
            REFUND_SCRIPT,
            ['EVALSHA', REFUND_SHA, '1', keyPrefix + key, String(token), String(cost * g.intervalMs * 1_000)],
            nothing,
          );
        },
      };
    },
  };
}
