import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { REDIS_STORE_DEFAULTS, normalizeRedisStoreOptions, redisStore } from '../src/index.js';

const client = createClient();

describe('redisStore options', () => {
  it('normalizes to the documented defaults', () => {
    const { prefix, timeoutMs, onStoreError } = normalizeRedisStoreOptions({ client });
    expect({ prefix, timeoutMs }).toEqual(REDIS_STORE_DEFAULTS);
    expect(onStoreError).toBeUndefined();
    expect(Object.isFrozen(REDIS_STORE_DEFAULTS)).toBe(true);
    expect(redisStore({ client, timeoutMs: '1s', prefix: '' })).toMatchObject({
      kind: 'redis',
      timeoutMs: 1_000,
      prefix: '',
    });
  });

  it.each([
    [{}, /"client" must be a node-redis or ioredis client \(got undefined\)/],
    [{ client: {} }, /"client" must be a node-redis or ioredis client \(got an object\)/],
    [{ client, timeoutMs: 0 }, /"timeoutMs" must be a duration ≥ 1 ms/],
    [{ client, timeoutMs: 'soon' }, /"timeoutMs" must be a duration/],
    [{ client, prefix: 5 }, /"prefix" must be a non-empty string \(got 5\)/],
    [{ client, onStoreError: 'retry' }, /"onStoreError" must be one of 'fail-open', 'fail-closed' \(got "retry"\)/],
    [{ client, ttl: 5 }, /unknown option "ttl"/],
  ] as const)('redisStore(%#) throws a TypeError naming the option', (options, message) => {
    expect(() => redisStore(options as never)).toThrow(TypeError);
    expect(() => redisStore(options as never)).toThrow(message);
    expect(() => redisStore(options as never)).toThrow(/^@palisade\/redis: /);
  });

  it('rejects a non-object', () => {
    expect(() => redisStore(undefined as never)).toThrow(/"client" must be/);
    expect(() => redisStore('redis://x' as never)).toThrow(/redisStore\(\) takes an options object/);
  });
});
