export { timeout } from './timeout.js';
export type { HonoTimeoutOptions } from './timeout.js';
export { HONO_DEFAULTS } from './options.js';
export type { HonoOptions, HonoKeyOptions, HonoRejection, HonoRejectionHandler, GetConnInfo } from './options.js';
export type { PalisadeRequestInfo, PalisadeEnv } from './request-state.js';
