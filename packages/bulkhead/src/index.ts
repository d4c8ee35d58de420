export { bulkhead } from './bulkhead.js';
export type { BulkheadPolicy, SlotState } from './bulkhead.js';
export { concurrencyLimit } from './concurrency-limit.js';
export type { ConcurrencyLimitPolicy } from './concurrency-limit.js';
export {
  BULKHEAD_DEFAULTS,
  CONCURRENCY_LIMIT_DEFAULTS,
  isOverloadError,
  normalizeBulkheadOptions,
  normalizeConcurrencyLimitOptions,
} from './options.js';
export type {
  BulkheadOptions,
  ConcurrencyLimitOptions,
  DropInfo,
  LimitAlgorithmName,
  NormalizedBulkheadOptions,
  NormalizedConcurrencyLimitOptions,
  QueueOptions,
} from './options.js';
