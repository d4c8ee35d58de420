// What the fleet shares through Redis, in one place: the service processes and main.ts read it.

/** Inbound: each API key may make 200 requests per hour, across every process of the fleet. */
export const INBOUND = { name: 'api', limit: 200, windowMs: '1h', key: 'header:x-api-key' } as const;

/**
 * Outbound: the pricing API allows the whole fleet 40 calls per second. `burst: 1` spaces them
 * evenly (one every 25 ms), so no second ever sees more than 41.
 */
export const OUTBOUND = { name: 'pricing', limit: 40, windowMs: 1_000, burst: 1, maxWaitMs: '20s' } as const;

/** How long a Redis decision may take before the policy's `onStoreError` decides instead. */
export const STORE_TIMEOUT_MS = 1_000;

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
