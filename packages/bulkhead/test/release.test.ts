// Property: whatever mix of endings calls have — resolve, reject, synchronous throw or value, caller
// abort (while queued, while running, after), queue timeout — a slot is held exactly while its fn
// runs: `executing` never passes the maximum, always equals the fns running, and everything is back
// to zero (no slot, waiter or timer left) once all calls settle.
import { BulkheadRejectedError, type Context } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SlotState, bulkhead, concurrencyLimit } from '../src/index.js';

type Ending = 'resolve' | 'reject' | 'throw' | 'value' | 'until-abort';

interface CallSpec {
  /** When the call is issued, ms. */
  at: number;
  ending: Ending;
  /** How long fn runs before it resolves or rejects, ms. */
  durationMs: number;
  /** When the caller aborts, ms after issuing the call (`until-abort` always has one). */
  abortAfterMs: number | undefined;
}

const callSpec: fc.Arbitrary<CallSpec> = fc
  .record({
    at: fc.integer({ min: 0, max: 60 }),
    ending: fc.constantFrom<Ending>('resolve', 'reject', 'throw', 'value', 'until-abort'),
    durationMs: fc.integer({ min: 0, max: 30 }),
    abortAfterMs: fc.option(fc.integer({ min: 0, max: 80 }), { nil: undefined }),
  })
  .map((spec) =>
    spec.ending === 'until-abort' ? { ...spec, abortAfterMs: spec.abortAfterMs ?? spec.durationMs } : spec,
  );

const limits = fc.record({
  maxConcurrent: fc.integer({ min: 1, max: 3 }),
  maxQueue: fc.integer({ min: 0, max: 3 }),
  queueTimeoutMs: fc.integer({ min: 1, max: 40 }),
});

type Make = (
  l: { maxConcurrent: number; maxQueue: number; queueTimeoutMs: number },
  clock: FakeClock,
) => SlotState & {
  execute<T>(fn: (ctx: Context) => Promise<T> | T, options?: { signal?: AbortSignal }): Promise<T>;
};

const makers: [string, Make][] = [
  ['bulkhead', (l, clock) => bulkhead({ ...l, clock })],
  ...(['aimd', 'gradient', 'vegas'] as const).map((algorithm): [string, Make] => [
    `concurrencyLimit ${algorithm}`,
    (l, clock) =>
      concurrencyLimit({
        algorithm,
        min: 1,
        initial: l.maxConcurrent,
        max: l.maxConcurrent,
        maxQueue: l.maxQueue,
        queueTimeoutMs: l.queueTimeoutMs,
        backoffRatio: 0.5,
        probeIntervalMs: 20,
        clock,
      }),
  ]),
];

describe.each(makers)('%s: exactly-once release', (_, make) => {
  it('holds a slot exactly while fn runs, under any mix of endings', async () => {
    await fc.assert(
      fc.asyncProperty(limits, fc.array(callSpec, { minLength: 1, maxLength: 25 }), async (l, specs) => {
        const clock = new FakeClock();
        const b = make(l, clock);
        let running = 0;
        let settled = 0;
        const violations: string[] = [];

        const issue = (spec: CallSpec) => {
          const controller = new AbortController();
          let ran = false;
          const fn = (ctx: Context) => {
            ran = true;
            running++;
            if (b.executing > l.maxConcurrent || running > l.maxConcurrent) {
              violations.push(`executing ${b.executing}, running ${running} > ${l.maxConcurrent}`);
            }
            const end = () => running--;
            switch (spec.ending) {
              case 'value':
                end();
                return 'value';
              case 'throw':
                end();
                throw new Error('sync');
              case 'until-abort': {
                const p = new Promise((_, reject) =>
                  ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }),
                );
                p.then(end, end);
                return p;
              }
              default: {
                const p = clock
                  .sleep(spec.durationMs)
                  .then(() => (spec.ending === 'resolve' ? 'ok' : Promise.reject(new Error('async'))));
                p.then(end, end);
                return p;
              }
            }
          };
          const reason = new Error('caller abort');
          if (spec.abortAfterMs !== undefined) clock.setTimer(spec.abortAfterMs, () => controller.abort(reason));
          b.execute(fn, { signal: controller.signal }).then(
            () => {
              settled++;
              if (!ran) violations.push('resolved without running fn');
            },
            (error: unknown) => {
              settled++;
              if (error instanceof BulkheadRejectedError && ran)
                violations.push('rejected by the bulkhead after fn ran');
              if (error === reason && !controller.signal.aborted) violations.push('abort reason without an abort');
            },
          );
        };

        for (const spec of specs) clock.setTimer(spec.at, () => issue(spec));
        for (let t = 0; t < 200; t++) {
          await clock.advance(1);
          if (b.executing !== running) violations.push(`t=${t}: executing ${b.executing} ≠ running fns ${running}`);
          if (b.executing > l.maxConcurrent) violations.push(`t=${t}: executing ${b.executing} > ${l.maxConcurrent}`);
          if (b.queued > l.maxQueue) violations.push(`t=${t}: queued ${b.queued} > ${l.maxQueue}`);
        }
        await clock.advance(1_000);
        expect(violations).toEqual([]);
        expect(settled).toBe(specs.length);
        expect({ executing: b.executing, queued: b.queued, running }).toEqual({ executing: 0, queued: 0, running: 0 });
        expect(clock.pending).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});
