// The API: per-route protection at the door (resilience), per-route policies on the way out
// (createFetch), and one error handler that turns palisade's errors into problem+json.
import { type EventListener, toHttpResponse } from '@palisade/core';
import { type PalisadeRequestInfo, resilience } from '@palisade/express';
import { createFetch } from '@palisade/fetch';
import express, {
  type ErrorRequestHandler,
  type Request as ExpressRequest,
  type Response as ExpressResponse,
} from 'express';

/** Builds the API in front of `upstream` (e.g. `http://127.0.0.1:8081`). */
export function createApp(upstream: string, onEvent?: EventListener): express.Express {
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

  const app = express();

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
      onEvent,
    }),
  );

  // What palisade's middleware gives the handler: a signal that aborts on timeout or when the
  // client goes away, and the request's deadline.
  const signalOf = (res: ExpressResponse): AbortSignal => (res.locals.palisade as PalisadeRequestInfo).signal;

  /** The query string as received (`?q=x&delayMs=100`), passed on to the upstream. */
  const searchOf = (req: ExpressRequest): string => new URL(req.originalUrl, 'http://api').search;

  /** Answers with the upstream's JSON, or 502 when the upstream failed. */
  const relay = async (res: ExpressResponse, from: string, upstreamResponse: globalThis.Response) => {
    const body: unknown = await upstreamResponse.json();
    if (upstreamResponse.ok) {
      res.json(body);
      return;
    }
    res
      .status(502)
      .type('application/problem+json')
      .json({
        type: 'about:blank',
        title: 'Bad Gateway',
        status: 502,
        detail: `${from} answered ${upstreamResponse.status}`,
      });
  };

  app.get('/users/:id', async (req, res) => {
    const id = encodeURIComponent(req.params.id);
    await relay(res, 'users', await upstreamFetch(`${upstream}/users/${id}`, { signal: signalOf(res) }));
  });

  app.get('/reports/:id', async (req, res) => {
    const url = `${upstream}/reports/${encodeURIComponent(req.params.id)}${searchOf(req)}`;
    await relay(res, 'reports', await upstreamFetch(url, { signal: signalOf(res) }));
  });

  app.get('/search', async (req, res) => {
    await relay(res, 'search', await upstreamFetch(`${upstream}/search${searchOf(req)}`, { signal: signalOf(res) }));
  });

  app.get('/inventory/:sku', async (req, res) => {
    const sku = encodeURIComponent(req.params.sku);
    await relay(res, 'inventory', await upstreamFetch(`${upstream}/inventory/${sku}`, { signal: signalOf(res) }));
  });

  // Outbound failures: palisade's errors map to their status (an outbound timeout is a 504, an
  // open outbound breaker a 503 with Retry-After); anything else (connection refused) is a 502.
  // After an inbound timeout palisade has already answered: whatever is written here is dropped.
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    const mapped = toHttpResponse(error);
    const { status, headers, body } = mapped ?? {
      status: 502,
      headers: { 'content-type': 'application/problem+json' },
      body: { type: 'about:blank', title: 'Bad Gateway', status: 502, detail: String(error) },
    };
    res.status(status).set(headers).end(JSON.stringify(body));
  };
  app.use(onError);

  return app;
}
