import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHttpDate } from '../src/http-date.js';

const NOW = Date.UTC(2025, 5, 1);

describe('parseHttpDate()', () => {
  it.each([
    ['Sun, 06 Nov 1994 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Sun Nov  6 08:49:37 1994', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2015, 9, 21, 7, 28, 0)],
    ['Thu, 29 Feb 2024 23:59:59 GMT', Date.UTC(2024, 1, 29, 23, 59, 59)],
    ['Wednesday, 01-Jan-30 00:00:00 GMT', Date.UTC(2030, 0, 1)],
    ['Friday, 01-Jan-99 00:00:00 GMT', Date.UTC(1999, 0, 1)],
    ['Tue Dec 31 23:59:60 2024', Date.UTC(2025, 0, 1)],
  ])('reads %j', (text, expected) => {
    expect(parseHttpDate(text, NOW)).toBe(expected);
  });

  it.each([
    '',
    '120',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 06 Foo 1994 08:49:37 GMT',
    'Sun, 31 Feb 2024 08:49:37 GMT',
    'Sun, 00 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 06 Nov 1994 08:60:00 GMT',
    'sun, 06 nov 1994 08:49:37 gmt',
    '2024-02-29T00:00:00Z',
    `Sun, 06 Nov 1994 08:49:37 GMT${' '.repeat(50)}`,
  ])('refuses %j', (text) => {
    expect(parseHttpDate(text, NOW)).toBeUndefined();
  });

  it('reads a four-digit year below 100 as that year (Date.UTC would make it 19xx)', () => {
    const year94 = new Date(0).setUTCFullYear(94, 10, 6) + ((8 * 60 + 49) * 60 + 37) * 1_000;
    expect(parseHttpDate('Sat, 06 Nov 0094 08:49:37 GMT', NOW)).toBe(year94);
    expect(parseHttpDate('Sat Nov  6 08:49:37 0094', NOW)).toBe(year94);
    expect(parseHttpDate(new Date(year94).toUTCString(), NOW)).toBe(year94);
  });

  it('places an RFC 850 two-digit year up to 50 years ahead of now, else in the past, in any century', () => {
    const in2080 = Date.UTC(2080, 5, 1);
    expect(parseHttpDate('Monday, 01-Jan-10 00:00:00 GMT', in2080)).toBe(Date.UTC(2110, 0, 1));
    expect(parseHttpDate('Friday, 01-Jan-30 00:00:00 GMT', in2080)).toBe(Date.UTC(2130, 0, 1));
    expect(parseHttpDate('Wednesday, 01-Jan-31 00:00:00 GMT', in2080)).toBe(Date.UTC(2031, 0, 1));
    expect(parseHttpDate('Saturday, 01-Jan-00 00:00:00 GMT', Date.UTC(1971, 0, 1))).toBe(Date.UTC(2000, 0, 1));
  });

  it('agrees with Date for every IMF-fixdate Date itself prints', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799 }), (seconds) => {
        const ms = seconds * 1_000;
        expect(parseHttpDate(new Date(ms).toUTCString(), NOW)).toBe(ms);
      }),
    );
  });

  it('never throws on any string', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (text) => void parseHttpDate(text, NOW)));
  });
});
