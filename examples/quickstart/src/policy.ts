// The README's quick start policy.
import { pipeline } from '@palisade/core';
import { circuitBreaker } from '@palisade/circuit-breaker';
import { exponential, retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';

export const policy = pipeline(
  timeout({ ms: '5s' }), // the whole call, retries included
  retry({ maxAttempts: 3, backoff: exponential({ initialMs: 100, maxMs: 2_000, jitter: 'full' }) }),
  circuitBreaker({ failureRateThreshold: 0.5, minimumCalls: 20, openMs: '10s' }),
  timeout({ ms: '1s' }), // each attempt
);

export async function getUser(base: string, id: number): Promise<unknown> {
  return policy.execute(async ({ signal }) => {
    const res = await fetch(`${base}/users/${id}`, { signal });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.json();
  });
}
