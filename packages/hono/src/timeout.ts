import { type TimeoutOptions, timeout as timeoutPolicy } from '@palisade/timeout';
import type { MiddlewareHandler } from 'hono';
import { guard } from './guard.js';
import { type HonoOptions, normalizeHonoOptions } from './options.js';
import type { PalisadeEnv } from './request-state.js';

/** Options of {@link timeout}: `@palisade/timeout`'s, plus the adapter's. */
export interface HonoTimeoutOptions extends TimeoutOptions, HonoOptions {}

/**
 * Answers 504 (problem+json) when the rest of the chain has not returned within `ms`, and aborts
 * the handler's signal (`c.get('palisade').signal`) so its work stops; the Response it returns
 * afterwards is ignored. The request's deadline is visible to outbound `createFetch` calls made
 * while handling it, and an inbound deadline header only shortens it.
 *
 * @example
 * app.get('/report', timeout({ ms: '2s' }), async (c) => {
 *   return c.json(await buildReport({ signal: c.get('palisade').signal }));
 * });
 */
export function timeout(options?: HonoTimeoutOptions): MiddlewareHandler<PalisadeEnv> {
  const { adapter, pattern } = normalizeHonoOptions('timeout', options);
  const policy = timeoutPolicy(pattern as TimeoutOptions);
  return guard(policy, { adapter });
}
