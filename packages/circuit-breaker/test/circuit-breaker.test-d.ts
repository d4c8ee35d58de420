import type { Policy } from '@palisade/core';
import { expectTypeOf } from 'vitest';
import {
  type CircuitBreakerOptions,
  type CircuitBreakerPolicy,
  type CircuitBreakerStats,
  type CircuitOutcome,
  type CircuitStateName,
  type IsolationHandle,
  type KeyedPolicy,
  circuitBreaker,
  keyed,
} from '../src/index.js';

expectTypeOf(circuitBreaker).parameter(0).toEqualTypeOf<CircuitBreakerOptions | undefined>();
expectTypeOf(circuitBreaker()).toEqualTypeOf<CircuitBreakerPolicy>();
expectTypeOf<CircuitBreakerPolicy>().toMatchTypeOf<Policy>();
expectTypeOf(circuitBreaker().execute(() => 1)).toEqualTypeOf<Promise<number>>();
expectTypeOf(circuitBreaker().execute(async ({ signal }) => signal)).toEqualTypeOf<Promise<AbortSignal>>();
expectTypeOf(circuitBreaker().state).toEqualTypeOf<CircuitStateName>();
expectTypeOf<CircuitStateName>().toEqualTypeOf<'closed' | 'open' | 'half-open' | 'isolated'>();
expectTypeOf(circuitBreaker().stats()).toEqualTypeOf<CircuitBreakerStats>();
expectTypeOf(circuitBreaker().isolate()).toEqualTypeOf<IsolationHandle>();
expectTypeOf(circuitBreaker().isolate().dispose).toEqualTypeOf<() => void>();
// With a lib that knows Symbol.dispose (here via @types/node), the handle is Disposable.
expectTypeOf(circuitBreaker().isolate()).toMatchTypeOf<{ [Symbol.dispose](): void }>();

circuitBreaker({
  failureRateThreshold: 0.5,
  slowCallDurationMs: '2s',
  slowCallRateThreshold: 0.8,
  minimumCalls: 20,
  window: { kind: 'time', ms: '30s', buckets: 10 },
  openMs: (openings) => Math.min(1_000 * 2 ** (openings - 1), 60_000),
  halfOpenMaxCalls: 3,
  isFailure: ({ ok, value }) => !ok || (value instanceof Response && value.status >= 500),
});
circuitBreaker({ window: { kind: 'count', size: 50 }, openMs: '1m' });
// @ts-expect-error a count window has a size, not ms
circuitBreaker({ window: { kind: 'count', ms: 1_000 } });
// @ts-expect-error not a duration
circuitBreaker({ openMs: '1 minute' });
// @ts-expect-error unknown option
circuitBreaker({ failureThreshold: 0.5 });

declare const outcome: CircuitOutcome;
if (outcome.ok) expectTypeOf(outcome.value).toBeUnknown();
else expectTypeOf(outcome.error).toBeUnknown();

const perHost = keyed(() => circuitBreaker(), { maxKeys: 100, idleMs: '10m' });
expectTypeOf(perHost).toEqualTypeOf<KeyedPolicy<CircuitBreakerPolicy>>();
expectTypeOf(perHost.get('a')).toEqualTypeOf<CircuitBreakerPolicy | undefined>();
expectTypeOf(perHost.size).toEqualTypeOf<number>();
expectTypeOf(perHost.execute(() => 'x', { key: 'a' })).toEqualTypeOf<Promise<string>>();
