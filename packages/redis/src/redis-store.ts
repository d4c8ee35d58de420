import { type GcraDecision, type RateLimitStore, type RateLimitDecision, ceilMs, gcraRule } from '@palisade/rate-limit';
import { scriptRunner } from './client.js';
import { type RedisStoreOptions, normalizeRedisStoreOptions } from './options.js';
import { CONSUME_SCRIPT, CONSUME_SHA, REFUND_SCRIPT, REFUND_SHA } from './script.js';

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
 * Fleet-wide state for `rateLimit()` and `throttle()`: each `consume` is one atomic Lua script
 * (GCRA on Redis server time — `TIME` — so the callers' clocks never matter), sent with EVALSHA;
 * the script is loaded on the first NOSCRIPT (and again after a Redis restart). Keys expire
 * (PX) when their state runs out, so nothing is left behind. Every call is bounded by `timeoutMs`;
 * a failure or timeout is decided by `onStoreError` (fail-open or fail-closed) and reported as a
 * `ratelimit.store-error` event, and the next call simply tries Redis again — the store recovers
 * by itself as soon as the client reconnects.
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

      const intervalUs = g.intervalMs * 1_000;
      const toleranceUs = g.toleranceMs * 1_000;
      const remainingAt = (resetUs: number): number => {
        const left = Math.floor((toleranceUs - resetUs + 1) / intervalUs);
        return left <= 0 ? 0 : Math.min(left, burst);
      };
      const decision = (reply: unknown): RateLimitDecision => {
        const [allowed, resetUs, third] = reply as [number, number, number];
        return allowed === 1
          ? ({
              allowed: true,
              limit,
              remaining: remainingAt(resetUs),
              resetMs: ceilMs(resetUs / 1_000),
              retryAfterMs: ceilMs((resetUs - toleranceUs) / 1_000),
              tat: third,
            } as GcraDecision)
          : ({
              allowed: false,
              limit,
              remaining: remainingAt(resetUs),
              resetMs: ceilMs(resetUs / 1_000),
              retryAfterMs: ceilMs(third / 1_000),
              tat: 0,
            } as GcraDecision);
      };

      return {
        onStoreError,
        consume(key, cost, maxWaitMs = 0) {
          return runner.run(
            CONSUME_SHA,
            CONSUME_SCRIPT,
            ['EVALSHA', CONSUME_SHA, '1', keyPrefix + key, interval, tolerance, arg(cost), arg(maxWaitMs * 1_000)],
            decision,
          );
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
