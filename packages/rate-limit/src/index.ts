export { rateLimit } from './rate-limit.js';
export type { RateLimitPolicy } from './rate-limit.js';
export { throttle } from './throttle.js';
export type { ThrottlePolicy } from './throttle.js';
export { memoryStore, MEMORY_STORE_DEFAULTS } from './memory-store.js';
export type { MemoryStore, MemoryStoreBinding, MemoryStoreOptions } from './memory-store.js';
export { fromBottleneck, FROM_BOTTLENECK_DEFAULTS } from './bottleneck.js';
export type { BottleneckLimiter, FromBottleneckOptions } from './bottleneck.js';
export {
  RATE_LIMIT_DEFAULTS,
  THROTTLE_DEFAULTS,
  normalizeRateLimitOptions,
  normalizeThrottleOptions,
} from './options.js';
export type {
  LimitOptions,
  RateLimitOptions,
  ThrottleOptions,
  NormalizedLimitOptions,
  NormalizedThrottleOptions,
} from './options.js';
export type {
  RateLimitDecision,
  RateLimitRule,
  RateLimitStore,
  BoundRateLimitStore,
  StoreErrorMode,
} from './store.js';
export type { StoreErrorDecision } from './limiter.js';
export { gcra, gcraRule, ceilMs } from './gcra.js';
export type { GcraRule, GcraDecision } from './gcra.js';
