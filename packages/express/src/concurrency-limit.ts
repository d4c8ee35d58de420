import { inboundConcurrencyLimit } from '@palisade/core';
import {
  type BulkheadOptions,
  type ConcurrencyLimitOptions,
  bulkhead,
  concurrencyLimit as adaptiveLimit,
  isOverloadError,
} from '@palisade/bulkhead';
import type { RequestHandler } from 'express';
import { guard } from './guard.js';
import { type ExpressOptions, check, normalizeExpressOptions } from './options.js';

/**
 * Options of {@link concurrencyLimit}: a fixed limit (`maxConcurrent`, `@palisade/bulkhead`'s
 * `bulkhead()`) or an adaptive one (`algorithm`, `initial`, `min`, `max`, …, its
 * `concurrencyLimit()`), plus `maxQueue` / `queueTimeoutMs` and the adapter's options.
 */
export type ExpressConcurrencyLimitOptions = (BulkheadOptions | ConcurrencyLimitOptions) & ExpressOptions;

/**
 * Sheds load before it queues: at most `maxConcurrent` requests run at once (or an adaptive limit
 * that follows the latency), `maxQueue` more may wait up to `queueTimeoutMs`, and the rest get 503
 * problem+json at once. A slot is held until the response is over or the client goes away. For
 * the adaptive limit a response with status ≥ 500 (see `isFailureResponse`) counts as a drop.
 *
 * @example
 * app.use(concurrencyLimit({ maxConcurrent: 64, maxQueue: 128, queueTimeoutMs: '500ms' }));
 * app.use(concurrencyLimit({ algorithm: 'gradient', min: 8, max: 256 }));
 */
export function concurrencyLimit(options?: ExpressConcurrencyLimitOptions): RequestHandler {
  const { adapter, pattern } = normalizeExpressOptions('concurrencyLimit', options);
  const policy = inboundConcurrencyLimit(check, pattern, {
    bulkhead,
    concurrencyLimit: adaptiveLimit,
    isOverloadError,
  });
  return guard(policy, { adapter, answerOnAbort: false });
}
