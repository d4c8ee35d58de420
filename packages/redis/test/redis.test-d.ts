import { type RateLimitStore, rateLimit, throttle } from '@palisade/rate-limit';
import { Cluster, Redis } from 'ioredis';
import { createClient } from 'redis';
import { expectTypeOf } from 'vitest';
import { type RedisClient, type RedisStore, type RedisStoreOptions, redisStore } from '../src/index.js';

const client = new Redis({ lazyConnect: true });
// An ioredis instance (or Cluster) is a RedisClient as it is.
expectTypeOf(client).toMatchTypeOf<RedisClient>();
expectTypeOf(new Cluster([], { lazyConnect: true })).toMatchTypeOf<RedisClient>();
expectTypeOf(redisStore).parameter(0).toEqualTypeOf<RedisStoreOptions>();
expectTypeOf(redisStore({ client })).toEqualTypeOf<RedisStore>();
expectTypeOf<RedisStore>().toMatchTypeOf<RateLimitStore>();
rateLimit({ store: redisStore({ client, prefix: 'app:', timeoutMs: '100ms', onStoreError: 'fail-closed' }) });
throttle({ store: redisStore({ client }) });
// @ts-expect-error not a mode
redisStore({ client, onStoreError: 'ignore' });
// @ts-expect-error a client is required
redisStore({});

// node-redis fits through the documented adapter.
const nodeRedis = createClient();
const adapted: RedisClient = {
  evalsha: (sha, numKeys, ...args) =>
    nodeRedis.evalSha(sha, { keys: args.slice(0, numKeys), arguments: args.slice(numKeys) }),
  script: (_load, source) => nodeRedis.scriptLoad(source),
  get status() {
    return nodeRedis.isReady ? 'ready' : 'reconnecting';
  },
};
redisStore({ client: adapted });
