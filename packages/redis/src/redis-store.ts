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

/** Hash slots a policy's keys spread over on Redis Cluster (one base per slot, see {@link shardOf}). */
export const CLUSTER_SHARDS = 16;

/** Which of the {@link CLUSTER_SHARDS} bases holds `key` (FNV-1a of its UTF-16 units). */
export function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % CLUSTER_SHARDS;
}

/**
 * The span of one generation of a rule's hashes, in ms: a whole number of seconds, a power of two,
 * at least the furthest a TAT gets ahead of now without waiting (the burst tolerance plus one
 * step) — so that rules of similar windows share a span, and a policy whose limit changes in a
 * rolling deploy keeps reading the same hashes.
 */
export function generationSpanMs(toleranceMs: number, intervalMs: number): number {
  let span = 1_000;
  while (span < toleranceMs + intervalMs) span *= 2;
  return span;
}

/** Number → ARGV string, with the common small costs and waits cached. */
const SMALL = Array.from({ length: 65 }, (_, i) => String(i));
const arg = (n: number): string => (Number.isInteger(n) && n >= 0 && n < 65 ? (SMALL[n] as string) : String(n));

/**
 * Fleet-wide state for `rateLimit()` and `throttle()`: each `consume` is decided atomically by a
 * Lua script (GCRA on Redis server time — `TIME` — so the callers' clocks never matter), sent
 * with EVALSHA; the script is loaded on the first NOSCRIPT (and again after a Redis restart). The
 * consumes of a policy issued in the same tick share one script call, which decides them one after
 * the other in the order they were issued (see `batch.ts`). A policy's keys are fields of one hash
 * per time span, dropped (UNLINK) two spans later or expiring a span after that (see `script.ts`),
 * so nothing is left behind. Every call is bounded by `timeoutMs`; a failure or timeout is decided
 * by `onStoreError` (fail-open or fail-closed) and reported as a `ratelimit.store-error` event, and
 * the next call simply tries Redis again — the store recovers by itself as soon as the client
 * reconnects.
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
      // The script works in whole microseconds.
      const span = String(generationSpanMs(g.toleranceMs, g.intervalMs) * 1_000);
      const interval = String(g.intervalMs * 1_000);
      const tolerance = String(g.toleranceMs * 1_000);
      const runner = scriptRunner(client, rule.clock, timeoutMs);
      // A single Redis: one base. A cluster: one per shard, each with its own hash tag (slot).
      const base = `${prefix}${rule.name}`;
      const shards = client.isCluster
        ? Array.from({ length: CLUSTER_SHARDS }, (_, i) => `${prefix}{${rule.name}:${i}}`)
        : undefined;
      const baseOf = shards === undefined ? () => base : (key: string) => shards[shardOf(key)] as string;

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
      const consume = batcher({ runner, rule: [span, interval, tolerance], baseOf, decide });

      return {
        onStoreError,
        consume(key, cost, maxWaitMs = 0) {
          if (client.isReady === false) return Promise.reject(unavailable());
          return consume(key, cost, arg(cost), arg(maxWaitMs * 1_000));
        },
        refund(key, cost, d) {
          const token = (d as GcraDecision).tat;
          if (!d.allowed || cost <= 0 || typeof token !== 'number' || token === 0) return undefined;
          return runner.run(
            REFUND_SHA,
            REFUND_SCRIPT,
            ['EVALSHA', REFUND_SHA, '1', baseOf(key), span, key, String(token), String(cost * g.intervalMs * 1_000)],
            nothing,
          );
        },
      };
    },
  };
}
