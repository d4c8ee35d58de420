export { timeout } from './timeout.js';
export type { ExpressTimeoutOptions } from './timeout.js';
export { EXPRESS_DEFAULTS } from './options.js';
export type { ExpressOptions, ExpressKeyOptions, ExpressRejection, ExpressRejectionHandler } from './options.js';
export type { PalisadeRequestInfo } from './request-state.js';
