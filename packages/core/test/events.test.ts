import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import { type ResilienceEvent, combineListeners, createEmitter } from '../src/events.js';
import { reportCallbackError } from '../src/report.js';

/** A clock that counts its reads. */
function countingClock(now: number): Clock & { reads: number } {
  const clock = {
    reads: 0,
    now: () => {
      clock.reads++;
      return now;
    },
    sleep: () => Promise.resolve(),
  };
  return clock;
}

describe('createEmitter', () => {
  it('is undefined without a listener', () => {
    expect(createEmitter('retry', 'api', countingClock(0), undefined)).toBeUndefined();
  });

  it('stamps policy, name and the clock time', () => {
    const clock = countingClock(1_000);
    const seen: ResilienceEvent[] = [];
    createEmitter('retry', 'api', clock, (e) => seen.push(e))?.({ type: 'success', key: 'k', durationMs: 3 });
    expect(seen).toEqual([{ type: 'success', key: 'k', durationMs: 3, policy: 'retry', name: 'api', time: 1_000 }]);
    expect(clock.reads).toBe(1);
  });

  it('keeps the time a policy passes and then reads no clock', () => {
    const clock = countingClock(1_000);
    const seen: ResilienceEvent[] = [];
    createEmitter('circuit-breaker', 'db', clock, (e) => seen.push(e))?.({ type: 'success', time: 990, durationMs: 9 });
    expect(seen[0]).toMatchObject({ policy: 'circuit-breaker', name: 'db', time: 990 });
    expect(clock.reads).toBe(0);
  });

  it('never lets a throwing listener reach the policy', () => {
    const emit = createEmitter('retry', 'api', countingClock(0), () => {
      throw new Error('listener bug');
    });
    expect(() => emit?.({ type: 'retry', attempt: 2, delayMs: 10 })).not.toThrow();
  });
});

const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * The process warnings emitted from now on. Node emits a warning on the next tick: one from an
 * earlier test is let through first.
 */
async function collectWarnings(): Promise<{ warnings: (Error & { code?: string; detail?: string })[]; stop(): void }> {
  await tick();
  const warnings: (Error & { code?: string; detail?: string })[] = [];
  const listener = (w: Error) => warnings.push(w);
  process.on('warning', listener);
  return { warnings, stop: () => process.off('warning', listener) };
}
describe('a throwing callback is reported, once', () => {
  let stop = () => {};
  afterEach(() => stop());

  it("reports a listener's first error as a PalisadeWarning, with its stack, and goes on delivering", async () => {
    const collected = await collectWarnings();
    stop = collected.stop;
    let calls = 0;
    const emit = createEmitter('retry', 'api', countingClock(0), () => {
      calls++;
      throw new TypeError('label "route" missing');
    });
    for (let i = 0; i < 5; i++) emit?.({ type: 'retry', attempt: 2, delayMs: 10 });
    await tick();
    expect(calls).toBe(5);
    expect(collected.warnings).toHaveLength(1);
    const [warning] = collected.warnings;
    expect(warning?.name).toBe('PalisadeWarning');
    expect(warning?.code).toBe('PALISADE_CALLBACK_THREW');
    expect(warning?.message).toContain('the onEvent callback threw (TypeError: label "route" missing)');
    expect(warning?.detail).toContain('events.test.ts');
  });

  it('reports each listener of a combined one on its own', async () => {
    const collected = await collectWarnings();
    stop = collected.stop;
    const seen: string[] = [];
    const listener = combineListeners(
      () => {
        throw new Error('first');
      },
      (e) => seen.push(e.type),
      () => {
        throw 'second'; // not an Error: described, no stack
      },
    );
    for (let i = 0; i < 3; i++) createEmitter('timeout', 't', countingClock(0), listener)?.({ type: 'success' });
    await tick();
    expect(seen).toEqual(['success', 'success', 'success']);
    expect(collected.warnings.map((w) => w.message)).toEqual([
      expect.stringContaining('(Error: first)'),
      expect.stringContaining('("second")'),
    ]);
    expect(collected.warnings[1]?.detail).toBeUndefined();
  });

  it('falls back to console.warn where there is no process.emitWarning', async () => {
    const original = process.emitWarning;
    const logged: unknown[][] = [];
    const warn = console.warn;
    (process as { emitWarning?: unknown }).emitWarning = undefined;
    console.warn = (...args: unknown[]) => logged.push(args);
    try {
      const error = new Error('no process');
      reportCallbackError('isFailure', () => {}, error);
      expect(logged).toEqual([[expect.stringContaining('the isFailure callback threw (Error: no process)'), error]]);
    } finally {
      process.emitWarning = original;
      console.warn = warn;
    }
  });
});
