import { isAdaptiveConcurrency, isFailedResponse } from '@palisade/core';
import {
  type BulkheadOptions,
  type ConcurrencyLimitOptions,
  type DropInfo,
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

/** The adaptive limit's default `isDrop` here: an overload error, or a failed response. */
const isDropOrFailedResponse = (info: DropInfo): boolean => isOverloadError(info) || isFailedResponse(info.error);

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
  if (isAdaptiveConcurrency(pattern)) {
    if (pattern.isDrop === undefined) pattern.isDrop = isDropOrFailedResponse;
    return guard(adaptiveLimit(pattern as ConcurrencyLimitOptions), { adapter, answerOnAbort: false });
  }
  if ('algorithm' in pattern) check.fail('algorithm', 'absent when "maxConcurrent" is set', pattern.algorithm);
  return guard(bulkhead(pattern as BulkheadOptions), { adapter, answerOnAbort: false });
}
