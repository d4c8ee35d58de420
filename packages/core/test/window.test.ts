import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createValidator } from '../src/validate.js';
import {
  DEFAULT_WINDOW_BUCKETS,
  type SlidingWindow,
  type SlidingWindowSpec,
  normalizeWindowOptions,
  slidingWindow,
} from '../src/window.js';

const counts = (w: SlidingWindow) => ({ calls: w.calls, failures: w.failures, slowCalls: w.slowCalls });

describe('count window', () => {
  it('counts the last `size` outcomes and evicts the oldest', () => {
    const w = slidingWindow({ kind: 'count', size: 3 });
    expect(w.kind).toBe('count');
    w.record(true, false, 0);
    w.record(false, true, 0);
    expect(counts(w)).toEqual({ calls: 2, failures: 1, slowCalls: 1 });
    w.record(true, true, 0);
    expect(counts(w)).toEqual({ calls: 3, failures: 2, slowCalls: 2 });
    w.record(false, false, 0); // evicts (failed)
    expect(counts(w)).toEqual({ calls: 3, failures: 1, slowCalls: 2 });
    w.record(false, false, 0); // evicts (slow)
    expect(counts(w)).toEqual({ calls: 3, failures: 1, slowCalls: 1 });
    w.record(false, false, 0); // evicts (failed, slow)
    expect(counts(w)).toEqual({ calls: 3, failures: 0, slowCalls: 0 });
  });

  it('ignores time: nothing expires in a count window', () => {
    const w = slidingWindow({ kind: 'count', size: 10 });
    w.record(true, false, 0);
    w.expire(1e12);
    w.record(false, false, 2e12);
    expect(counts(w)).toEqual({ calls: 2, failures: 1, slowCalls: 0 });
  });

  it('works across word boundaries (sizes 1, 31, 32, 33, 100)', () => {
    for (const size of [1, 31, 32, 33, 100]) {
      const w = slidingWindow({ kind: 'count', size });
      for (let i = 0; i < size * 3; i++) w.record(i % 3 === 0, i % 5 === 0, 0);
      let failures = 0;
      let slow = 0;
      for (let i = size * 2; i < size * 3; i++) {
        if (i % 3 === 0) failures++;
        if (i % 5 === 0) slow++;
      }
      expect(counts(w)).toEqual({ calls: size, failures, slowCalls: slow });
    }
  });

  it('reset forgets everything', () => {
    const w = slidingWindow({ kind: 'count', size: 4 });
    w.record(true, true, 0);
    w.reset();
    expect(counts(w)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
    for (let i = 0; i < 4; i++) w.record(false, false, 0);
    expect(counts(w)).toEqual({ calls: 4, failures: 0, slowCalls: 0 });
  });

  it('matches a naive list of the last N outcomes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.array(fc.tuple(fc.boolean(), fc.boolean()), { maxLength: 300, size: 'max' }),
        (size, outcomes) => {
          const w = slidingWindow({ kind: 'count', size });
          const list: [boolean, boolean][] = [];
          for (const [failed, slow] of outcomes) {
            w.record(failed, slow, 0);
            list.push([failed, slow]);
            if (list.length > size) list.shift();
            expect(counts(w)).toEqual({
              calls: list.length,
              failures: list.filter(([f]) => f).length,
              slowCalls: list.filter(([, s]) => s).length,
            });
          }
        },
      ),
    );
  });
});

