import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, toMilliseconds } from '../src/duration.js';

describe('durations', () => {
  it.each([
    [0, 0],
    [250, 250],
    ['250ms', 250],
    ['2s', 2_000],
    ['1.5s', 1_500],
    ['1m', 60_000],
    ['2h', 7_200_000],
    [' 3 s ', 3_000],
    ['.5s', 500],
  ])('%j is %d ms', (input, ms) => {
    expect(parseDuration(input as never)).toBe(ms);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '', '2', '2 seconds', '-1s', 'ms', '1e3ms', null, {}, []])(
    'rejects %j with a TypeError naming the option',
    (input) => {
      expect(() => parseDuration(input as never, 'openMs')).toThrow(TypeError);
      expect(() => parseDuration(input as never, 'openMs')).toThrow(/"openMs" must be a duration/);
    },
  );

  it('never throws anything but TypeError, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const ms = toMilliseconds(input);
        if (ms !== undefined) expect(ms).toBeGreaterThanOrEqual(0);
        try {
          parseDuration(input as never);
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError);
        }
      }),
    );
  });
});
