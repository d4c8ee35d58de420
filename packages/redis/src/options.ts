import { type Duration, createValidator, optionsObject } from '@palisade/core';
import type { StoreErrorMode } from '@palisade/rate-limit';
import type { RedisClient } from './client.js';

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected Redis client: a node-redis client (`await createClient({ url }).connect()`), or
   * anything with the same `sendCommand` (see {@link RedisClient} for an ioredis adapter). The
   * store never connects, quits or reconfigures it.
   */
  client: RedisClient;
  /**
   * Prepended to every key, before the policy's name: a key reads `<prefix><policy name>:<key>`.
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
  const { client } = opts;
  if (typeof client !== 'object' || client === null || typeof client.sendCommand !== 'function') {
    check.fail('client', 'a Redis client with sendCommand() (a node-redis client)', client);
  }
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
