export { retry } from './retry.js';
export type { RetryPolicy } from './retry.js';
export { RETRY_DEFAULTS, normalizeRetryOptions } from './options.js';
export type {
  RetryOptions,
  RetryOutcome,
  RetryErrorOutcome,
  RetryValueOutcome,
  NormalizedRetryOptions,
} from './options.js';
export { constant, exponential, EXPONENTIAL_DEFAULTS } from './backoff.js';
export type {
  Backoff,
  BackoffFunction,
  BackoffSpec,
  ConstantBackoff,
  ConstantBackoffOptions,
  ExponentialBackoff,
  ExponentialBackoffOptions,
  Jitter,
} from './backoff.js';
export { retryBudget, RETRY_BUDGET_DEFAULTS } from './budget.js';
export type { RetryBudget, RetryBudgetOptions, RetryBudgetSpec } from './budget.js';
