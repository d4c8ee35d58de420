import { FakeClock } from '@palisade/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RETRY_DEFAULTS, constant, exponential, retry } from '../src/index.js';

/** What one attempt does: throw (maybe with a Retry-After), or return a value worth retrying or not. */
type Step = { kind: 'throw'; retryAfterMs: number | undefined } | { kind: 'value'; retry: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('throw' as const), retryAfterMs: fc.option(fc.nat(20_000), { nil: undefined }) }),
  fc.record({ kind: fc.constant('value' as const), retry: fc.boolean() }),
);

const backoff = fc.oneof(
  fc.nat(3_000).map((ms) => constant({ ms })),
  fc
    .record({
      initialMs: fc.nat(500),
      jitter: fc.constantFrom('none', 'full', 'equal', 'decorrelated') as fc.Arbitrary<
        'none' | 'full' | 'equal' | 'decorrelated'
      >,
    })
    .map((o) => exponential({ ...o, maxMs: 5_000 })),
);

describe('retry() properties', () => {
  it('for any outcomes: attempts ≤ maxAttempts, no attempt starts at or past the deadline, no delay exceeds maxDelayMs, and the call ends with the last attempt’s outcome', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 8 }),
        fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: undefined }),
        fc.integer({ min: 0, max: 4_000 }),
        backoff,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        async (steps, maxAttempts, deadlineIn, maxDelayMs, backoff, r) => {
          const clock = new FakeClock({ now: 1_000 });
          const start = clock.now();
          const deadline = deadlineIn === undefined ? undefined : start + deadlineIn;
          const starts: number[] = [];
          const results: ({ error: Error } | { value: { retry: boolean; n: number } })[] = [];
          const policy = retry({
            clock,
            maxAttempts,
            maxDelayMs,
            backoff,
            random: () => r,
            retryOn: (o) => ('error' in o ? RETRY_DEFAULTS.retryOn(o) : (o.value as { retry: boolean }).retry),
          });
          const p = policy.execute(
            async () => {
              starts.push(clock.now());
              const s = steps[starts.length - 1] ?? { kind: 'value', retry: false };
              if (s.kind === 'throw') {
                const error = Object.assign(new Error(`attempt ${starts.length}`), { retryAfterMs: s.retryAfterMs });
                results.push({ error });
                throw error;
              }
              const value = { retry: s.retry, n: starts.length };
              results.push({ value });
              return value;
            },
            { deadline },
          );
          const settled = p.then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          );
          await clock.runAll();
          const outcome = await settled;

          expect(starts.length).toBeGreaterThanOrEqual(1);
          expect(starts.length).toBeLessThanOrEqual(maxAttempts);
          expect(starts[0]).toBe(start);
          for (let i = 1; i < starts.length; i++) {
            // Start times are sums of fractional (jittered) delays: their difference carries float rounding.
            expect((starts[i] as number) - (starts[i - 1] as number)).toBeLessThanOrEqual(maxDelayMs + 1e-6);
            if (deadline !== undefined) expect(starts[i]).toBeLessThan(deadline);
          }
          if (deadline !== undefined) expect(clock.now() - start).toBeLessThanOrEqual(Math.max(0, deadline - start));
          const last = results[results.length - 1];
          if (last && 'error' in last) expect(outcome).toEqual({ error: last.error });
          else expect(outcome).toEqual({ value: last?.value });
          expect(clock.pending).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
