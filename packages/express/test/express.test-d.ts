import type { HttpErrorResponse } from '@palisade/core';
import type { Request, RequestHandler } from 'express';
import { expectTypeOf } from 'vitest';
import {
  type ExpressRateLimitOptions,
  type ExpressRejection,
  type PalisadeRequestInfo,
  circuitBreaker,
  concurrencyLimit,
  rateLimit,
  resilience,
  timeout,
} from '../src/index.js';

expectTypeOf(rateLimit()).toEqualTypeOf<RequestHandler>();
expectTypeOf(concurrencyLimit({ maxConcurrent: 4 })).toEqualTypeOf<RequestHandler>();
expectTypeOf(timeout({ ms: '2s' })).toEqualTypeOf<RequestHandler>();
expectTypeOf(circuitBreaker({ openMs: '30s' })).toEqualTypeOf<RequestHandler>();
expectTypeOf(resilience({ routes: {} })).toEqualTypeOf<RequestHandler>();
expectTypeOf<PalisadeRequestInfo['signal']>().toEqualTypeOf<AbortSignal>();
expectTypeOf<ExpressRejection['response']>().toEqualTypeOf<HttpErrorResponse>();
expectTypeOf<ExpressRateLimitOptions['key']>().toEqualTypeOf<
  'ip' | `header:${string}` | ((req: Request) => string) | undefined
>();

rateLimit({ limit: 100, windowMs: '1m', key: 'header:x-api-key', cost: (req) => (req.path === '/x' ? 2 : 1) });
rateLimit({
  rateLimitHeaders: 'both',
  onRejected: ({ response }) => ({ ...response, body: { ...response.body, x: 1 } }),
});
concurrencyLimit({ algorithm: 'gradient', min: 4, max: 64, maxQueue: 10 });
timeout({ ms: 500, deadlineHeader: false, isFailureResponse: ({ status }) => status >= 502 });
resilience({
  key: (req) => req.get('x-tenant') ?? '',
  routes: { 'GET /users/:id': { rateLimit: { limit: 10, key: 'ip' }, timeout: '2s' } },
  default: { bulkhead: { maxConcurrent: 8 } },
});
// @ts-expect-error not a key rule
rateLimit({ key: 'cookie' });
// @ts-expect-error not a header mode
rateLimit({ rateLimitHeaders: 'draft-7' });
// @ts-expect-error retry cannot protect an inbound route
resilience({ routes: { 'GET /x': { retry: true } } });
