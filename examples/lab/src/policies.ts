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
  /** A stale copy served by the fallback (sent as the `x-stale: 1` response header). */
  stale?: boolean;
}

/** What the service's routes call: one method per upstream route. */
export interface Outbound {
  /** GET /data/:id on the upstream, for `GET /api/items/:id`. */
  item(id: string, signal?: AbortSignal): Promise<OutboundResult>;
  /** POST /orders on the upstream (not idempotent), for `POST /api/orders`. */
  order(order: unknown, signal?: AbortSignal): Promise<OutboundResult>;
}

const postJson = (body: unknown, signal?: AbortSignal): RequestInit => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
  signal,
});

/** Baseline: plain fetch, no timeout, no retry, no limit — what most services start with. */
export function baselineOutbound(upstream: string): Outbound {
  const call = async (url: string, init: RequestInit, okStatus: number): Promise<OutboundResult> => {
    try {
      const res = await fetch(url, init);
      const body = (await res.json()) as unknown;
      return res.ok ? { status: okStatus, body } : { status: 502, body: { error: `upstream ${res.status}` } };
    } catch (error) {
      return { status: 502, body: { error: String(error) } };
    }
  };
  return {
    item: (id) => call(`${upstream}/data/${id}`, {}, 200),
    order: (order) => call(`${upstream}/orders`, postJson(order), 201),
  };
}

/**
 * The outbound policies per route of the upstream, as plain data (`createFetch` route keys; no host,
 * so they apply to whichever host the upstream runs on). The upstream serves 12 calls at once
 * before it slows down, and 2 service instances share it: each sends at most 4 reads and 2 orders
 * at once.
 */
export const OUTBOUND_ROUTES = {
  // Reads are idempotent: retried with backoff (within the retry budget's default 20%), hedged at
  // the observed p95, and served stale by the service's fallback when all that fails.
  'GET /data/:id': {
    bulkhead: { maxConcurrent: 4, maxQueue: 32, queueTimeoutMs: 150 },
    timeout: '1500ms',
    retry: { maxAttempts: 3, backoff: { type: 'exponential', initialMs: 10, maxMs: 200, jitter: 'full' } },
    hedge: { delayMs: { percentile: 95, minMs: 15, maxMs: 500 } },
    circuitBreaker: {
      failureRateThreshold: 0.5,
      minimumCalls: 10,
      window: { kind: 'count', size: 20 },
      openMs: 1_000,
      halfOpenMaxCalls: 1,
    },
    attemptTimeout: '600ms',
  },
  // Orders are not idempotent: never retried or hedged (a second attempt could order twice), and
  // there is no stale order to serve. The timeout is generous (longer than the upstream's slowest
  // healthy answer), since an order cut short may have been placed all the same. Orders are a fifth
  // of the traffic, so the breaker sees few calls: it trips only when 7 of the last 10 failed, which
  // a flaky upstream (20% errors) almost never does by chance and an outage does within 10 orders.
  'POST /orders': {
    bulkhead: { maxConcurrent: 2, maxQueue: 8, queueTimeoutMs: 150 },
    timeout: '2s',
    circuitBreaker: {
      failureRateThreshold: 0.7,
      minimumCalls: 5,
      window: { kind: 'count', size: 10 },
      openMs: 1_000,
      halfOpenMaxCalls: 1,
    },
  },
} satisfies Record<string, PolicySpec>;

/** The inbound protection of the service's own routes. */
export const INBOUND_ROUTES = {
  'GET /api/items/:id': {
    bulkhead: { maxConcurrent: 64, maxQueue: 64, queueTimeoutMs: 250 },
    timeout: '1800ms',
  },
  'POST /api/orders': {
    bulkhead: { maxConcurrent: 16, maxQueue: 16, queueTimeoutMs: 250 },
    timeout: '2500ms',
  },
} satisfies Record<string, PolicySpec>;

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
  const quota = await fleetLimit(metrics.onEvent);
  // With a fleet quota, the shared pace goes innermost on every route: it counts every call that
  // reaches the upstream, retries and hedges included.
  const routes: Record<string, Policy | PolicySpec> = quota
    ? Object.fromEntries(
        Object.entries(OUTBOUND_ROUTES).map(([key, spec]) => [
          key,
          pipeline(
            fromSpec(spec, {
              factories: { bulkhead, timeout, retry, hedge, circuitBreaker },
              path: `route "${key}"`,
              onEvent: metrics.onEvent,
            }),
            quota,
          ),
        ]),
      )
    : OUTBOUND_ROUTES;
  const fetchWithPolicies = createFetch({ routes, onEvent: metrics.onEvent });
  // Serve the last good answer, marked stale, when the upstream cannot answer (open circuit,
  // exhausted retries, timeouts, a full bulkhead).
  const cache = new Map<string, unknown>();
  const stale = fallback({
    onEvent: metrics.onEvent,
    handler: ({ context }): OutboundResult => {
      const last = cache.get(context.key ?? '');
      if (last === undefined) throw new Error('no stale copy');
      return { status: 200, body: { ...(last as object), stale: true }, stale: true };
    },
  });
  const unavailable = (error: unknown): OutboundResult => ({
    status: 503,
    body: { error: error instanceof Error ? error.message : String(error) },
  });

  const outbound: Outbound = {
    async item(id, signal) {
      try {
        return await stale.execute(
          async (ctx): Promise<OutboundResult> => {
            const res = await fetchWithPolicies(`${upstream}/data/${id}`, { signal: ctx.signal });
            const body = (await res.json()) as unknown;
            if (!res.ok) throw new Error(`upstream ${res.status}`);
            if (cache.size < 10_000) cache.set(id, body);
            return { status: 200, body };
          },
          { key: id, signal },
        );
      } catch (error) {
        return unavailable(error);
      }
    },
    async order(order, signal) {
      try {
        const res = await fetchWithPolicies(`${upstream}/orders`, postJson(order, signal));
        const body = (await res.json()) as unknown;
        return res.ok ? { status: 201, body } : { status: 502, body: { error: `upstream ${res.status}` } };
      } catch (error) {
        // An open circuit, a full bulkhead or a timeout: refused at once, nothing ordered twice.
        return unavailable(error);
      }
    },
  };

  const inbound = { routes: INBOUND_ROUTES, onEvent: metrics.onEvent };
  return {
    outbound,
    express: expressResilience(inbound),
    hono: honoResilience(inbound),
    dashboard: dashboard({ metrics, title: `palisade lab — ${process.env.SCENARIO ?? ''} (${process.env.FRAMEWORK})` }),
  };
}
