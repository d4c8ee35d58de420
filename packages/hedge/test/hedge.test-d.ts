import type { Context, Policy } from '@palisade/core';
import { expectTypeOf } from 'vitest';
import { type HedgeInfo, type HedgeOptions, type HedgePolicy, hedge } from '../src/index.js';

expectTypeOf(hedge).parameter(0).toEqualTypeOf<HedgeOptions | undefined>();
expectTypeOf(hedge()).toEqualTypeOf<HedgePolicy>();
expectTypeOf<HedgePolicy>().toMatchTypeOf<Policy>();
expectTypeOf(hedge().execute(() => 1)).toEqualTypeOf<Promise<number>>();
expectTypeOf(hedge().execute(async (ctx) => ctx.signal)).toEqualTypeOf<Promise<AbortSignal>>();
expectTypeOf(hedge().currentDelayMs).toEqualTypeOf<(key?: string) => number>();
expectTypeOf<HedgeInfo['context']>().toEqualTypeOf<Context>();
hedge({ delayMs: '20ms' });
hedge({ delayMs: 20, maxHedges: 2, budgetPercent: 5 });
hedge({ delayMs: { percentile: 98, minMs: '2ms', maxMs: '1s' } });
hedge({ shouldHedge: ({ context }) => context.attempt === 1 });
// @ts-expect-error not a duration
hedge({ delayMs: 'soon' });
// @ts-expect-error percentile is a number
hedge({ delayMs: { percentile: '95' } });
// @ts-expect-error shouldHedge returns a boolean
hedge({ shouldHedge: () => 'yes' });
