// What the lab's services do per mode. The palisade configuration is the same in every scenario
// (as it would be in production): only the fleet scenario adds a rate limit shared through Redis.
import { type EventListener, type Policy, type PolicySpec, fallback, fromSpec, pipeline } from '@palisade/core';
import { bulkhead } from '@palisade/bulkhead';
import { circuitBreaker } from '@palisade/circuit-breaker';
import { hedge } from '@palisade/hedge';
import { retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';
import { resilience as expressResilience } from '@palisade/express';
import { createFetch } from '@palisade/fetch';
import { resilience as honoResilience } from '@palisade/hono';
import { createMetrics, dashboard } from '@palisade/metrics';
import type { RequestHandler } from 'express';
import type { MiddlewareHandler } from 'hono';

export interface OutboundResult {
  status: number;
  body: unknown;
}
/** Fetches item `id` from the upstream and says what to answer. */
export type Outbound = (id: string, signal?: AbortSignal) => Promise<OutboundResult>;

/** Baseline: plain fetch, no timeout, no retry, no limit — what most services start with. */
export function baselineOutbound(upstream: string): Outbound {
  return async (id) => {
    try {
      const res = await fetch(`${upstream}/data/${id}`);
      const body = (await res.json()) as unknown;
      return res.ok ? { status: 200, body } : { status: 502, body: { error: `upstream ${res.status}` } };
    } catch (error) {
      return { status: 502, body: { error: String(error) } };
    }
  };
}

/** The outbound policies, per route of the upstream, as plain data. */
export const OUTBOUND_SPEC: PolicySpec = {
  // The upstream's capacity is its business: never send it more than 8 calls at once.
  bulkhead: { maxConcurrent: 8, maxQueue: 32, queueTimeoutMs: 150 },
  timeout: '1500ms',
  retry: { maxAttempts: 3, backoff: { type: 'exponential', initialMs: 10, maxMs: 200, jitter: 'full' } },
  hedge: { delayMs: { percentile: 95, minMs: 15, maxMs: 500 } },
  circuitBreaker: {
    failureRateThreshold: 0.5,
    minimumCalls: 10,
    window: { kind: 'count', size: 20 },
    openMs: 1_000,
    halfOpenMaxCalls: 2,
  },
  attemptTimeout: '600ms',
};

/** The inbound protection of the service's own route. */
export const INBOUND_ROUTES = {
  'GET /api/items/:id': {
    bulkhead: { maxConcurrent: 64, maxQueue: 64, queueTimeoutMs: 250 },
    timeout: '1800ms',
  },
};

export interface PalisadeService {
  outbound: Outbound;
  express: RequestHandler;
  hono: MiddlewareHandler;
  dashboard: ReturnType<typeof dashboard>;
}

/** A shared fleet-wide pace for the upstream's quota, when the fleet scenario runs (Redis). */
async function fleetLimit(onEvent: EventListener): Promise<Policy | undefined> {
  if (process.env.SCENARIO !== 'fleet') return undefined;
  const [{ throttle }, { redisStore }, { Redis }] = await Promise.all([
    import('@palisade/rate-limit'),
    import('@palisade/redis'),
    import('ioredis'),
  ]);
  const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
  });
  return throttle({
    name: 'upstream-quota',
    onEvent,
    limit: 36,
    windowMs: 1_000,
    burst: 4,
    maxWaitMs: 400,
    // One key for the whole fleet of this run: every process paces against the same quota.
    store: redisStore({ client, prefix: `palisade-lab:${process.env.LAB_RUN ?? 'run'}:` }),
  });
}

export async function palisadeService(upstream: string): Promise<PalisadeService> {
  const metrics = createMetrics();
  const host = new URL(upstream).host;
  const quota = await fleetLimit(metrics.onEvent);
  // With a fleet quota, the shared pace goes innermost: it counts every call that reaches the
  // upstream, retries and hedges included.
  const route: Policy | PolicySpec = quota
    ? pipeline(
        fromSpec(OUTBOUND_SPEC, {
          factories: { bulkhead, timeout, retry, hedge, circuitBreaker },
          onEvent: metrics.onEvent,
        }),
        quota,
      )
    : OUTBOUND_SPEC;
  const fetchWithPolicies = createFetch({
    routes: { [`GET ${host}/data/:id`]: route },
    onEvent: metrics.onEvent,
  });
  // Serve the last good answer, marked stale, when the upstream cannot answer (open circuit,
  // exhausted retries, timeouts).
  const cache = new Map<string, unknown>();
  const stale = fallback({
    onEvent: metrics.onEvent,
    handler: ({ context }) => {
      const last = cache.get(context.key ?? '');
      if (last === undefined) throw new Error('no stale copy');
      return { status: 200, body: { ...(last as object), stale: true } };
    },
  });

  const outbound: Outbound = async (id, signal) => {
    try {
      return await stale.execute(
        async (ctx) => {
          const res = await fetchWithPolicies(`${upstream}/data/${id}`, { signal: ctx.signal });
          const body = (await res.json()) as unknown;
          if (!res.ok) throw new Error(`upstream ${res.status}`);
          if (cache.size < 10_000) cache.set(id, body);
          return { status: 200, body };
        },
        { key: id, signal },
      );
    } catch (error) {
      return { status: 503, body: { error: error instanceof Error ? error.message : String(error) } };
    }
  };

  const inbound = { routes: INBOUND_ROUTES, onEvent: metrics.onEvent };
  return {
    outbound,
    express: expressResilience(inbound),
    hono: honoResilience(inbound),
    dashboard: dashboard({ metrics, title: `palisade lab — ${process.env.SCENARIO ?? ''} (${process.env.FRAMEWORK})` }),
  };
}
