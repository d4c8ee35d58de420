import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import { type ResilienceEvent, createEmitter } from '../src/events.js';

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
