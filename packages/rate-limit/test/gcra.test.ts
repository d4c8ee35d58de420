import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ceilMs, gcra, gcraRule } from '../src/index.js';

// 10 per second, burst 10: one unit every 100 ms.
const rule = gcraRule({ limit: 10, windowMs: 1_000, burst: 10 });

describe('gcra()', () => {
  it('derives the emission interval and the tolerance', () => {
    expect(rule).toEqual({ intervalMs: 100, toleranceMs: 1_000, limit: 10, burst: 10 });
    expect(gcraRule({ limit: 3, windowMs: 1_000, burst: 1 }).intervalMs).toBeCloseTo(333.333, 3);
  });

  it.each([
    // stored TAT, now, cost, maxWait → allowed, remaining, resetMs, retryAfterMs, TAT after
    [undefined, 0, 1, 0, true, 9, 100, 0, 100],
    [undefined, 0, 10, 0, true, 0, 1_000, 0, 1_000],
    [undefined, 0, 0, 0, true, 10, 0, 0, 0],
    [1_000, 0, 1, 0, false, 0, 1_000, 100, 1_000],
    [1_000, 0, 3, 0, false, 0, 1_000, 300, 1_000],
    [1_000, 50, 1, 0, false, 0, 950, 50, 1_000],
    [1_000, 100, 1, 0, true, 0, 1_000, 0, 1_100],
    [500, 0, 5, 0, true, 0, 1_000, 0, 1_000],
    [500, 0, 6, 0, false, 5, 500, 100, 500],
    [1_000, 0, 1, 100, true, 0, 1_100, 100, 1_100], // a reservation 100 ms ahead
    [1_000, 0, 1, 99, false, 0, 1_000, 100, 1_000],
    [-5_000, 0, 1, 0, true, 9, 100, 0, 100], // a TAT long past is a fresh key
  ] as const)(
    'stored %s, now %s, cost %s, maxWait %s',
    (stored, now, cost, maxWait, allowed, remaining, resetMs, retryAfterMs, tat) => {
      expect(gcra(stored, now, cost, maxWait, rule)).toEqual({
        allowed,
        limit: 10,
        remaining,
        resetMs,
        retryAfterMs,
        tat,
      });
    },
  );

  it('rounds waits up to whole ms, so waiting retryAfterMs is always enough', () => {
    const thirds = gcraRule({ limit: 3, windowMs: 1_000, burst: 1 });
    const first = gcra(undefined, 0, 1, 0, thirds);
    const refused = gcra(first.tat, 0, 1, 0, thirds);
    expect(refused.retryAfterMs).toBe(334);
    expect(gcra(first.tat, refused.retryAfterMs, 1, 0, thirds).allowed).toBe(true);
    expect(gcra(first.tat, 333, 1, 0, thirds).allowed).toBe(false);
    expect(ceilMs(100.0000001)).toBe(100);
    expect(ceilMs(-3)).toBe(0);
  });

  it('n calls of T never come up one rounding error short (fractional intervals)', () => {
    const r = gcraRule({ limit: 7, windowMs: 1_000, burst: 7 });
    let tat: number | undefined;
    const now = 1_700_000_000_123.4;
    for (let i = 0; i < 7; i++) {
      const d = gcra(tat, now, 1, 0, r);
      expect(d.allowed).toBe(true);
      tat = d.tat;
    }
    expect(gcra(tat, now, 1, 0, r).allowed).toBe(false);
    expect(gcra(tat, now + 1_000 / 7, 1, 0, r).allowed).toBe(true);
  });

  it('never admits more than burst + d / T units in any span of d ms (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 3 })), { maxLength: 200 }),
        (limit, burst, steps) => {
          const r = gcraRule({ limit, windowMs: 1_000, burst });
          let tat: number | undefined;
          let now = 0;
          const admitted: [number, number][] = [];
          for (const [dt, rawCost] of steps) {
            now += dt;
            const cost = Math.min(rawCost, burst);
            const d = gcra(tat, now, cost, 0, r);
            if (d.allowed) {
              tat = d.tat;
              if (cost > 0) admitted.push([now, cost]);
            } else {
              expect(d.retryAfterMs).toBeGreaterThan(0);
              // Waiting retryAfterMs is enough.
              expect(gcra(tat, now + d.retryAfterMs, cost, 0, r).allowed).toBe(true);
            }
          }
          for (let i = 0; i < admitted.length; i++) {
            let units = 0;
            for (let j = i; j < admitted.length; j++) {
              units += (admitted[j] as [number, number])[1];
              const span = (admitted[j] as [number, number])[0] - (admitted[i] as [number, number])[0];
              expect(units).toBeLessThanOrEqual(burst + span / r.intervalMs + 1e-9);
            }
          }
        },
      ),
    );
  });
});
