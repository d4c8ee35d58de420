import type { Context, Policy } from '@palisade/core';
import Bottleneck from 'bottleneck';
import { expectTypeOf } from 'vitest';
import {
  type BoundRateLimitStore,
  type MemoryStoreBinding,
  type RateLimitDecision,
  type RateLimitOptions,
  type RateLimitPolicy,
  type RateLimitStore,
  type ThrottleOptions,
  type ThrottlePolicy,
  fromBottleneck,
  memoryStore,
  rateLimit,
  throttle,
} from '../src/index.js';

expectTypeOf(rateLimit).parameter(0).toEqualTypeOf<RateLimitOptions | undefined>();
expectTypeOf(rateLimit()).toEqualTypeOf<RateLimitPolicy>();
expectTypeOf<RateLimitPolicy>().toMatchTypeOf<Policy>();
expectTypeOf(rateLimit().execute(() => 1)).toEqualTypeOf<Promise<number>>();
expectTypeOf(rateLimit().consume('ip')).toEqualTypeOf<RateLimitDecision | Promise<RateLimitDecision>>();
expectTypeOf(throttle).parameter(0).toEqualTypeOf<ThrottleOptions | undefined>();
expectTypeOf<ThrottlePolicy>().toMatchTypeOf<Policy>();
expectTypeOf(throttle().execute(async () => 'x')).toEqualTypeOf<Promise<string>>();
expectTypeOf(memoryStore()).toMatchTypeOf<RateLimitStore>();
expectTypeOf<MemoryStoreBinding>().toMatchTypeOf<BoundRateLimitStore>();
expectTypeOf<MemoryStoreBinding['consume']>().returns.toEqualTypeOf<RateLimitDecision>();
expectTypeOf<RateLimitDecision>().toEqualTypeOf<{
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
  readonly retryAfterMs: number;
}>();

rateLimit({ limit: 100, windowMs: '1m', burst: 20, key: (ctx: Context) => ctx.key ?? 'anon', cost: 2 });
rateLimit({ key: 'global', cost: (ctx) => (ctx.attempt > 1 ? 2 : 1), onStoreError: 'fail-closed' });
throttle({ limit: 10, windowMs: '1s', maxQueue: 100, maxWaitMs: '5s', store: memoryStore({ maxKeys: 10 }) });
// @ts-expect-error not a duration
rateLimit({ windowMs: '1 minute' });
// @ts-expect-error not a mode
rateLimit({ onStoreError: 'ignore' });
// @ts-expect-error throttle-only option
rateLimit({ maxQueue: 5 });

// A real bottleneck limiter fits the structural type, local or clustered.
expectTypeOf(fromBottleneck(new Bottleneck({ maxConcurrent: 1 }), { name: 'github' })).toEqualTypeOf<Policy>();
