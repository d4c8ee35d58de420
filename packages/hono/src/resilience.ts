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
import type { Context, MiddlewareHandler, Next } from 'hono';
import { clientKeyReader } from './client-key.js';
import { type RunWithDeadline, inboundDeadlineReader } from './deadline.js';
import { guard } from './guard.js';
import {
  type GetConnInfo,
  type HonoOptions,
  KEY_OPTION_KEYS,
  PKG,
  check,
  normalizeHonoOptions,
  normalizeKeyOptions,
} from './options.js';
import { rateLimitHandler } from './rate-limit.js';
import { requestHeader } from './request-header.js';
import type { PalisadeOptionalEnv } from './request-state.js';

/** Options of {@link resilience}. */
export interface HonoResilienceOptions extends InboundRoutesOptions<Context>, HonoOptions, InboundDeadlineOptions {
  /**
   * Specs by route key: `'GET /users/:id'`, `'POST /orders'`, `'/admin/*'` (any method), matched
   * against `c.req.path`; the most specific key wins. Each route has its own state: one route's
   * limit never touches another's.
   */
  routes?: Record<string, InboundSpec>;
  /** How the routes' rate limits tell clients apart, unless a route's `rateLimit.key` says otherwise. @default 'ip' */
  key?: ClientKey<Context>;
  /** Reads the client's address for `key: 'ip'` (see `rateLimit`'s `getConnInfo`). @default undefined */
  getConnInfo?: GetConnInfo;
  /** Proxies in front of the app whose `X-Forwarded-For` entries are trusted. @default 0 */
  proxyHops?: number;
  /** `runWithDeadline` from `@palisade/core/deadline`, for routes with a timeout (see `timeout`). @default undefined */
  runWithDeadline?: RunWithDeadline;
}

const ROUTE_KEYS = ['routes', 'default', 'clock', 'onEvent', 'deadlineHeader', 'runWithDeadline', ...KEY_OPTION_KEYS];

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
export function resilience(options: HonoResilienceOptions): MiddlewareHandler<PalisadeOptionalEnv> {
  const { adapter, raw, pattern } = normalizeHonoOptions('resilience', options, ROUTE_KEYS);
  check.knownKeys(pattern, []);
  const honourHeader = check.boolean('deadlineHeader', raw.deadlineHeader, true);
  const withDeadline = check.func<RunWithDeadline>('runWithDeadline', raw.runWithDeadline);
  const keyOptions = normalizeKeyOptions(raw, adapter);
  const inboundDeadline = honourHeader ? inboundDeadlineReader(options.clock) : undefined;
  const clock = options.clock ?? systemClock;

  const build = (route: InboundRoute<Context>): MiddlewareHandler<PalisadeOptionalEnv> => {
    const guarded = route.policy
      ? guard(route.policy, {
          adapter,
          clock: route.hasTimeout ? clock : undefined,
          inboundDeadline: route.hasTimeout ? inboundDeadline : undefined,
          withDeadline: route.hasTimeout ? withDeadline : undefined,
        })
      : undefined;
    if (!route.rateLimit) return guarded as MiddlewareHandler<PalisadeOptionalEnv>;
    const { limiter, clientKey } = route.rateLimit;
    const readKey = clientKeyReader({ ...keyOptions, rule: clientKey }, adapter.warn);
    return rateLimitHandler(
      inboundRateLimit({ limiter, readKey, costOf: undefined, http: adapter.http }),
      adapter,
      guarded,
    );
  };

  const table = compileInboundRoutes<Context, MiddlewareHandler<PalisadeOptionalEnv>>(
    check,
    PKG,
    raw as InboundRoutesOptions<Context>,
    { rateLimit, bulkhead, concurrencyLimit, timeout, circuitBreaker, isOverloadError },
    adapter.warn,
    build,
  );

  return function palisadeResilience(c: Context, next: Next): Promise<Response | undefined | void> {
    const handler = table.match(c.req.method, table.usesHost ? requestHeader(c, 'host') : undefined, c.req.path);
    return handler === undefined ? next() : handler(c, next);
  };
}
