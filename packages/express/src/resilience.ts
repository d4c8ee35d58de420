import {
  type ClientKey,
  type InboundDeadlineOptions,
  type InboundRoute,
  type InboundRoutesOptions,
  type InboundSpec,
  compileInboundRoutes,
  inboundRateLimit,
  systemClock,
} from '@palisade/core';
import { bulkhead, concurrencyLimit, isOverloadError } from '@palisade/bulkhead';
import { circuitBreaker } from '@palisade/circuit-breaker';
import { rateLimit } from '@palisade/rate-limit';
import { timeout } from '@palisade/timeout';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { clientKeyReader } from './client-key.js';
import { inboundDeadlineReader, withDeadline } from './deadline.js';
import { guard } from './guard.js';
import { type ExpressOptions, PKG, check, normalizeExpressOptions } from './options.js';
import { rateLimitHandler } from './rate-limit.js';

/** Options of {@link resilience}. */
export interface ExpressResilienceOptions
  extends InboundRoutesOptions<Request>,
    ExpressOptions,
    InboundDeadlineOptions {
  /**
   * Specs by route key: `'GET /users/:id'`, `'POST /orders'`, `'/admin/*'` (any method), matched
   * against `req.path` (relative to where the middleware is mounted); the most specific key wins.
   * Each route has its own state: one route's limit never touches another's.
   */
  routes?: Record<string, InboundSpec>;
  /** How the routes' rate limits tell clients apart, unless a route's `rateLimit.key` says otherwise. @default 'ip' */
  key?: ClientKey<Request>;
}

const ROUTE_KEYS = ['routes', 'default', 'key', 'clock', 'onEvent', 'deadlineHeader'];

/**
 * Applies a declarative spec per route, built and validated once at start-up (a bad spec throws a
 * `TypeError` naming the route and the field): `rateLimit` first (429 + `RateLimit` headers), then
 * `bulkhead` (503 when full; adaptive with `algorithm`), `timeout` (504), `circuitBreaker` (503
 * while open). Requests that match no route get `default`, or pass through untouched.
 *
 * @example
 * app.use(resilience({
 *   routes: {
 *     'GET /users/:id': { rateLimit: { limit: 100, windowMs: '1m' }, timeout: '2s' },
 *     'POST /orders': { bulkhead: { maxConcurrent: 16 }, circuitBreaker: { minimumCalls: 20 } },
 *     '/admin/*': { rateLimit: { limit: 10, windowMs: '1m', key: 'header:x-api-key' } },
 *   },
 *   default: { timeout: '10s' },
 * }));
 */
export function resilience(options: ExpressResilienceOptions): RequestHandler {
  const { adapter, raw, pattern } = normalizeExpressOptions('resilience', options, ROUTE_KEYS);
  check.knownKeys(pattern, []);
  const honourHeader = check.boolean('deadlineHeader', raw.deadlineHeader, true);
  const inboundDeadline = honourHeader ? inboundDeadlineReader(options.clock) : undefined;
  const clock = options.clock ?? systemClock;

  const build = (route: InboundRoute<Request>): RequestHandler => {
    const guarded = route.policy
      ? guard(route.policy, {
          adapter,
          answerOnAbort: route.hasTimeout,
          clock: route.hasTimeout ? clock : undefined,
          inboundDeadline: route.hasTimeout ? inboundDeadline : undefined,
          withDeadline: route.hasTimeout ? withDeadline : undefined,
        })
      : undefined;
    if (!route.rateLimit) return guarded as RequestHandler;
    const { limiter, clientKey } = route.rateLimit;
    const readKey = clientKeyReader(clientKey, adapter.warn);
    return rateLimitHandler(
      inboundRateLimit({ limiter, readKey, costOf: undefined, http: adapter.http }),
      adapter,
      guarded,
    );
  };

  const table = compileInboundRoutes<Request, RequestHandler>(
    check,
    PKG,
    raw as InboundRoutesOptions<Request>,
    { rateLimit, bulkhead, concurrencyLimit, timeout, circuitBreaker, isOverloadError },
    adapter.warn,
    build,
  );

  return function palisadeResilience(req: Request, res: Response, next: NextFunction): void {
    const handler = table.match(req.method, req.headers.host, req.path);
    if (handler === undefined) next();
    else handler(req, res, next);
  };
}
