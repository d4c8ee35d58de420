import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEADLINE_HEADER, MAX_DEADLINE_HEADER_MS, formatDeadlineHeader, parseDeadlineHeader } from '../src/index.js';

describe('deadline header', () => {
  it('is named palisade-deadline-ms and carries the whole ms remaining', () => {
    expect(DEADLINE_HEADER).toBe('palisade-deadline-ms');
    expect(formatDeadlineHeader(1_000 + 1_500.9, 1_000)).toBe('1500');
    expect(formatDeadlineHeader(1_000, 1_000)).toBe('0');
    expect(formatDeadlineHeader(500, 1_000)).toBe('0');
    expect(formatDeadlineHeader(Number.NaN, 1_000)).toBe('0');
    expect(formatDeadlineHeader(Number.POSITIVE_INFINITY, 0)).toBe(String(MAX_DEADLINE_HEADER_MS));
  });

  it("reads a value relative to the receiver's own clock (skew does not matter)", () => {
    expect(parseDeadlineHeader('1500', 50_000)).toBe(51_500);
    expect(parseDeadlineHeader(' 0 ', 50_000)).toBe(50_000);
    expect(parseDeadlineHeader('99999999', 0)).toBe(MAX_DEADLINE_HEADER_MS);
  });

  it.each([
    undefined,
    null,
    1500,
    ['1500'],
    '',
    '-1',
    '+5',
    '1.5',
    '1e3',
    '0x10',
    '1500, 2000',
    '100000000',
    ' '.repeat(40) + '1',
    'Infinity',
    '١٢٣',
  ])('ignores hostile or malformed input %j', (value) => {
    expect(parseDeadlineHeader(value, 1_000)).toBeUndefined();
  });

  it('round-trips: what one side formats, the other reads as the same remaining time (±1 ms)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.double({ min: 0, max: 1e9, noNaN: true }), (now, left) => {
        const value = formatDeadlineHeader(now + left, now);
        const deadline = parseDeadlineHeader(value, now) as number;
        expect(deadline).toBeGreaterThanOrEqual(now);
        expect(deadline - now).toBeLessThanOrEqual(Math.min(left, MAX_DEADLINE_HEADER_MS));
        expect(deadline - now).toBeGreaterThan(Math.min(left, MAX_DEADLINE_HEADER_MS) - 1);
      }),
    );
  });

  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const result = parseDeadlineHeader(value, 0);
        if (result !== undefined) expect(result).toBeLessThanOrEqual(MAX_DEADLINE_HEADER_MS);
      }),
    );
  });
});
