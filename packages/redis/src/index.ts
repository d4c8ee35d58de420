export { redisStore } from './redis-store.js';
export type { RedisStore } from './redis-store.js';
export { REDIS_STORE_DEFAULTS, normalizeRedisStoreOptions } from './options.js';
export type { RedisStoreOptions, NormalizedRedisStoreOptions } from './options.js';
export type { RedisClient, IORedisClient } from './client.js';
export { CONSUME_SCRIPT, REFUND_SCRIPT } from './script.js';
