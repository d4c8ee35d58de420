import {
  type Clock,
  type Context,
  type Duration,
  type ExecuteOptions,
  type Policy,
  createValidator,
  describe,
  optionsObject,
  systemClock,
} from '@palisade/core';
import { LRUCache } from 'lru-cache';

/** Options of {@link keyed}. */
export interface KeyedOptions {
  /**
   * Most keys held at once; past it, the least recently used key's policy is dropped (its state is
   * forgotten: a breaker comes back closed). Bounds memory whatever keys callers send.
   * @default 1_000
   */
  maxKeys?: number;
  /**
   * A key unused for longer than this (ms, or `"10m"`) is dropped when next looked at or pushed out; 0
   * keeps keys until `maxKeys` pushes them out. No timer is involved.
   * @default 600_000
   */
  idleMs?: Duration;
  /** Name of the keyed policy. @default 'keyed' */
  name?: string;
  /** Source of time for `idleMs`. @default systemClock */
  clock?: Clock;
}

/** Defaults of {@link KeyedOptions}. */
export const KEYED_DEFAULTS = Object.freeze({
  maxKeys: 1_000,
  idleMs: 600_000,
  name: 'keyed',
});

/** The policy returned by {@link keyed}. */
export interface KeyedPolicy<P extends Policy = Policy> extends Policy {
  /** Keys held now (idle ones not yet looked at included). */
  readonly size: number;
  /** The policy of `key`, if held and not idle past `idleMs` (does not count as a use). */
  get(key: string): P | undefined;
}

const PKG = '@palisade/circuit-breaker';
const check = createValidator(PKG);

/**
 * One policy per key (per host, per route, per tenant), each made by `factory(key)` on the key's
 * first call and held in a bounded LRU cache: `maxKeys` caps memory, `idleMs` forgets keys nobody
 * uses, and no key owns a timer. Each call goes to the policy of `options.key`; a call without a
 * key goes to the policy of the key `''` (shared by every unkeyed call).
 *
 * Build every key's policy from one options object (hoisted out of the factory): breakers share
 * its validated form, and a key costs only its own state.
 *
 * @example
 * const options = { failureRateThreshold: 0.5, minimumCalls: 20 };
 * const perHost = keyed(() => circuitBreaker(options), { maxKeys: 500, idleMs: '10m' });
 * await perHost.execute(() => fetch(url), { key: new URL(url).host });
 */
export function keyed<P extends Policy>(factory: (key: string) => P, options?: KeyedOptions): KeyedPolicy<P> {
  if (typeof factory !== 'function') {
    throw new TypeError(`${PKG}: keyed() takes a factory function (key) => Policy (got ${describe(factory)})`);
  }
  const opts = optionsObject(PKG, 'keyed', options);
  check.knownKeys(opts, ['maxKeys', 'idleMs', 'name', 'clock']);
  const maxKeys = check.integer('maxKeys', opts.maxKeys, KEYED_DEFAULTS.maxKeys, { min: 1, max: 2 ** 31 - 1 });
  const idleMs = check.duration('idleMs', opts.idleMs, KEYED_DEFAULTS.idleMs);
  const name = check.string('name', opts.name, KEYED_DEFAULTS.name);
  const clock = opts.clock ?? systemClock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    check.fail('clock', 'a Clock with now() and sleep()', clock);
  }
  const cache = new LRUCache<string, P>({
    max: maxKeys,
    ...(idleMs > 0 ? { ttl: idleMs, updateAgeOnGet: true } : {}),
    ttlAutopurge: false,
    ttlResolution: 0, // read the clock itself: no cached-now timer
    // lru-cache reads a start time of 0 as "no TTL": shift by 1 ms so a FakeClock at 0 works too.
    perf: { now: () => clock.now() + 1 },
  });

  const policyOf = (key: string): P => {
    let policy = cache.get(key);
    if (policy === undefined) {
      policy = factory(key);
      if (typeof policy !== 'object' || policy === null || typeof policy.execute !== 'function') {
        throw new TypeError(`${PKG}: keyed() factory must return a Policy (got ${describe(policy)} for "${key}")`);
      }
      cache.set(key, policy);
    }
    return policy;
  };

  return {
    name,
    get size() {
      return cache.size;
    },
    get(key: string): P | undefined {
      return cache.get(key, { updateAgeOnGet: false });
    },
    execute<T>(fn: (ctx: Context) => Promise<T> | T, executeOptions?: ExecuteOptions): Promise<T> {
      let policy: P;
      try {
        policy = policyOf(executeOptions?.key ?? '');
      } catch (error) {
        return Promise.reject(error);
      }
      return policy.execute(fn, executeOptions);
    },
  };
}
