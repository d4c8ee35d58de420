import type { Policy } from '@palisade/core';
import { expectTypeOf } from 'vitest';
import {
  type Backoff,
  type BackoffFunction,
  type ConstantBackoff,
  type ExponentialBackoff,
  RETRY_DEFAULTS,
  type RetryBudget,
  type RetryOptions,
  type RetryOutcome,
  type RetryPolicy,
  constant,
  exponential,
  retry,
  retryBudget,
} from '../src/index.js';

expectTypeOf(retry).parameter(0).toEqualTypeOf<RetryOptions | undefined>();
expectTypeOf(retry()).toEqualTypeOf<RetryPolicy>();
expectTypeOf<RetryPolicy>().toMatchTypeOf<Policy>();
expectTypeOf(retry().execute(() => 1)).toEqualTypeOf<Promise<number>>();
expectTypeOf(retry().execute(async (ctx) => ctx.attempt)).toEqualTypeOf<Promise<number>>();
expectTypeOf(retry().budget).toEqualTypeOf<RetryBudget | undefined>();
expectTypeOf(retry().backoff).toEqualTypeOf<Backoff | BackoffFunction>();
expectTypeOf(constant({ ms: 5 })).toEqualTypeOf<ConstantBackoff>();
expectTypeOf(exponential()).toEqualTypeOf<ExponentialBackoff>();
expectTypeOf(retryBudget()).toEqualTypeOf<RetryBudget>();
expectTypeOf(RETRY_DEFAULTS.retryOn).toEqualTypeOf<(outcome: RetryOutcome) => boolean>();

// retryOn narrows on 'error' in outcome
retry({
  retryOn: (outcome) => {
    if ('error' in outcome) {
      expectTypeOf(outcome.error).toBeUnknown();
      return true;
    }
    expectTypeOf(outcome.value).toBeUnknown();
    expectTypeOf(outcome.attempt).toBeNumber();
    return false;
  },
});

// every backoff form
retry({ backoff: constant({ ms: '250ms' }) });
retry({ backoff: exponential({ initialMs: 100, maxMs: '5s', factor: 3, jitter: 'decorrelated' }) });
retry({ backoff: { type: 'exponential', initialMs: '100ms', jitter: 'equal' } });
retry({ backoff: { type: 'constant', ms: 100 } });
retry({ backoff: (n, error) => (error instanceof Error ? 100 * n : 0) });

// every budget form
retry({ budget: retryBudget({ ratio: 0.1, minPerSecond: 5, windowMs: '30s' }) });
retry({ budget: { ratio: 0.5 } });
retry({ budget: false });
retry({ maxDelayMs: '5s', random: () => 0.5, maxAttempts: 5, name: 'users' });

// @ts-expect-error not a duration
retry({ maxDelayMs: '5 seconds' });
// @ts-expect-error not a jitter
exponential({ jitter: 'random' });
// @ts-expect-error constant needs ms
constant({});
// @ts-expect-error budget: true is not a form
retry({ budget: true });
// @ts-expect-error plain-data backoff needs a known type
retry({ backoff: { type: 'linear', ms: 5 } });
// @ts-expect-error retryOn takes one outcome object
retry({ retryOn: (error: unknown, attempt: number) => attempt < 2 && !!error });
