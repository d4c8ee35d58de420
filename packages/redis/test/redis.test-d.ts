import { type RateLimitStore, rateLimit, throttle } from '@palisade/rate-limit';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { expectTypeOf } from 'vitest';
import { type RedisClient, type RedisStore, type RedisStoreOptions, redisStore } from '../src/index.js';

const client = createClient();
// A node-redis client is a RedisClient as it is.
expectTypeOf(client).toMatchTypeOf<RedisClient>();
expectTypeOf(redisStore).parameter(0).toEqualTypeOf<RedisStoreOptions>();
expectTypeOf(redisStore({ client })).toEqualTypeOf<RedisStore>();
expectTypeOf<RedisStore>().toMatchTypeOf<RateLimitStore>();
rateLimit({ store: redisStore({ client, prefix: 'app:', timeoutMs: '100ms', onStoreError: 'fail-closed' }) });
throttle({ store: redisStore({ client }) });
// @ts-expect-error not a mode
redisStore({ client, onStoreError: 'ignore' });
// @ts-expect-error a client is required
redisStore({});

// ioredis fits through the documented adapter.
const io = new Redis({ lazyConnect: true });
const adapted: RedisClient = {
  sendCommand: ([command, ...args]) => io.call(command as string, ...args),
  get isReady() {
    return io.status === 'ready' || io.status === 'connect' || io.status === 'connecting';
  },
};
redisStore({ client: adapted });
