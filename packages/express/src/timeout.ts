import { type InboundDeadlineOptions, systemClock } from '@palisade/core';
import { type TimeoutOptions, timeout as timeoutPolicy } from '@palisade/timeout';
import type { RequestHandler } from 'express';
import { inboundDeadlineReader, withDeadline } from './deadline.js';
import { guard } from './guard.js';
import { type ExpressOptions, check, normalizeExpressOptions } from './options.js';

/** Options of {@link timeout}: `@palisade/timeout`'s, plus the adapter's. */
export interface ExpressTimeoutOptions extends TimeoutOptions, ExpressOptions, InboundDeadlineOptions {}

/**
 * Answers 504 (problem+json) when the rest of the chain has not responded within `ms` (or by the
 * inbound deadline, if sooner), and aborts the handler's signal (`req.signal`,
 * `res.locals.palisade.signal`) so its work stops; whatever it writes afterwards is dropped. The
 * rest of the chain runs with the request's deadline as the ambient deadline (`@palisade/core/deadline`), so
 * outbound `createFetch` calls end by then and pass the time left on.
 *
 * @example
 * app.get('/report', timeout({ ms: '2s' }), async (req, res) => {
 *   res.json(await buildReport({ signal: res.locals.palisade.signal }));
 * });
 */
export function timeout(options?: ExpressTimeoutOptions): RequestHandler {
  const { adapter, raw, pattern } = normalizeExpressOptions('timeout', options, ['deadlineHeader']);
  const honourHeader = check.boolean('deadlineHeader', raw.deadlineHeader, true);
  const policy = timeoutPolicy(pattern as TimeoutOptions);
  return guard(policy, {
    adapter,
    answerOnAbort: true,
    clock: options?.clock ?? systemClock,
    inboundDeadline: honourHeader ? inboundDeadlineReader(options?.clock) : undefined,
    withDeadline,
  });
}
