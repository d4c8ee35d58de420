import type { HttpErrorResponse } from '@palisade/core';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { expectTypeOf } from 'vitest';
import {
  type HonoRateLimitOptions,
  type HonoRejection,
  type PalisadeEnv,
  type PalisadeRequestInfo,
  circuitBreaker,
  concurrencyLimit,
  rateLimit,
  resilience,
  timeout,
} from '../src/index.js';

expectTypeOf(rateLimit()).toEqualTypeOf<MiddlewareHandler<PalisadeEnv>>();
expectTypeOf(concurrencyLimit({ maxConcurrent: 4 })).toEqualTypeOf<MiddlewareHandler<PalisadeEnv>>();
expectTypeOf(timeout({ ms: '2s' })).toEqualTypeOf<MiddlewareHandler<PalisadeEnv>>();
expectTypeOf(circuitBreaker({ openMs: '30s' })).toEqualTypeOf<MiddlewareHandler<PalisadeEnv>>();
expectTypeOf(resilience({ routes: {} })).toEqualTypeOf<MiddlewareHandler<PalisadeEnv>>();
expectTypeOf<HonoRejection['response']>().toEqualTypeOf<HttpErrorResponse>();
expectTypeOf<HonoRateLimitOptions['key']>().toEqualTypeOf<
  'ip' | `header:${string}` | ((c: Context) => string) | undefined
>();

const app = new Hono<PalisadeEnv>();
app.get('/x', timeout({ ms: 100 }), (c) => {
  expectTypeOf(c.get('palisade')).toEqualTypeOf<PalisadeRequestInfo>();
  return c.text('ok');
});
rateLimit({ limit: 100, windowMs: '1m', proxyHops: 1, getConnInfo: () => ({ remote: { address: '::1' } }) });
rateLimit({ onRejected: ({ c, response }) => c.json(response.body, 429) });
// @ts-expect-error not a key rule
rateLimit({ key: 'cookie' });
// @ts-expect-error hedge cannot protect an inbound route
resilience({ routes: { 'GET /x': { hedge: true } } });
