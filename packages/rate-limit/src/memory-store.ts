import { createValidator, optionsObject } from '@palisade/core';
import { LRUCache } from 'lru-cache';
import { EPSILON_MS, type GcraDecision, gcra, gcraRule } from './gcra.js';
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

/**
 * The policies' fast path (not public API): takes `cost` from `key` if it is available right now
 * and returns true, building no decision object; returns false (taking nothing) otherwise, and
 * the policy then asks `consume` for the full decision.
 */
export const TRY_TAKE: unique symbol = Symbol('palisade.rate-limit.tryTake');

/** The state of one policy in a {@link memoryStore}: synchronous decisions. */
export interface MemoryStoreBinding extends BoundRateLimitStore {
  consume(key: string, cost: number, maxWaitMs?: number): RateLimitDecision;
  refund(key: string, cost: number, decision: RateLimitDecision): void;
  /** Keys currently remembered (≤ `maxKeys`), idle ones included until they are evicted. */
  readonly size: number;
  /** Forgets every key. */
  clear(): void;
}

/** A binding with the policies' fast path. */
interface FastMemoryStoreBinding extends MemoryStoreBinding {
  [TRY_TAKE](key: string, cost: number): boolean;
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

/**
 * A key's state: its TAT, in a one-field object updated in place, so that an allowed call costs one
 * lru-cache lookup (a `get`, which also marks the key as recently used) and no allocation, where a
 * number value would need a second lookup (`set`) and a fresh heap number on every call.
 */
interface KeyState {
  tat: number;
}

function bindMemory(rule: RateLimitRule, maxKeys: number): FastMemoryStoreBinding {
  const g = gcraRule(rule);
  const { intervalMs, toleranceMs } = g;
  const { clock } = rule;
  // No ttl: expiry is computed from the stored TAT, so lru-cache keeps no timers and reads no clock.
  const cache = new LRUCache<string, KeyState>({ max: maxKeys, ttlAutopurge: false });

  return {
    consume(key, cost, maxWaitMs = 0) {
      const state = cache.get(key);
      const d = gcra(state?.tat, clock.now(), cost, maxWaitMs, g);
      if (d.allowed && cost > 0) {
        if (state) state.tat = d.tat;
        else cache.set(key, { tat: d.tat });
      }
      return d;
    },
    [TRY_TAKE](key, cost) {
      const state = cache.get(key);
      const now = clock.now();
      const tat = state === undefined || state.tat < now ? now : state.tat;
      const next = tat + cost * intervalMs;
      if (next - toleranceMs - now > EPSILON_MS) return false;
      if (cost > 0) {
        if (state) state.tat = next;
        else cache.set(key, { tat: next });
      }
      return true;
    },
    refund(key, cost, decision) {
      const { tat } = decision as GcraDecision;
      const state = cache.peek(key);
      if (!decision.allowed || cost <= 0 || state === undefined || state.tat !== tat) return;
      const back = tat - cost * g.intervalMs;
      if (back <= clock.now()) cache.delete(key);
      else state.tat = back;
    },
    get size() {
      return cache.size;
    },
    clear() {
      cache.clear();
    },
  };
}
