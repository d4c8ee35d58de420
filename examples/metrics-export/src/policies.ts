// The service's outbound calls: one createFetch, a named pipeline per upstream route, every policy
// reporting to the same metrics sink. The names become the `name` label of every metric.
import { type EventListener, pipeline } from '@palisade/core';
import { circuitBreaker } from '@palisade/circuit-breaker';
import { createFetch } from '@palisade/fetch';
import { exponential, retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';

/** A `fetch` that retries, breaks and times out per route of the upstream. */
export function upstreamFetch(onEvent: EventListener): typeof fetch {
  // Quotes are flaky: retry the failed attempts, time each attempt out, give up after 5 s.
  const quotes = pipeline(
    timeout({ name: 'quotes.timeout', ms: '5s', onEvent }),
    retry({
      name: 'quotes.retry',
      maxAttempts: 3,
      backoff: exponential({ initialMs: 20, maxMs: 200, jitter: 'full' }),
      onEvent,
    }),
    circuitBreaker({ name: 'quotes.breaker', minimumCalls: 20, onEvent }),
    timeout({ name: 'quotes.attempt-timeout', ms: '500ms', onEvent }),
  );
  // Inventory is down: after 5 failed attempts the breaker opens and calls fail fast for 10 s,
  // then 2 trial calls decide whether it closes or opens again.
  const inventory = pipeline(
    timeout({ name: 'inventory.timeout', ms: '5s', onEvent }),
    retry({ name: 'inventory.retry', maxAttempts: 2, backoff: exponential({ initialMs: 20, maxMs: 200 }), onEvent }),
    circuitBreaker({
      name: 'inventory.breaker',
      minimumCalls: 5,
      window: { kind: 'count', size: 10 },
      openMs: '10s',
      halfOpenMaxCalls: 2,
      onEvent,
    }),
    timeout({ name: 'inventory.attempt-timeout', ms: '500ms', onEvent }),
  );
  return createFetch({
    routes: { 'GET /quotes/:id': quotes, 'GET /inventory/:id': inventory },
    onEvent,
  });
}
