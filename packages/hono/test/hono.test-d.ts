import type { HttpErrorResponse } from '@palisade/core';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { expectTypeOf } from 'vitest';
import {
  type HonoRateLimitOptions,
  type HonoRejection,
  type PalisadeEnv,
  type PalisadeOptionalEnv,
  type PalisadeRequestInfo,
  circuitBreaker,
  concurrencyLimit,
  rateLimit,
  resilience,
  timeout,
} from '../src/index.js';

expectTypeOf(rateLimit()).toEqualTypeOf<MiddlewareHandler<PalisadeOptionalEnv>>();
expectTypeOf(concurrencyLimit({ maxConcurrent: 4 })).toEqualTypeOf<MiddlewareHandler<PalisadeEnv>>();
expectTypeOf(timeout({ ms: '2s' })).toEqualTypeOf<MiddlewareHandler<PalisadeEnv>>();
expectTypeOf(circuitBreaker({ openMs: '30s' })).toEqualTypeOf<MiddlewareHandler<PalisadeEnv>>();
expectTypeOf(resilience({ routes: {} })).toEqualTypeOf<MiddlewareHandler<PalisadeOptionalEnv>>();
expectTypeOf<HonoRejection['response']>().toEqualTypeOf<HttpErrorResponse>();
expectTypeOf<HonoRateLimitOptions['key']>().toEqualTypeOf<
  'ip' | `header:${string}` | ((c: Context) => string) | undefined
>();

const app = new Hono<PalisadeEnv>();
app.get('/x', timeout({ ms: 100 }), (c) => {
  expectTypeOf(c.get('palisade')).toEqualTypeOf<PalisadeRequestInfo>();
  return c.text('ok');
});

// c.get('palisade') is typed present only where a palisade middleware always sets it: behind
// timeout, concurrencyLimit and circuitBreaker, whatever the app declares.
const plain = new Hono();
for (const guarded of [timeout(), concurrencyLimit({ maxConcurrent: 1 }), circuitBreaker()]) {
  plain.get('/guarded', guarded, (c) => {
    expectTypeOf(c.get('palisade')).toEqualTypeOf<PalisadeRequestInfo>();
    return c.text('ok');
  });
}
// rateLimit never sets it, resilience only on routes with a timeout, bulkhead or breaker.
plain.get('/limited', rateLimit(), (c) => {
  expectTypeOf(c.get('palisade')).toEqualTypeOf<PalisadeRequestInfo | undefined>();
  return c.text('ok');
});
new Hono().use(resilience({ routes: { 'GET /limited': { rateLimit: { limit: 1 } } } })).get('/limited', (c) => {
  expectTypeOf(c.get('palisade')).toEqualTypeOf<PalisadeRequestInfo | undefined>();
  return c.text('ok');
});
// An app where some handlers run without palisade declares the optional Env; a guard still
// makes it present in the handlers behind it.
const mixed = new Hono<PalisadeOptionalEnv>();
mixed.get('/health', (c) => {
  expectTypeOf(c.get('palisade')).toEqualTypeOf<PalisadeRequestInfo | undefined>();
  return c.text('ok');
});
mixed.get('/report', rateLimit(), timeout({ ms: '2s' }), (c) => {
  expectTypeOf(c.get('palisade')).toEqualTypeOf<PalisadeRequestInfo>();
  return c.text(String(c.get('palisade').signal.aborted));
});
rateLimit({ limit: 100, windowMs: '1m', proxyHops: 1, getConnInfo: () => ({ remote: { address: '::1' } }) });
rateLimit({ onRejected: ({ c, response }) => c.json(response.body, 429) });
// @ts-expect-error not a key rule
rateLimit({ key: 'cookie' });
// @ts-expect-error hedge cannot protect an inbound route
resilience({ routes: { 'GET /x': { hedge: true } } });
