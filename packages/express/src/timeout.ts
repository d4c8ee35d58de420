import { type TimeoutOptions, timeout as timeoutPolicy } from '@palisade/timeout';
import type { RequestHandler } from 'express';
import { guard } from './guard.js';
import { type ExpressOptions, normalizeExpressOptions } from './options.js';

/** Options of {@link timeout}: `@palisade/timeout`'s, plus the adapter's. */
export interface ExpressTimeoutOptions extends TimeoutOptions, ExpressOptions {}

/**
 * Answers 504 (problem+json) when the rest of the chain has not responded within `ms`, and aborts
 * the handler's signal (`req.signal`, `res.locals.palisade.signal`) so its work stops; whatever
 * it writes afterwards is dropped. The request's deadline is visible to outbound `createFetch`
 * calls made while handling it, and an inbound deadline header only shortens it.
 *
 * @example
 * app.get('/report', timeout({ ms: '2s' }), async (req, res) => {
 *   res.json(await buildReport({ signal: res.locals.palisade.signal }));
 * });
 */
export function timeout(options?: ExpressTimeoutOptions): RequestHandler {
  const { adapter, pattern } = normalizeExpressOptions('timeout', options);
  const policy = timeoutPolicy(pattern as TimeoutOptions);
  return guard(policy, { adapter, answerOnAbort: true });
}
