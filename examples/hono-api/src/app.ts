// The API: per-route protection at the door (resilience), per-route policies on the way out
// (createFetch), and one error handler that turns palisade's errors into problem+json.
import { type EventListener, toHttpResponse } from '@palisade/core';
import { createFetch, runWithDeadline } from '@palisade/fetch';
import { type PalisadeEnv, resilience } from '@palisade/hono';
import { type Context, Hono } from 'hono';

/** A JSON answer with its own content type (Hono's `c.json` would say `application/json`). */
const jsonResponse = (status: number, headers: Record<string, string>, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers });

/** Builds the API in front of `upstream` (e.g. `http://127.0.0.1:8081`). */
export function createApp(upstream: string, onEvent?: EventListener): Hono<PalisadeEnv> {
  // Outbound: one policy per upstream route. A host without a port matches every port, so these
  // keys cover the upstream wherever it listens. Each (route, host) keeps its own state.
  const upstreamFetch = createFetch({
    routes: {
      // Flaky: retry (the 503's Retry-After is the floor of the next delay).
      'GET 127.0.0.1/users/:id': {
        timeout: '1500ms',
        retry: { maxAttempts: 3, backoff: { type: 'exponential', initialMs: 50, maxMs: 500 } },
      },
      // Slow: a generous 10 s of its own, but the inbound route's 1 s deadline caps it.
      'GET 127.0.0.1/reports/:id': { timeout: '10s' },
      // Down: one retry, then the 500 is returned as fetch would.
      'GET 127.0.0.1/inventory/:sku': { retry: { maxAttempts: 2 }, attemptTimeout: '1s' },
    },
    // Everything else that goes through this fetch.
    policy: { timeout: '5s', retry: true },
    onEvent,
  });

  const app = new Hono<PalisadeEnv>();

  // Inbound: one spec per route, built and validated here, each route with its own state.
  app.use(
    resilience({
      routes: {
        // 5 requests a minute per API key (429 + Retry-After + RateLimit headers past it).
        'GET /users/:id': { rateLimit: { limit: 5, windowMs: '1m', key: 'header:x-api-key' }, timeout: '2s' },
        // 504 after 1 s; outbound calls made meanwhile end by then too.
        'GET /reports/:id': { timeout: '1s' },
        // Two searches at once, no queue: the third is shed with 503 at once.
        'GET /search': { bulkhead: { maxConcurrent: 2, maxQueue: 0 }, timeout: '10s' },
        // After 4 answers of which half are 5xx, fail fast with 503 for 30 s.
        'GET /inventory/:sku': {
          timeout: '3s',
          circuitBreaker: { minimumCalls: 4, failureRateThreshold: 0.5, openMs: '30s', halfOpenMaxCalls: 1 },
        },
      },
      // Any other request.
      default: { timeout: '5s' },
      // Makes each request's deadline the ambient one of @palisade/fetch (Node's AsyncLocalStorage).
      runWithDeadline,
      onEvent,
    }),
  );

  /** Calls the upstream with the request's signal (aborted on timeout or when the client goes away). */
  const call = (c: Context<PalisadeEnv>, path: string) => {
    const query = new URL(c.req.url).search;
    return upstreamFetch(`${upstream}${path}${query}`, { signal: c.get('palisade').signal });
  };

  /** Answers with the upstream's JSON, or 502 when the upstream failed. */
  const relay = async (c: Context<PalisadeEnv>, from: string, upstreamResponse: Response): Promise<Response> => {
    const body = (await upstreamResponse.json()) as object;
    // c.json() keeps what middleware set with c.header() (the RateLimit headers, on every runtime).
    if (upstreamResponse.ok) return c.json(body);
    return jsonResponse(
      502,
      { 'content-type': 'application/problem+json' },
      { type: 'about:blank', title: 'Bad Gateway', status: 502, detail: `${from} answered ${upstreamResponse.status}` },
    );
  };

  app.get('/users/:id', async (c) =>
    relay(c, 'users', await call(c, `/users/${encodeURIComponent(c.req.param('id'))}`)),
  );
  app.get('/reports/:id', async (c) =>
    relay(c, 'reports', await call(c, `/reports/${encodeURIComponent(c.req.param('id'))}`)),
  );
  app.get('/search', async (c) => relay(c, 'search', await call(c, '/search')));
  app.get('/inventory/:sku', async (c) =>
    relay(c, 'inventory', await call(c, `/inventory/${encodeURIComponent(c.req.param('sku'))}`)),
  );

  // Outbound failures: palisade's errors map to their status (an outbound timeout is a 504, an
  // open outbound breaker a 503 with Retry-After); anything else (connection refused) is a 502.
  // After an inbound timeout palisade has already answered: the Response returned here is ignored.
  app.onError((error) => {
    const { status, headers, body } = toHttpResponse(error) ?? {
      status: 502,
      headers: { 'content-type': 'application/problem+json' },
      body: { type: 'about:blank', title: 'Bad Gateway', status: 502, detail: String(error) },
    };
    return jsonResponse(status, headers, body);
  });

  return app;
}