describe('time window', () => {
  it('drops a bucket once the window has moved past it', () => {
    const w = slidingWindow({ kind: 'time', ms: 1_000, buckets: 10 }); // 100 ms buckets
    expect(w.kind).toBe('time');
    w.record(true, false, 0); // bucket 0
    w.record(false, true, 150); // bucket 1
    w.expire(999);
    expect(counts(w)).toEqual({ calls: 2, failures: 1, slowCalls: 1 });
    w.expire(1_000); // bucket 10: bucket 0 left
    expect(counts(w)).toEqual({ calls: 1, failures: 0, slowCalls: 1 });
    w.expire(1_099);
    expect(counts(w)).toEqual({ calls: 1, failures: 0, slowCalls: 1 });
    w.expire(1_100);
    expect(counts(w)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
  });

  it('expires correctly across long idle gaps (more than a window, many windows, exact multiples)', () => {
    for (const gap of [1_000, 1_001, 5_000, 10_000, 1e9 + 7]) {
      const w = slidingWindow({ kind: 'time', ms: 1_000, buckets: 4 });
      w.record(true, true, 100);
      w.record(false, false, 200);
      w.record(true, false, 100 + gap);
      expect(counts(w)).toEqual({ calls: 1, failures: 1, slowCalls: 0 });
      // and the window keeps working after the gap: the slot reused is clean
      w.record(false, true, 100 + gap + 250);
      expect(counts(w)).toEqual({ calls: 2, failures: 1, slowCalls: 1 });
    }
  });

  it('a gap shorter than the window drops exactly the buckets that left', () => {
    const w = slidingWindow({ kind: 'time', ms: 1_000, buckets: 4 }); // 250 ms buckets
    w.record(true, false, 0); // b0
    w.record(true, false, 260); // b1
    w.record(true, false, 510); // b2
    w.record(true, false, 760); // b3
    w.record(false, false, 1_510); // b6: b0..b2 left
    expect(counts(w)).toEqual({ calls: 2, failures: 1, slowCalls: 0 });
  });

  it('a clock that goes backwards records into the newest bucket', () => {
    const w = slidingWindow({ kind: 'time', ms: 100, buckets: 2 });
    w.record(true, false, 1_000);
    w.record(true, false, 900);
    expect(w.calls).toBe(2);
    w.expire(1_100);
    expect(w.calls).toBe(0);
  });

  it('reset forgets everything and the window goes on', () => {
    const w = slidingWindow({ kind: 'time', ms: 100, buckets: 10 });
    w.record(true, true, 5);
    w.reset();
    expect(counts(w)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
    w.record(false, false, 50);
    w.expire(149);
    expect(w.calls).toBe(1);
    w.expire(150);
    expect(w.calls).toBe(0);
  });

  it('matches a naive list of timestamped outcomes (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.nat({ max: 3_000 }), fc.boolean(), fc.boolean()), { maxLength: 100, size: 'max' }),
        (ms, buckets, steps) => {
          const w = slidingWindow({ kind: 'time', ms, buckets });
          const bucketMs = ms / buckets;
          const list: { bucket: number; failed: boolean; slow: boolean }[] = [];
          let now = 1_700_000_000_000;
          for (const [dt, failed, slow] of steps) {
            now += dt;
            const current = Math.floor(now / bucketMs);
            w.record(failed, slow, now);
            list.push({ bucket: current, failed, slow });
            const live = list.filter((o) => o.bucket > current - buckets);
            expect(counts(w)).toEqual({
              calls: live.length,
              failures: live.filter((o) => o.failed).length,
              slowCalls: live.filter((o) => o.slow).length,
            });
          }
        },
      ),
    );
  });
});

describe('normalizeWindowOptions', () => {
  const check = createValidator('@palisade/test');
  const fallback: SlidingWindowSpec = { kind: 'count', size: 100 };

  it('applies the fallback, fills buckets, parses durations and freezes', () => {
    expect(normalizeWindowOptions(check, 'window', undefined, fallback)).toBe(fallback);
    expect(normalizeWindowOptions(check, 'window', { kind: 'count', size: 5 }, fallback)).toEqual({
      kind: 'count',
      size: 5,
    });
    const time = normalizeWindowOptions(check, 'window', { kind: 'time', ms: '10s' }, fallback);
    expect(time).toEqual({ kind: 'time', ms: 10_000, buckets: DEFAULT_WINDOW_BUCKETS });
    expect(Object.isFrozen(time)).toBe(true);
  });

  it.each([
    ['count', /"window" must be a window/],
    [{ size: 5 }, /"window.kind" must be one of 'count', 'time' \(got undefined\)/],
    [{ kind: 'sliding' }, /"window.kind" must be one of/],
    [{ kind: 'count' }, /"window.size" must be an integer between 1 and/],
    [{ kind: 'count', size: 0 }, /"window.size" must be an integer between 1 and/],
    [{ kind: 'count', size: 2.5 }, /"window.size"/],
    [{ kind: 'count', size: 5, ms: 10 }, /unknown option "window.ms"/],
    [{ kind: 'time' }, /"window.ms" must be a duration/],
    [{ kind: 'time', ms: 0 }, /"window.ms" must be a duration ≥ 1/],
    [{ kind: 'time', ms: '10 sec' }, /"window.ms" must be a duration/],
    [{ kind: 'time', ms: 1_000, buckets: 0 }, /"window.buckets" must be an integer between 1 and 1000/],
    [{ kind: 'time', ms: 1_000, size: 3 }, /unknown option "window.size"/],
  ])('rejects %j with a TypeError naming the field', (value, message) => {
    expect(() => normalizeWindowOptions(check, 'window', value, fallback)).toThrow(TypeError);
    expect(() => normalizeWindowOptions(check, 'window', value, fallback)).toThrow(message);
    expect(() => normalizeWindowOptions(check, 'window', value, fallback)).toThrow(/^@palisade\/test: /);
  });
});
