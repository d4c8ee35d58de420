import { describe, expect, it } from 'vitest';
import { currentDeadline, runWithDeadline } from '../src/index.js';

describe('runWithDeadline() / currentDeadline()', () => {
  it('holds the deadline through async continuations, and only inside', async () => {
    expect(currentDeadline()).toBeUndefined();
    const seen = await runWithDeadline(5_000, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return currentDeadline();
    });
    expect(seen).toBe(5_000);
    expect(currentDeadline()).toBeUndefined();
  });

  it('keeps an outer deadline that ends sooner; an inner sooner one wins', () => {
    runWithDeadline(1_000, () => {
      expect(runWithDeadline(2_000, currentDeadline)).toBe(1_000);
      expect(runWithDeadline(500, currentDeadline)).toBe(500);
      expect(runWithDeadline(undefined, currentDeadline)).toBe(1_000);
    });
  });

  it('returns what fn returns, and refuses a deadline that is not a number', () => {
    expect(runWithDeadline(1, () => 'x')).toBe('x');
    expect(() => runWithDeadline(Number.NaN, () => 0)).toThrow(
      /@palisade\/core: "deadline" must be epoch milliseconds \(got NaN\)/,
    );
    expect(() => runWithDeadline('soon' as never, () => 0)).toThrow(TypeError);
  });
});
