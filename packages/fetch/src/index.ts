export { createFetch } from './create-fetch.js';
export { FETCH_DEFAULTS, normalizeFetchOptions } from './options.js';
export type { CreateFetchOptions, FetchPolicy, NormalizedFetchOptions } from './options.js';
export { HttpStatusError, isHttpStatusError } from './http-status-error.js';
export { parseRetryAfter } from './retry-after.js';
export { runWithDeadline, currentDeadline } from './deadline-context.js';
