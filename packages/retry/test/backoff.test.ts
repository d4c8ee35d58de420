import { describe, expect, it } from 'vitest';
import { EXPONENTIAL_DEFAULTS, type Jitter, constant, exponential } from '../src/index.js';

const fixed = (r: number) => () => r;
/** Just below 1: the top of `random()`'s range [0, 1). */
const TOP = 1 - 2 ** -53;

describe('constant()', () => {
  it.each([
    [0, 0],
    [250, 250],
    ['2s', 2_000],
  ] as const)('constant({ ms: %j }) waits %d ms before every retry', (ms, expected) => {
    const b = constant({ ms });
    expect(b).toMatchObject({ type: 'constant', ms: expected });
    for (const retry of [1, 2, 10]) expect(b.delay(retry, Math.random, 123)).toBe(expected);
  });

  it('is frozen plain data plus delay', () => {
    expect(Object.isFrozen(constant({ ms: 1 }))).toBe(true);
  });
});

describe('exponential()', () => {
  it('defaults to 100 ms doubling up to 10 s with full jitter', () => {
    expect(exponential()).toMatchObject(EXPONENTIAL_DEFAULTS);
    expect(EXPONENTIAL_DEFAULTS).toEqual({
      type: 'exponential',
      initialMs: 100,
      maxMs: 10_000,
      factor: 2,
      jitter: 'full',
    });
  });

  // e(n) = min(maxMs, initialMs × factor^(n − 1)) with initialMs 100, maxMs 1000, factor 2
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1_000],
    [50, 1_000],
    [5_000, 1_000],
  ])("'none': retry %d waits %d ms", (retry, expected) => {
    const b = exponential({ initialMs: 100, maxMs: 1_000, jitter: 'none' });
    expect(b.delay(retry, fixed(0.3), 0)).toBe(expected);
  });

  it.each([
    [1.5, [100, 150, 225, 337.5]],
    [3, [100, 300, 900, 2_000]],
    [1, [100, 100, 100, 100]],
  ])('factor %d grows the delays as %j (capped at maxMs)', (factor, expected) => {
    const b = exponential({ initialMs: 100, maxMs: 2_000, factor, jitter: 'none' });
    expect([1, 2, 3, 4].map((n) => b.delay(n, Math.random, 0))).toEqual(expected);
  });

  // Bounds of each draw, at the bottom, middle and top of random()'s range, for e = 400 (retry 3).
  it.each<[Jitter, number, number]>([
    ['full', 0, 0],
    ['full', 0.5, 200],
    ['full', TOP, 400],
    ['equal', 0, 200],
    ['equal', 0.5, 300],
    ['equal', TOP, 400],
    ['none', 0, 400],
    ['none', TOP, 400],
  ])("'%s' jitter with random() = %d gives %d ms for retry 3", (jitter, r, expected) => {
    const b = exponential({ initialMs: 100, maxMs: 10_000, jitter });
    expect(b.delay(3, fixed(r), 0)).toBeCloseTo(expected, 6);
  });

  it.each<Jitter>(['none', 'full', 'equal', 'decorrelated'])(
    "'%s' jitter stays within its bounds for any draw",
    (jitter) => {
      const b = exponential({ initialMs: 50, maxMs: 3_000, jitter });
      let previous = 0;
      for (let retry = 1; retry <= 20; retry++) {
        for (const r of [0, 0.1, 0.5, 0.9, TOP]) {
          const e = Math.min(3_000, 50 * 2 ** (retry - 1));
          const d = b.delay(retry, fixed(r), previous);
          const [low, high] =
            jitter === 'none'
              ? [e, e]
              : jitter === 'full'
                ? [0, e]
                : jitter === 'equal'
                  ? [e / 2, e]
                  : [50, Math.min(3_000, Math.max(previous, 50) * 3)];
          expect(d).toBeGreaterThanOrEqual(low);
          expect(d).toBeLessThanOrEqual(high);
        }
        previous = b.delay(retry, Math.random, previous);
      }
    },
  );

  describe("'decorrelated' jitter", () => {
    const b = exponential({ initialMs: 100, maxMs: 5_000, jitter: 'decorrelated' });

    // sleep = min(maxMs, initialMs + random × (3 × previous − initialMs)), previous starting at initialMs
    it.each([
      [0, 0, 100],
      [TOP, 0, 300],
      [0.5, 0, 200],
      [0, 1_000, 100],
      [0.5, 1_000, 1_550],
      [TOP, 1_000, 3_000],
      [TOP, 4_000, 5_000],
      [0.5, 50, 200],
    ])('random() = %d after a %d ms delay gives %d ms', (r, previous, expected) => {
      expect(b.delay(7, fixed(r), previous)).toBeCloseTo(expected, 6);
    });

    it('depends on the previous delay, not on the retry number', () => {
      for (const retry of [1, 2, 9]) expect(b.delay(retry, fixed(0.5), 1_000)).toBeCloseTo(1_550, 6);
      expect(b.delay(3, fixed(0.5), 1_000)).not.toBe(b.delay(3, fixed(0.5), 2_000));
    });

    it('a chain of draws grows from initialMs and never passes maxMs', () => {
      let previous = 0;
      const chain: number[] = [];
      for (let retry = 1; retry <= 8; retry++) chain.push((previous = b.delay(retry, fixed(TOP), previous)));
      expect(chain[0]).toBeCloseTo(300, 6);
      expect(chain[1]).toBeCloseTo(900, 6);
      expect(chain[2]).toBeCloseTo(2_700, 6);
      expect(chain.slice(3)).toEqual([5_000, 5_000, 5_000, 5_000, 5_000]);
    });
  });

  it('initialMs 0 means no delay at all', () => {
    for (const jitter of ['none', 'full', 'equal', 'decorrelated'] as const) {
      const b = exponential({ initialMs: 0, jitter });
      for (const retry of [1, 2, 2_000]) expect(b.delay(retry, fixed(0.7), 0)).toBe(0);
    }
  });

  it('is pure: the same arguments always give the same delay', () => {
    const b = exponential({ jitter: 'equal' });
    expect(b.delay(4, fixed(0.25), 10)).toBe(b.delay(4, fixed(0.25), 10));
  });
});
