import { type CircuitBreakerOptions, circuitBreaker as breakerPolicy } from '@palisade/circuit-breaker';
import type { RequestHandler } from 'express';
import { guard } from './guard.js';
import { type ExpressOptions, normalizeExpressOptions } from './options.js';

/** Options of {@link circuitBreaker}: `@palisade/circuit-breaker`'s, plus the adapter's. */
export interface ExpressCircuitBreakerOptions extends CircuitBreakerOptions, ExpressOptions {}

/**
 * Fails fast while a route keeps failing: responses with status ≥ 500 (see `isFailureResponse`)
 * count as failures, and once the failure rate passes `failureRateThreshold` the route answers
 * 503 problem+json with `Retry-After` until `openMs` has passed and probes succeed again.
 *
 * @example
 * app.get('/checkout', circuitBreaker({ failureRateThreshold: 0.5, minimumCalls: 20, openMs: '30s' }), checkout);
 */
export function circuitBreaker(options?: ExpressCircuitBreakerOptions): RequestHandler {
  const { adapter, pattern } = normalizeExpressOptions('circuitBreaker', options);
  return guard(breakerPolicy(pattern as CircuitBreakerOptions), { adapter, answerOnAbort: false });
}
