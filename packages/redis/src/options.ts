import { type Duration, createValidator, optionsObject } from '@palisade/core';
import type { StoreErrorMode } from '@palisade/rate-limit';
import { type IORedisClient, type RedisClient, fromIORedis, isIORedis } from './client.js';

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected Redis client: node-redis (`await createClient({ url }).connect()`, the faster one
   * here), ioredis (`new Redis(url)`), or anything with node-redis's `sendCommand` (see
   * {@link RedisClient}). The store never connects, quits or reconfigures it.
   */
  client: RedisClient | IORedisClient;
  /**
   * Prepended to every Redis key, before the policy's name: a policy's limiter keys are fields of
   * the hashes `<prefix><policy name>:<span µs>:<n>` (one per time span; on Redis Cluster the
   * policy name and a shard number are a hash tag, `<prefix>{<policy name>:<shard>}:…`).
   * @default 'palisade:rl:'
   */
  prefix?: string;
  /**
   * Longest a store call may take, in ms or a duration string. Past it the call is decided by
   * `onStoreError` and the late reply is ignored, so a hung Redis never hangs a request.
   * @default 250
   */
  timeoutMs?: Duration;
  /**
   * What policies using this store do when Redis fails or times out, unless the policy sets its own
   * `onStoreError`. When absent, each policy's default applies (`rateLimit()`: `'fail-open'`,
   * `throttle()`: `'fail-closed'`).
   */
  onStoreError?: StoreErrorMode;
}

/** Defaults of {@link RedisStoreOptions}. */
export const REDIS_STORE_DEFAULTS = Object.freeze({
  prefix: 'palisade:rl:',
  timeoutMs: 250,
});

/** Options once validated. */
export interface NormalizedRedisStoreOptions {
  readonly client: RedisClient;
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly onStoreError: StoreErrorMode | undefined;
}

const PKG = '@palisade/redis';
const check = createValidator(PKG);
const MODES: readonly StoreErrorMode[] = ['fail-open', 'fail-closed'];

/** Validates `options` (a `TypeError` names the bad option) and applies the defaults. */
export function normalizeRedisStoreOptions(options: RedisStoreOptions): NormalizedRedisStoreOptions {
  const opts = optionsObject(PKG, 'redisStore', options);
  check.knownKeys(opts, ['client', 'prefix', 'timeoutMs', 'onStoreError']);
  const given = opts.client;
  if (typeof given !== 'object' || given === null) check.fail('client', 'a node-redis or ioredis client', given);
  // ioredis also has a `sendCommand`, taking its own Command objects: tell it apart first.
  const client = isIORedis(given) ? fromIORedis(given) : (given as RedisClient);
  if (typeof client.sendCommand !== 'function') check.fail('client', 'a node-redis or ioredis client', given);
  const prefix = opts.prefix === '' ? '' : check.string('prefix', opts.prefix, REDIS_STORE_DEFAULTS.prefix);
  return {
    client,
    prefix,
    timeoutMs: check.duration('timeoutMs', opts.timeoutMs, REDIS_STORE_DEFAULTS.timeoutMs, { min: 1 }),
    onStoreError:
      opts.onStoreError === undefined
        ? undefined
        : check.oneOf<StoreErrorMode>('onStoreError', opts.onStoreError, MODES, 'fail-open'),
  };
}
