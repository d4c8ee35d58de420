import type { Policy } from '@palisade/core';
import { expectTypeOf } from 'vitest';
import {
  type BulkheadOptions,
  type BulkheadPolicy,
  type ConcurrencyLimitOptions,
  type ConcurrencyLimitPolicy,
  type LimitAlgorithmName,
  bulkhead,
  concurrencyLimit,
} from '../src/index.js';

expectTypeOf(bulkhead).parameter(0).toEqualTypeOf<BulkheadOptions | undefined>();
expectTypeOf(bulkhead()).toEqualTypeOf<BulkheadPolicy>();
expectTypeOf<BulkheadPolicy>().toMatchTypeOf<Policy>();
expectTypeOf(bulkhead().execute(() => 1)).toEqualTypeOf<Promise<number>>();
expectTypeOf(bulkhead().execute(async (ctx) => ctx.signal)).toEqualTypeOf<Promise<AbortSignal>>();
expectTypeOf(bulkhead().executing).toEqualTypeOf<number>();
expectTypeOf(bulkhead().queued).toEqualTypeOf<number>();
expectTypeOf(bulkhead().available).toEqualTypeOf<number>();

expectTypeOf(concurrencyLimit).parameter(0).toEqualTypeOf<ConcurrencyLimitOptions | undefined>();
expectTypeOf(concurrencyLimit()).toEqualTypeOf<ConcurrencyLimitPolicy>();
expectTypeOf<ConcurrencyLimitPolicy>().toMatchTypeOf<Policy>();
expectTypeOf(concurrencyLimit().limit).toEqualTypeOf<number>();
expectTypeOf(concurrencyLimit().algorithm).toEqualTypeOf<LimitAlgorithmName>();
expectTypeOf(concurrencyLimit().execute(() => 'x')).toEqualTypeOf<Promise<string>>();

bulkhead({ maxConcurrent: 10, maxQueue: 50, queueTimeoutMs: '500ms' });
concurrencyLimit({ algorithm: 'vegas', initial: 10, min: 2, max: 100, isDrop: ({ error }) => error === 503 });
// @ts-expect-error not a duration
bulkhead({ queueTimeoutMs: '1 second' });
// @ts-expect-error not an algorithm
concurrencyLimit({ algorithm: 'bbr' });
// @ts-expect-error concurrencyLimit has no fixed maxConcurrent
concurrencyLimit({ maxConcurrent: 5 });
// @ts-expect-error read-only
bulkhead().executing = 1;
