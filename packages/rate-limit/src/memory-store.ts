import { createValidator, optionsObject } from '@palisade/core';
import { LRUCache } from 'lru-cache';
import { type GcraDecision, gcra, gcraRule } from './gcra.js';
import type { BoundRateLimitStore, RateLimitDecision, RateLimitRule, RateLimitStore } from './store.js';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most keys remembered per policy. Past it the least recently used key is forgotten (it starts
   * again from a full burst), so a flood of distinct keys (random IPs) can never grow memory
   * beyond `maxKeys` entries (~110 bytes each plus the key string). Size it above the number of
   * keys active within one window.
   * @default 100_000
   */
  maxKeys?: number;
}

/** Defaults of {@link MemoryStoreOptions}. */
export const MEMORY_STORE_DEFAULTS = Object.freeze({ maxKeys: 100_000 });

/** The state of one policy in a {@link memoryStore}: synchronous decisions. */
export interface MemoryStoreBinding extends BoundRateLimitStore {
  consume(key: string, cost: number, maxWaitMs?: number): RateLimitDecision;
  refund(key: string, cost: number, decision: RateLimitDecision): void;
  /** Keys currently remembered (≤ `maxKeys`), idle ones included until they are evicted. */
  readonly size: number;
  /** Forgets every key. */
  clear(): void;
}

/** A {@link RateLimitStore} kept in this process. */
export interface MemoryStore extends RateLimitStore {
  readonly maxKeys: number;
  bind(rule: RateLimitRule): MemoryStoreBinding;
}

const PKG = '@palisade/rate-limit';
const check = createValidator(PKG);

/**
 * Per-key GCRA state in this process, on lru-cache: one number per key (its theoretical arrival
 * time), at most `maxKeys` keys per policy. Nothing runs on a timer: a key whose TAT has passed is
 * simply equal to a fresh one (full burst), so idle keys cost memory until evicted, never CPU.
 * Decisions are synchronous, so a policy over it awaits nothing before calling `fn`.
 *
 * @example
 * const perClient = rateLimit({ limit: 100, windowMs: '1m', store: memoryStore({ maxKeys: 50_000 }) });
 */
export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  const opts = optionsObject(PKG, 'memoryStore', options);
  check.knownKeys(opts, ['maxKeys'], 'memoryStore');
  const maxKeys = check.integer('maxKeys', opts.maxKeys, MEMORY_STORE_DEFAULTS.maxKeys, { min: 1 });
  return {
    kind: 'memory',
    maxKeys,
    bind: (rule) => bindMemory(rule, maxKeys),
  };
}

function bindMemory(rule: RateLimitRule, maxKeys: number): MemoryStoreBinding {
  const g = gcraRule(rule);
  const { clock } = rule;
  // No ttl: expiry is computed from the stored TAT, so lru-cache keeps no timers and no clock reads.
  const cache = new LRUCache<string, number>({ max: maxKeys, ttlAutopurge: false });
  // lru-cache defaults its options argument to a fresh `{}` per call; one shared object avoids that.
  const getOptions = {};
  const setOptions = {};

  return {
    consume(key, cost, maxWaitMs = 0) {
      const d = gcra(cache.get(key, getOptions), clock.now(), cost, maxWaitMs, g);
      if (d.allowed && cost > 0) cache.set(key, d.tat, setOptions);
      return d;
    },
    refund(key, cost, decision) {
      const { tat } = decision as GcraDecision;
      if (!decision.allowed || cost <= 0 || cache.peek(key) !== tat) return;
      const back = tat - cost * g.intervalMs;
      if (back <= clock.now()) cache.delete(key);
      else cache.set(key, back, setOptions);
    },
    get size() {
      return cache.size;
    },
    clear() {
      cache.clear();
    },
  };
}
