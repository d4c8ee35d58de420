import { type InboundDeadlineOptions, systemClock } from '@palisade/core';
import { type TimeoutOptions, timeout as timeoutPolicy } from '@palisade/timeout';
import type { MiddlewareHandler } from 'hono';
import { type RunWithDeadline, inboundDeadlineReader } from './deadline.js';
import { guard } from './guard.js';
import { type HonoOptions, check, normalizeHonoOptions } from './options.js';
import type { PalisadeEnv } from './request-state.js';

/** Options of {@link timeout}: `@palisade/timeout`'s, plus the adapter's. */
export interface HonoTimeoutOptions extends TimeoutOptions, HonoOptions, InboundDeadlineOptions {
  /**
   * Makes the request's deadline the ambient one of outbound `createFetch` calls: pass
   * `runWithDeadline` from `@palisade/core/deadline` (it needs `AsyncLocalStorage`: Node, Bun, Deno,
   * Workers with `nodejs_als`). Without it the deadline is still in `c.get('palisade').deadline`.
   * @default undefined
   * @example import { runWithDeadline } from '@palisade/core/deadline'; timeout({ ms: '2s', runWithDeadline })
   */
  runWithDeadline?: RunWithDeadline;
}

/**
 * Answers 504 (problem+json) when the rest of the chain has not returned within `ms` (or by the
 * inbound deadline, if sooner), and aborts the handler's signal (`c.get('palisade').signal`) so its
 * work stops; the Response it returns afterwards is ignored.
 *
 * @example
 * app.get('/report', timeout({ ms: '2s', runWithDeadline }), async (c) => {
 *   return c.json(await buildReport({ signal: c.get('palisade').signal }));
 * });
 */
export function timeout(options?: HonoTimeoutOptions): MiddlewareHandler<PalisadeEnv> {
  const { adapter, raw, pattern } = normalizeHonoOptions('timeout', options, ['deadlineHeader', 'runWithDeadline']);
  const honourHeader = check.boolean('deadlineHeader', raw.deadlineHeader, true);
  const withDeadline = check.func<RunWithDeadline>('runWithDeadline', raw.runWithDeadline);
  const policy = timeoutPolicy(pattern as TimeoutOptions);
  return guard(policy, {
    adapter,
    clock: options?.clock ?? systemClock,
    inboundDeadline: honourHeader ? inboundDeadlineReader(options?.clock) : undefined,
    withDeadline,
  });
}
