import type { Policy } from '@palisade/core';
import { expectTypeOf } from 'vitest';
import { type TimeoutOptions, type TimeoutPolicy, timeout } from '../src/index.js';

expectTypeOf(timeout).parameter(0).toEqualTypeOf<TimeoutOptions | undefined>();
expectTypeOf(timeout()).toEqualTypeOf<TimeoutPolicy>();
expectTypeOf<TimeoutPolicy>().toMatchTypeOf<Policy>();
expectTypeOf(timeout().execute(() => 1)).toEqualTypeOf<Promise<number>>();
expectTypeOf(timeout().execute(async (ctx) => ctx.signal)).toEqualTypeOf<Promise<AbortSignal>>();
timeout({ ms: '2s' });
timeout({ ms: 250, strategy: 'aggressive' });
// @ts-expect-error not a duration
timeout({ ms: '2 seconds' });
// @ts-expect-error not a strategy
timeout({ strategy: 'eager' });
