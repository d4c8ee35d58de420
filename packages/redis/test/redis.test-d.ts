import { type RateLimitStore, rateLimit, throttle } from '@palisade/rate-limit';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { expectTypeOf } from 'vitest';
import {
  type IORedisClient,
  type RedisClient,
  type RedisStore,
  type RedisStoreOptions,
  redisStore,
} from '../src/index.js';

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

// An ioredis client is accepted as it is too.
const io = new Redis({ lazyConnect: true });
expectTypeOf(io).toMatchTypeOf<IORedisClient>();
redisStore({ client: io });
// Any other client through sendCommand.
const custom: RedisClient = { sendCommand: async (args) => args.length, isReady: true };
redisStore({ client: custom });
