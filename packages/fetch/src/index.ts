export { createFetch } from './create-fetch.js';
export { FETCH_DEFAULTS, normalizeFetchOptions } from './options.js';
export type { CreateFetchOptions, FetchPolicy, NormalizedFetchOptions } from './options.js';
export { HttpStatusError, isHttpStatusError } from './http-status-error.js';
export { parseRetryAfter } from './retry-after.js';
// Kept here for compatibility: the ambient deadline lives in core, so the adapters need not depend on this one.
export { runWithDeadline, currentDeadline } from '@palisade/core/deadline';
