import { type CircuitBreakerOptions, circuitBreaker as breakerPolicy } from '@palisade/circuit-breaker';
import type { MiddlewareHandler } from 'hono';
import { guard } from './guard.js';
import { type HonoOptions, normalizeHonoOptions } from './options.js';
import type { PalisadeEnv } from './request-state.js';

/** Options of {@link circuitBreaker}: `@palisade/circuit-breaker`'s, plus the adapter's. */
export interface HonoCircuitBreakerOptions extends CircuitBreakerOptions, HonoOptions {}

/**
 * Fails fast while a route keeps failing: responses with status ≥ 500 (see `isFailureResponse`)
 * count as failures, and once the failure rate passes `failureRateThreshold` the route answers
 * 503 problem+json with `Retry-After` until `openMs` has passed and probes succeed again.
 *
 * @example
 * app.post('/checkout', circuitBreaker({ failureRateThreshold: 0.5, minimumCalls: 20, openMs: '30s' }), checkout);
 */
export function circuitBreaker(options?: HonoCircuitBreakerOptions): MiddlewareHandler<PalisadeEnv> {
  const { adapter, pattern } = normalizeHonoOptions('circuitBreaker', options);
  return guard(breakerPolicy(pattern as CircuitBreakerOptions), { adapter });
}
