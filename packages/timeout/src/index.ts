export { timeout } from './timeout.js';
export type { TimeoutPolicy } from './timeout.js';
export { TIMEOUT_DEFAULTS, normalizeTimeoutOptions } from './options.js';
export type { TimeoutOptions, TimeoutStrategy, NormalizedTimeoutOptions } from './options.js';
