// Bad input: fast-check fuzzing of every parser palisade has — durations, Retry-After, the deadline
// header, route keys, declarative specs, the IETF rate-limit header values it writes — and hostile
// keys (huge, unicode, prototype names) through every keyed state. A parser may only answer with
// its documented error: a TypeError at construction, `undefined` from the lenient ones. Nothing
// may pollute a prototype, grow past its bound, or hang.
import { type Server, createServer, validateHeaderName, validateHeaderValue } from 'node:http';
import { bulkhead, concurrencyLimit, isOverloadError } from '@palisade/bulkhead';
import { circuitBreaker, keyed } from '@palisade/circuit-breaker';
import {
  type Duration,
  MAX_DEADLINE_HEADER_MS,
  type Policy,
  RateLimitedError,
  type ResilienceEvent,
  SPEC_ORDER,
  BrokenCircuitError,
  BulkheadRejectedError,
  DeadlineExceededError,
  RetryBudgetExhaustedError,
  TimeoutError,
  clientAddress,
  compileInboundRoutes,
  compileRoutes,
  createValidator,
  formatDeadlineHeader,
  fromSpec,
  isResilienceError,
  parseClientKey,
  parseDeadlineHeader,
  parseDuration,
  parseRouteKey,
  rateLimitHeaders,
  toHttpResponse,
  toMilliseconds,
} from '@palisade/core';
import { resilience as expressResilience, timeout as expressTimeout } from '@palisade/express';
import { createFetch, parseRetryAfter } from '@palisade/fetch';
import { hedge } from '@palisade/hedge';
import { resilience as honoResilience } from '@palisade/hono';
import { createMetrics, prometheusText } from '@palisade/metrics';
import { memoryStore, rateLimit } from '@palisade/rate-limit';
import { redisStore } from '@palisade/redis';
import { retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';
import express from 'express';
import fc from 'fast-check';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// The parser behind Retry-After's HTTP-date (not exported: @palisade/fetch uses it for Retry-After).
import { parseHttpDate } from '../packages/fetch/src/http-date.js';
import { redisOrSkip, writeArtifact } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Bookkeeping: how many inputs each property tried, for the summary table.

const tried: Record<string, number> = {};
/** Of those, how many a parser accepted (the rest got the documented error): both must be common. */
const accepted: Record<string, number> = {};
const accept = (name: string): void => {
  accepted[name] = (accepted[name] ?? 0) + 1;
};
const counted =
  <A extends unknown[], R>(name: string, predicate: (...args: A) => R) =>
  (...args: A): R => {
    tried[name] = (tried[name] ?? 0) + 1;
    return predicate(...args);
  };

afterAll(() => {
  const total = Object.values(tried).reduce((a, b) => a + b, 0);
  const prototypesIntact =
    ({} as Record<string, unknown>).polluted === undefined &&
    JSON.stringify(protoShape()) === JSON.stringify(cleanShape);
  writeArtifact('fuzz', { suite: 'fuzz', properties: tried, accepted, total, prototypesIntact });
});

/** `fn()` returns, or throws a TypeError (the documented construction error); anything else fails. */
function onlyTypeError<T>(fn: () => T, names?: string): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof TypeError)) throw new Error(`expected a TypeError, got ${String(error)}`, { cause: error });
    if (names !== undefined && !error.message.includes(names)) {
      throw new Error(`the TypeError does not name ${names}: ${error.message}`);
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Prototype pollution: nothing any input does may change Object.prototype (or Array's, Function's).

const PROTO_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
] as const;
const protoShape = () =>
  [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((p) =>
    Object.getOwnPropertyNames(p).sort().join(','),
  );
const cleanShape = protoShape();
afterEach(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).x).toBeUndefined();
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  expect({}.constructor).toBe(Object);
  expect(typeof Object.prototype.hasOwnProperty).toBe('function');
  expect(String({})).toBe('[object Object]');
  expect(protoShape()).toEqual(cleanShape);
});

// ---------------------------------------------------------------------------------------------
// Arbitraries

const text = (maxLength = 40) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
  );
/** Any JS value, objects with prototype names as keys included. */
const anything = fc.anything({
  key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...PROTO_NAMES)),
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
});
const numberish = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e21, 2 ** 53, -1, 0.5),
);
const ws = fc.constantFrom('', ' ', '\t', '  ', '\n', '\u00a0');
const digits = fc.oneof(
  fc.nat().map(String),
  fc.double({ min: 0, noNaN: true }).map(String),
  fc.stringMatching(/^[0-9]{0,30}(\.[0-9]{0,5})?$/),
  fc.constantFrom('.5', '1.', '-1', '+1', '1e3', '١٢', '０', 'Infinity', 'NaN', '0x10', ''),
);
const unit = fc.constantFrom('ms', 's', 'm', 'h', '', 'S', 'MS', 'min', 'µs', 'us', 'd', 'sec');
/** Strings shaped like durations, mostly almost right. */
const durationish = fc.tuple(ws, digits, ws, unit, ws).map((parts) => parts.join(''));
const hugeString = fc.integer({ min: 1_000, max: 200_000 }).map((n) => '9'.repeat(n));

/** Keys no keyed state may choke on. */
const hostileKey = fc.oneof(
  fc.constantFrom(
    ...PROTO_NAMES,
    '',
    ' ',
    '*',
    '\u0000',
    '\ud800',
    '🙂',
    '__proto__.polluted',
    'constructor.prototype',
  ),
  text(64),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => '🙂'.repeat(n)),
  fc.constantFrom(...PROTO_NAMES).map((p) => `${p}${'x'.repeat(10)}`),
);

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', 'Get', 'M-SEARCH', 'X', ''];
const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9._~-]{1,8}$/),
  fc.stringMatching(/^:[a-zA-Z_][a-zA-Z0-9_]{0,5}$/),
  fc.constantFrom('*', '', ':', '%20', '..', '.', '🙂', '__proto__', 'constructor', ' '),
);
const hostName = fc.oneof(
  fc.domain(),
  fc.constantFrom(
    '*.example.com',
    'api.example.com:8080',
    '[::1]',
    '[::1]:80',
    'localhost',
    '__proto__',
    'a..b',
    '*',
    '*.',
  ),
  text(12),
);
/** Route keys: mostly well-formed `[METHOD ][host][/path]`, often broken. */
const routeKey = fc.oneof(
  fc
    .tuple(
      fc.option(fc.constantFrom(...METHODS), { nil: undefined }),
      fc.option(hostName, { nil: undefined }),
      fc.option(fc.array(segment, { maxLength: 4 }), { nil: undefined }),
      ws,
    )
    .map(([method, host, path, space]) =>
      [method, `${host ?? ''}${path === undefined ? '' : `/${path.join('/')}`}`]
        .filter((p) => p !== undefined)
        .join(space || ' '),
    ),
  text(40),
);

const OPTION_NAMES = [
  'ms',
  'strategy',
  'maxAttempts',
  'backoff',
  'budget',
  'maxDelayMs',
  'retryOn',
  'failureRateThreshold',
  'slowCallDurationMs',
  'slowCallRateThreshold',
  'minimumCalls',
  'window',
  'openMs',
  'halfOpenMaxCalls',
  'maxConcurrent',
  'maxQueue',
  'queueTimeoutMs',
  'limit',
  'windowMs',
  'burst',
  'key',
  'cost',
  'onStoreError',
  'maxHedges',
  'delayMs',
  'budgetPercent',
  'maxKeys',
  'algorithm',
  'initial',
  'min',
  'max',
  'name',
  'bogus',
  ...PROTO_NAMES,
];
const optionValue: fc.Arbitrary<unknown> = fc.oneof(
  numberish,
  durationish,
  fc.boolean(),
  fc.constantFrom(null, 'cooperative', 'aggressive', 'aimd', 'gradient', 'vegas', 'fail-open', 'ip', 'header:x-key'),
  fc.record(
    { kind: fc.constantFrom('count', 'time', 'bogus'), size: numberish, ms: fc.oneof(numberish, durationish) },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      type: fc.constantFrom('exponential', 'constant', 'bogus'),
      initialMs: numberish,
      maxMs: numberish,
      ms: numberish,
      jitter: fc.constantFrom('none', 'full', 'equal', 'decorrelated', 'x'),
    },
    { requiredKeys: [] },
  ),
  fc.record({ percentile: numberish, minMs: numberish, maxMs: numberish }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 2 }),
);
const patternOptions = fc.dictionary(fc.constantFrom(...OPTION_NAMES), optionValue, { maxKeys: 4 });
const specValue = fc.oneof(fc.boolean(), patternOptions, durationish, numberish, fc.jsonValue({ maxDepth: 2 }));
/** Declarative specs: the known keys (and a few others), plain-data values, mostly plausible. */
const spec = fc.oneof(
  fc.dictionary(fc.constantFrom(...SPEC_ORDER, 'bogus', '__proto__', 'constructor'), specValue, { maxKeys: 5 }),
  anything,
);

const FACTORIES = { timeout, retry, circuitBreaker, bulkhead, rateLimit, hedge };

/** Runs a trivial call through `policy`: it returns 42 or a palisade rejection, within 5 s. */
async function trivialCall(policy: Policy): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), 5_000);
  });
  try {
    const outcome = await Promise.race([
      policy
        .execute(() => 42)
        .then(
          (value) => value,
          (error: unknown) => error,
        ),
      hung,
    ]);
    if (outcome !== 42 && !isResilienceError(outcome)) throw new Error(`a trivial call ended with ${String(outcome)}`);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------

describe('parsers', () => {
  it('durations: toMilliseconds is total, parseDuration throws only a TypeError naming the option', () => {
    fc.assert(
      fc.property(
        fc.oneof(anything, durationish, hugeString, numberish),
        counted('durations', (value: unknown) => {
          const ms = toMilliseconds(value);
          if (ms !== undefined) {
            accept('durations');
            expect(Number.isFinite(ms) && ms >= 0).toBe(true);
          }
          const parsed = onlyTypeError(() => parseDuration(value as Duration, 'someOption'), '"someOption"');
          expect(parsed).toBe(ms);
        }),
      ),
      { numRuns: 10_000 },
    );
  });

  it('durations: a well-formed one reads as its value', () => {
    const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
    fc.assert(
      fc.property(
        fc.nat({ max: 1e9 }),
        fc.constantFrom('ms', 's', 'm', 'h'),
        ws,
        counted('durations', (n: number, u: keyof typeof UNIT_MS, space: string) => {
          if (space === '\n' || space === '\u00a0' || space === '\t') space = ' ';
          expect(toMilliseconds(`${space}${n}${space}${u}${space}`)).toBe(n * UNIT_MS[u]);
        }),
      ),
      { numRuns: 2_000 },
    );
  });

  it('durations in every factory: a policy or a TypeError naming the option', () => {
    const builds: [string, (v: unknown) => unknown][] = [
      ['ms', (v) => timeout({ ms: v as Duration })],
      ['openMs', (v) => circuitBreaker({ openMs: v as Duration })],
      ['queueTimeoutMs', (v) => bulkhead({ maxConcurrent: 1, queueTimeoutMs: v as Duration })],
      ['windowMs', (v) => rateLimit({ windowMs: v as Duration })],
      ['maxDelayMs', (v) => retry({ maxDelayMs: v as Duration })],
      ['initialMs', (v) => retry({ backoff: { type: 'exponential', initialMs: v as Duration } })],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...builds),
        fc.oneof(anything, durationish, numberish),
        counted('durations', ([option, build]: [string, (v: unknown) => unknown], value: unknown) => {
          onlyTypeError(() => build(value), option);
        }),
      ),
      { numRuns: 5_000 },
    );
  });

  it('Retry-After: delay-seconds, an HTTP-date, or undefined — never a throw, never negative', () => {
    const dayNames = fc.constantFrom('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun', 'Monday', 'Xyz');
    const months = fc.constantFrom(
      'Jan',
      'Feb',
      'Mar',
      'Apr',
      'May',
      'Jun',
      'Jul',
      'Aug',
      'Sep',
      'Oct',
      'Nov',
      'Dec',
      'Foo',
    );
    const dateish = fc
      .tuple(
        dayNames,
        fc.integer({ min: -1, max: 40 }),
        months,
        fc.integer({ min: 0, max: 99_999 }),
        fc.nat(99),
        fc.nat(99),
        fc.nat(99),
      )
      .map(
        ([d, day, mon, y, h, m, s]) =>
          `${d}, ${String(day).padStart(2, '0')} ${mon} ${y} ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')} GMT`,
      );
    fc.assert(
      fc.property(
        fc.oneof(anything, digits, dateish, hugeString, text(50)),
        fc.integer({ min: 0, max: 4e12 }),
        counted('Retry-After', (value: unknown, now: number) => {
          const ms = parseRetryAfter(value as string, now);
          if (ms !== undefined) expect(Number.isFinite(ms) && ms >= 0).toBe(true);
        }),
      ),
      { numRuns: 10_000 },
    );
    // Round trip: what a server sends (toUTCString) reads as the time until it.
    fc.assert(
      fc.property(
        fc.date({ min: new Date(0), max: new Date(253_402_300_799_000), noInvalidDate: true }),
        fc.integer({ min: 0, max: 4e12 }),
        fc.nat(99_999_999),
        counted('Retry-After', (date: Date, now: number, seconds: number) => {
          const at = Math.floor(date.getTime() / 1_000) * 1_000;
          expect(parseRetryAfter(new Date(at).toUTCString(), now)).toBe(Math.max(0, at - now));
          expect(parseRetryAfter(` ${seconds} `, now)).toBe(seconds * 1_000);
        }),
      ),
      { numRuns: 3_000 },
    );
  });

  it('HTTP-dates in all three shapes read as the date they say; mangled ones as no date', () => {
    const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
    const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const two = (n: number) => String(n).padStart(2, '0');
    const clock = (d: Date) => `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
    const day = (d: Date) => DAYS[d.getUTCDay()] as string;
    const mon = (d: Date) => MONTHS[d.getUTCMonth()] as string;
    /** RFC 9110 §5.6.7's three shapes of one instant (whole seconds). */
    const shapes = (d: Date) => ({
      imf: `${day(d).slice(0, 3)}, ${two(d.getUTCDate())} ${mon(d)} ${String(d.getUTCFullYear()).padStart(4, '0')} ${clock(d)} GMT`,
      rfc850: `${day(d)}, ${two(d.getUTCDate())}-${mon(d)}-${two(d.getUTCFullYear() % 100)} ${clock(d)} GMT`,
      asctime: `${day(d).slice(0, 3)} ${mon(d)} ${String(d.getUTCDate()).padStart(2, ' ')} ${clock(d)} ${String(d.getUTCFullYear()).padStart(4, '0')}`,
    });
    const YEAR0 = -62_167_219_200_000; // 0000-01-01T00:00:00Z
    const YEAR9999 = 253_402_300_799_000;
    const wholeSeconds = (min: number, max: number) =>
      fc.integer({ min: min / 1_000, max: max / 1_000 }).map((s) => new Date(s * 1_000));

    // IMF-fixdate and asctime carry four-digit years: every instant of years 0000–9999 reads back.
    fc.assert(
      fc.property(
        wholeSeconds(YEAR0, YEAR9999),
        fc.integer({ min: 0, max: 4e12 }),
        counted('Retry-After', (date: Date, now: number) => {
          const { imf, asctime } = shapes(date);
          for (const text of [imf, asctime]) {
            expect(parseHttpDate(text, now), text).toBe(date.getTime());
            expect(parseRetryAfter(text, now), text).toBe(Math.max(0, date.getTime() - now));
          }
        }),
      ),
      { numRuns: 3_000 },
    );
    // RFC 850's two-digit year is placed by `now`: never more than 50 years ahead of it.
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2200, 0, 1) }),
        fc.integer({ min: -49, max: 60 }),
        fc.integer({ min: 0, max: 365 * 86_400 - 1 }),
        counted('Retry-After', (now: number, yearsAhead: number, secondOfYear: number) => {
          const year = new Date(now).getUTCFullYear() + yearsAhead;
          const date = new Date(Date.UTC(year, 0, 1) + secondOfYear * 1_000);
          if (date.getUTCFullYear() !== year) return; // day 366 of a common year
          const text = shapes(date).rfc850;
          const meant = new Date(date);
          if (yearsAhead > 50) meant.setUTCFullYear(year - 100);
          expect(parseHttpDate(text, now), text).toBe(meant.getTime());
          expect(parseRetryAfter(text, now), text).toBe(Math.max(0, meant.getTime() - now));
        }),
      ),
      { numRuns: 3_000 },
    );
    // Mangled: each of these breaks the grammar or the calendar, so neither parser reads a date.
    const replaceAt = (text: string, at: number, length: number, by: string) =>
      `${text.slice(0, at)}${by}${text.slice(at + length)}`;
    const clockAt = (text: string) => text.search(/\d{2}:\d{2}:\d{2}/);
    const mangles: [string, (text: string, shape: string, n: number) => string | undefined][] = [
      [
        'month in lower case',
        (t) => t.replace(/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/, (m) => m.toLowerCase()),
      ],
      ['truncated', (t, _s, n) => t.slice(0, n % t.length)],
      ['hour 24–99', (t, _s, n) => replaceAt(t, clockAt(t), 2, String(24 + (n % 76)))],
      ['minute 60–99', (t, _s, n) => replaceAt(t, clockAt(t) + 3, 2, String(60 + (n % 40)))],
      ['second 61–99', (t, _s, n) => replaceAt(t, clockAt(t) + 6, 2, String(61 + (n % 39)))],
      [
        'day 32–99 or 00',
        (t, shape, n) => {
          const dd = n % 2 ? '00' : String(32 + (n % 68));
          if (shape === 'asctime') return replaceAt(t, 8, 2, dd);
          return replaceAt(t, t.indexOf(',') + 2, 2, dd);
        },
      ],
      [
        "the other shape's weekday",
        (t, shape) =>
          shape === 'rfc850'
            ? t.replace(/^([A-Z][a-z]{2})[a-z]+/, '$1')
            : t.replace(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)/, (d) => DAYS.find((full) => full.startsWith(d)) as string),
      ],
      ['no GMT, or one too many', (t, shape) => (shape === 'asctime' ? `${t} GMT` : t.slice(0, -4))],
      [
        'a separator replaced',
        (t, _s, n) => {
          const at = [...t].flatMap((c, i) => (/[ ,:-]/.test(c) ? [i] : []));
          return replaceAt(t, at[n % at.length] as number, 1, '/');
        },
      ],
      ['a non-ASCII digit', (t) => t.replace(/\d/, (d) => String.fromCharCode(0x0660 + Number(d)))],
    ];
    fc.assert(
      fc.property(
        wholeSeconds(Date.UTC(1950, 0, 1), Date.UTC(2049, 11, 31)),
        fc.constantFrom('imf', 'rfc850', 'asctime'),
        fc.constantFrom(...mangles),
        fc.nat(),
        counted('Retry-After', (date: Date, shape: 'imf' | 'rfc850' | 'asctime', [how, mangle], n: number) => {
          const text = mangle(shapes(date)[shape], shape, n);
          if (text === undefined) return;
          const now = Date.UTC(2000, 0, 1);
          expect(parseHttpDate(text, now), `${how}: ${text}`).toBeUndefined();
          expect(parseRetryAfter(text, now), `${how}: ${text}`).toBeUndefined();
        }),
      ),
      { numRuns: 3_000 },
    );
  });

  it('Retry-After from a real response: createFetch returns or retries within maxDelayMs, never throws', async () => {
    const printable = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          printable,
          digits.filter((d) => /^[\x20-\x7e]*$/.test(d)),
        ),
        counted('Retry-After', async (header: string) => {
          let calls = 0;
          const fake: typeof fetch = async () => {
            calls++;
            return calls === 1
              ? new Response('busy', { status: 503, headers: { 'retry-after': header } })
              : new Response('ok');
          };
          const f = createFetch({
            fetch: fake,
            policy: { retry: { maxAttempts: 2, backoff: { type: 'constant', ms: 0 }, maxDelayMs: 20, budget: false } },
          });
          const res = await f('http://api.test/x');
          await res.text();
          expect([200, 503]).toContain(res.status);
        }),
      ),
      { numRuns: 500 },
    );
  });

  it('the deadline header: one to eight digits or undefined; what is written reads back as no more time', () => {
    fc.assert(
      fc.property(
        fc.oneof(anything, digits, text(20), hugeString, fc.stringMatching(/^\s*[0-9]{1,12}\s*$/)),
        fc.integer({ min: 0, max: 4e12 }),
        counted('deadline header', (value: unknown, now: number) => {
          const deadline = parseDeadlineHeader(value, now);
          if (deadline !== undefined) {
            const left = deadline - now;
            expect(Number.isInteger(left) && left >= 0 && left <= MAX_DEADLINE_HEADER_MS).toBe(true);
          }
        }),
      ),
      { numRuns: 10_000 },
    );
    fc.assert(
      fc.property(
        numberish,
        fc.integer({ min: 0, max: 4e12 }),
        counted('deadline header', (deadline: number, now: number) => {
          const header = formatDeadlineHeader(deadline, now);
          expect(header).toMatch(/^[0-9]{1,8}$/);
          const back = parseDeadlineHeader(header, now) as number;
          if (Number.isFinite(deadline)) expect(back).toBeLessThanOrEqual(Math.max(deadline, now));
        }),
      ),
      { numRuns: 5_000 },
    );
  });

  it('the deadline header on a real Express route: 200 or 504, never an error', async () => {
    const app = express();
    app.use(expressTimeout({ ms: '2s' }));
    app.get('/x', (_req, res) => {
      res.send('ok');
    });
    const server: Server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const headerValue = fc.oneof(
      fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 }),
      fc.stringMatching(/^[0-9]{1,12}$/),
      fc.constantFrom('0', '-1', '1e3', '99999999', '100000000', ' 5 ', '1, 2', ''),
    );
    try {
      await fc.assert(
        fc.asyncProperty(
          headerValue,
          counted('deadline header', async (value: string) => {
            const res = await fetch(`http://127.0.0.1:${port}/x`, { headers: { 'palisade-deadline-ms': value } });
            await res.text();
            expect([200, 504]).toContain(res.status);
          }),
        ),
        { numRuns: 300 },
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('route keys: a RouteKey or a TypeError; a compiled table matches anything without throwing', () => {
    fc.assert(
      fc.property(
        fc.oneof(routeKey, anything, hugeString),
        counted('route keys', (key: unknown) => {
          const route = onlyTypeError(() => parseRouteKey(key as string));
          if (route !== undefined) {
            accept('route keys');
            expect(route.key).toBe(key);
            if (route.method !== undefined) expect(route.method).toBe(route.method.toUpperCase());
            if (route.host !== undefined) expect(route.host).toBe(route.host.toLowerCase());
          }
        }),
      ),
      { numRuns: 10_000 },
    );
    expect(accepted['route keys'] ?? 0).toBeGreaterThan(500);
    fc.assert(
      fc.property(
        fc.array(routeKey, { maxLength: 6 }),
        fc.array(
          fc.tuple(
            fc.oneof(fc.constantFrom(...METHODS), text(8)),
            fc.option(hostName, { nil: undefined }),
            fc.oneof(
              fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join('/')}`),
              text(30),
            ),
          ),
          { maxLength: 10 },
        ),
        counted('route keys', (keys: string[], requests: [string, string | undefined, string][]) => {
          const table = onlyTypeError(() => compileRoutes(keys.map((k, i) => [k, i] as const)));
          if (table === undefined) return;
          for (const [method, host, path] of requests) {
            const found = table.match(method, host, path);
            if (found !== undefined) expect(keys).toContain(found.key);
          }
        }),
      ),
      { numRuns: 5_000 },
    );
  });

  it('declarative specs: fromSpec builds a working policy or throws a TypeError', async () => {
    await fc.assert(
      fc.asyncProperty(
        spec,
        counted('specs', async (value: unknown) => {
          const policy = onlyTypeError(() => fromSpec(value as never, { factories: FACTORIES, path: 'fuzz' }));
          if (policy === undefined) return;
          accept('specs');
          await trivialCall(policy);
        }),
      ),
      { numRuns: 3_000 },
    );
    expect(accepted.specs ?? 0).toBeGreaterThan(100);
  });

  it("declarative specs in the adapters: resilience({ routes }) of Express and Hono, createFetch's routes", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(routeKey, fc.constantFrom(...PROTO_NAMES)), spec, { maxKeys: 3 }),
        fc.option(spec, { nil: undefined }),
        counted('specs', (routes: Record<string, unknown>, fallback: unknown) => {
          const options = { routes, default: fallback, onWarning: () => {} } as never;
          const e = onlyTypeError(() => expressResilience(options));
          if (e !== undefined) {
            accept('specs');
            expect(typeof e).toBe('function');
          }
          const h = onlyTypeError(() => honoResilience(options));
          if (h !== undefined) expect(typeof h).toBe('function');
          const f = onlyTypeError(() => createFetch({ routes: routes as never, policy: fallback as never }));
          if (f !== undefined) expect(typeof f).toBe('function');
        }),
      ),
      { numRuns: 3_000 },
    );
  });

  it('IETF RateLimit / Retry-After values are always valid header values with sf-integers', () => {
    const SF_INT = '(?:0|[1-9][0-9]{0,14})';
    const sfString = '"(?:[\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\["\\\\])*"';
    const policyHeader = new RegExp(`^${sfString};q=${SF_INT}(?:;w=${SF_INT})?$`);
    const rateHeader = new RegExp(`^${sfString};r=${SF_INT};t=${SF_INT}$`);
    const integer = new RegExp(`^${SF_INT}$`);
    const checkHeaders = (headers: Record<string, string>) => {
      for (const [name, value] of Object.entries(headers)) {
        validateHeaderValue(name, value);
        if (name === 'ratelimit-policy') expect(value).toMatch(policyHeader);
        else if (name === 'ratelimit') expect(value).toMatch(rateHeader);
        else if (name !== 'content-type') expect(value, name).toMatch(integer);
      }
    };
    const info = fc.record({
      limit: numberish,
      remaining: numberish,
      resetMs: numberish,
      windowMs: fc.option(numberish, { nil: undefined }),
    });
    const options = fc.record(
      {
        rateLimitHeaders: fc.constantFrom('draft', 'legacy', 'both', 'none', 'bogus'),
        rateLimitPolicy: text(20),
        problemTypeBase: text(20),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        info,
        options,
        numberish,
        counted(
          'IETF header values',
          (
            i: { limit: number; remaining: number; resetMs: number; windowMs?: number },
            o: object,
            retryAfterMs: number,
          ) => {
            const headers = onlyTypeError(() => rateLimitHeaders(i, o));
            if (headers === undefined) return;
            checkHeaders(headers);
            const errors = [
              new RateLimitedError({ ...i, retryAfterMs }),
              new BrokenCircuitError('open', { retryAfterMs }),
              new BulkheadRejectedError('full', { retryAfterMs }),
              new RetryBudgetExhaustedError({ retryAfterMs }),
              new TimeoutError(retryAfterMs),
              new DeadlineExceededError(retryAfterMs),
            ];
            for (const error of errors) {
              const response = toHttpResponse(error, o);
              if (response === undefined) continue;
              checkHeaders(response.headers);
              expect(JSON.parse(JSON.stringify(response.body))).toEqual(response.body);
            }
          },
        ),
      ),
      { numRuns: 5_000 },
    );
  });

  it("the client key spec: parseClientKey gives a rule or the TypeError naming it; 'header:<name>' reads the name as sent", () => {
    const check = createValidator('@palisade/fuzz');
    const TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const SPOOFABLE = [
      'x-forwarded-for',
      'forwarded',
      'x-real-ip',
      'x-client-ip',
      'x-cluster-client-ip',
      'true-client-ip',
      'cf-connecting-ip',
      'fastly-client-ip',
    ];
    const token = fc.string({ unit: fc.constantFrom(...TCHAR), minLength: 1, maxLength: 40 });
    const headerName = fc.oneof(
      token,
      fc.constantFrom(...SPOOFABLE).map((h) => h.toUpperCase()),
      fc.constantFrom(...SPOOFABLE),
      fc.constantFrom('', ' ', 'x key', 'x:key', 'ключ', 'x\r\nkey', 'x\u0000', '"x"', '(x)', ...PROTO_NAMES),
      text(20),
    );
    const spec = fc.oneof(
      fc.tuple(ws, headerName, ws).map(([a, name, b]) => `header:${a}${name}${b}`),
      fc.constantFrom(
        'ip',
        'IP',
        'header:',
        'header',
        'Header:x',
        'HEADER:x',
        ' header:x',
        'header: ',
        null,
        0,
        undefined,
      ),
      fc.constant((req: unknown) => String(req)),
      anything,
      text(30),
    );
    fc.assert(
      fc.property(
        spec,
        counted('client key specs', (value: unknown) => {
          const warnings: string[] = [];
          const rule = onlyTypeError(
            () => parseClientKey(check, 'key', value, (kind) => warnings.push(kind), '@palisade/fuzz'),
            '"key"',
          );
          if (rule === undefined) {
            expect(warnings).toEqual([]);
            return;
          }
          accept('client key specs');
          if (value === undefined || value === 'ip') expect(rule).toEqual({ kind: 'ip' });
          else if (typeof value === 'function') expect(rule.kind).toBe('custom');
          else {
            expect(typeof value === 'string' && value.startsWith('header:')).toBe(true);
            const name = (value as string).slice('header:'.length).trim().toLowerCase();
            expect(rule).toEqual({ kind: 'header', header: name });
            validateHeaderName(name); // a valid HTTP field name, as Node checks it
            expect(warnings).toEqual(SPOOFABLE.includes(name) ? ['spoofable-key'] : []);
          }
        }),
      ),
      { numRuns: 3_000 },
    );
    // Every field name (a token, any case) is accepted.
    fc.assert(
      fc.property(
        token,
        counted('client key specs', (name: string) => {
          const rule = parseClientKey(check, 'key', `header:${name}`, () => {}, '@palisade/fuzz');
          expect(rule).toEqual({ kind: 'header', header: name.toLowerCase() });
        }),
      ),
      { numRuns: 2_000 },
    );
    expect(accepted['client key specs'] ?? 0).toBeGreaterThan(300);
  });

  it('hostile request paths through compileInboundRoutes: the route an independent matcher picks, or the default', () => {
    const ROUTES = [
      'GET /users/:id',
      'GET /users/me',
      '/admin/*',
      'POST /orders',
      'GET /__proto__/:x',
      'GET /constructor',
      'GET /%7Euser/a.b',
      'GET /',
    ];
    const spec = { timeout: '1s' };
    const table = compileInboundRoutes<unknown, string>(
      createValidator('@palisade/fuzz'),
      '@palisade/fuzz',
      { routes: Object.fromEntries(ROUTES.map((key) => [key, spec])), default: spec },
      { rateLimit, bulkhead, concurrencyLimit, timeout, circuitBreaker, isOverloadError },
      () => {},
      (route) => route.key,
    );
    // What the routes mean, written out: raw segments (no decoding, no dot-segment removal), one
    // trailing "/" tolerated, "?"/"#" end the path, a literal beats a parameter, HEAD falls back to
    // GET, and anything else goes to the default.
    const parsed = ROUTES.map((key) => {
      const [method, path] = key.includes(' ') ? (key.split(' ') as [string, string]) : [undefined, key];
      return { key, method, segments: path === '/' ? [] : path.slice(1).split('/') };
    });
    const segmentsMatch = (pattern: string[], parts: string[]): boolean => {
      for (let i = 0; i < pattern.length; i++) {
        const p = pattern[i] as string;
        if (p === '*') return true;
        const part = parts[i];
        if (part === undefined) return false;
        if (p.startsWith(':') ? part === '' : part !== p) return false;
      }
      return parts.length === pattern.length;
    };
    const oracle = (method: string, path: string): string => {
      let end = path.length;
      for (const c of ['?', '#']) {
        const at = path.indexOf(c);
        if (at >= 0 && at < end) end = at;
      }
      if (!path.startsWith('/')) return 'default';
      const parts = path.slice(1, end).split('/');
      if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
      const pick = (m: string) => {
        const found = parsed.filter(
          (r) => (r.method === undefined || r.method === m) && segmentsMatch(r.segments, parts),
        );
        // The only overlap in the table: /users/me is more specific than /users/:id.
        return found.find((r) => r.key === 'GET /users/me') ?? found[0];
      };
      // HEAD falls back to GET as Node and Hono write it (upper case; the matcher itself takes any case).
      return (pick(method.toUpperCase()) ?? (method === 'HEAD' ? pick('GET') : undefined))?.key ?? 'default';
    };
    const segmentArb = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          'users',
          'me',
          'admin',
          'orders',
          '__proto__',
          'constructor',
          'x',
          '%7Euser',
          'a.b',
          '',
        ),
      },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          '..',
          '.',
          '%2e%2e',
          '%2E',
          '%2F',
          '%2f..',
          '%00',
          '%',
          '%zz',
          '~user',
          'prototype',
          'hasOwnProperty',
        ),
      },
      { weight: 2, arbitrary: fc.constantFrom('🙂', 'ü', '\u0000', '\ud800', 'ユーザー', ' ', '\t', ';', ':id', '*') },
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 50_000 }).map((n) => 'a'.repeat(n)) },
      { weight: 2, arbitrary: text(12) },
    );
    const pathArb = fc.oneof(
      fc
        .tuple(
          fc.array(segmentArb, { maxLength: 6 }),
          fc.constantFrom('', '/', '//', '?q=/admin/x', '#/admin', '?', '/?a#b'),
          fc.constantFrom('/', '/', '/', '', '//', '\\'),
        )
        .map(([parts, tail, lead]) => `${lead}${parts.join('/')}${tail}`),
      hugeString.map((h) => `/users/${h}`),
      text(60),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...METHODS), text(6)),
        pathArb,
        fc.option(hostName, { nil: undefined }),
        counted('request paths', (method: string, path: string, host: string | undefined) => {
          const found = table.match(method, host, path);
          expect(found, `${method} ${JSON.stringify(path.slice(0, 200))}`).toBe(oracle(method, path));
          if (found !== 'default') accept('request paths');
        }),
      ),
      { numRuns: 5_000 },
    );
    expect(accepted['request paths'] ?? 0).toBeGreaterThan(200);
  });

  it('X-Forwarded-For: the client address behind n trusted proxies, never a throw', () => {
    fc.assert(
      fc.property(
        fc.option(text(20), { nil: undefined }),
        fc.option(
          fc.oneof(
            text(80),
            fc.array(fc.ipV4(), { maxLength: 5 }).map((a) => a.join(', ')),
          ),
          { nil: undefined },
        ),
        fc.oneof(fc.integer({ min: -2, max: 8 }), numberish),
        counted('X-Forwarded-For', (remote: string | undefined, forwarded: string | undefined, hops: number) => {
          const address = clientAddress(remote, forwarded, hops);
          if (address !== undefined) expect(typeof address).toBe('string');
        }),
      ),
      { numRuns: 5_000 },
    );
  });
});

describe('hostile keys', () => {
  it('rateLimit on memoryStore: each key its own budget, the store bounded', async () => {
    const store = memoryStore({ maxKeys: 100 });
    const limiter = rateLimit({ limit: 2, windowMs: '1h', store });
    await fc.assert(
      fc.asyncProperty(
        hostileKey,
        counted('hostile keys', async (key: string) => {
          const unique = `${key}\u0001${tried['hostile keys']}`;
          await expect(limiter.execute(() => 1, { key: unique })).resolves.toBe(1);
          await expect(limiter.execute(() => 2, { key: unique })).resolves.toBe(2);
          await expect(limiter.execute(() => 3, { key: unique })).rejects.toBeInstanceOf(RateLimitedError);
          // The raw key too (shared by every run that draws it): never more than 2 per window.
          await limiter
            .execute(() => 0, { key })
            .catch((error: unknown) => expect(error).toBeInstanceOf(RateLimitedError));
        }),
      ),
      { numRuns: 2_000 },
    );
    expect((store as unknown as { maxKeys: number }).maxKeys).toBe(100);
  });

  it('keyed circuit breakers: a key opens only its own breaker, the map bounded', async () => {
    const options = { minimumCalls: 2, failureRateThreshold: 0.5, openMs: '1h' } as const;
    const shared = keyed(() => circuitBreaker(options), { maxKeys: 50 });
    await fc.assert(
      fc.asyncProperty(
        hostileKey,
        counted('hostile keys', async (key: string) => {
          const boom = new Error('boom');
          for (const breakers of [keyed(() => circuitBreaker(options), { maxKeys: 50 }), shared]) {
            // The shared breakers see each key once: a key drawn again gets a fresh name.
            const k = breakers === shared ? `${key}\u0001${tried['hostile keys']}` : key;
            for (let i = 0; i < 2; i++) {
              await expect(breakers.execute(() => Promise.reject(boom), { key: k })).rejects.toBe(boom);
            }
            await expect(breakers.execute(() => 1, { key: k })).rejects.toBeInstanceOf(BrokenCircuitError);
            await expect(breakers.execute(() => 1, { key: `${k}\u0002other` })).resolves.toBe(1);
            expect(breakers.size).toBeLessThanOrEqual(50);
          }
        }),
      ),
      { numRuns: 1_000 },
    );
  });

  it('hedge: per-key latency histories, the delay stays within its bounds', async () => {
    const hedged = hedge({ delayMs: { percentile: 95, minMs: 1, maxMs: 50 }, maxKeys: 50 });
    await fc.assert(
      fc.asyncProperty(
        hostileKey,
        counted('hostile keys', async (key: string) => {
          await expect(hedged.execute(() => 1, { key })).resolves.toBe(1);
          const delay = hedged.currentDelayMs(key);
          expect(delay >= 1 && delay <= 50).toBe(true);
        }),
      ),
      { numRuns: 1_000 },
    );
  });

  it('metrics: hostile names and keys are counted, bounded, and exported as valid Prometheus text', () => {
    const metrics = createMetrics({ maxKeysPerPolicy: 20, maxPolicies: 30 });
    fc.assert(
      fc.property(
        hostileKey,
        hostileKey,
        fc.constantFrom(
          'success',
          'failure',
          'retry',
          'circuit.open',
          'bulkhead.queued',
          'bogus',
          '__proto__',
          'constructor',
        ),
        counted('hostile keys', (name: string, key: string, type: string) => {
          const event = {
            policy: name.slice(0, 30),
            name,
            key,
            type,
            time: 1,
            durationMs: 3,
            error: undefined,
            queued: 1,
            attempt: 1,
            delayMs: 0,
            failureRate: 1,
            slowCallRate: 0,
            openMs: 1,
          };
          metrics.onEvent(event as unknown as ResilienceEvent);
        }),
      ),
      { numRuns: 3_000 },
    );
    const snapshot = metrics.snapshot();
    expect(JSON.parse(JSON.stringify(snapshot)).policies.length).toBe(snapshot.policies.length);
    const names = new Set(snapshot.policies.map((p) => `${p.policy}\u0000${p.name}`));
    expect(names.size).toBe(snapshot.policies.length);
    for (const p of snapshot.policies) expect(p.trackedKeys).toBeLessThanOrEqual(20);
    expect(snapshot.policies.filter((p) => p.name !== '(overflow)').length).toBeLessThanOrEqual(30);
    const exposition = prometheusText({ metrics, keys: true });
    // One sample or comment per line: a label value never breaks out of its quotes or its line.
    const sample =
      /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*\})? (?:[-+]?[0-9.e+-]+|NaN|[+-]Inf)$/;
    for (const line of exposition.split('\n')) {
      if (line === '' || line.startsWith('# ')) continue;
      expect(line).toMatch(sample);
    }
  });

  it('createFetch: hostile hosts get their own bounded state, or fetch rejects the URL itself', async () => {
    const seen: string[] = [];
    const fake: typeof fetch = async (input) => {
      seen.push(String(input instanceof Request ? input.url : input));
      return new Response('ok');
    };
    const f = createFetch({ fetch: fake, policy: { retry: { maxAttempts: 2 }, circuitBreaker: true }, maxKeys: 20 });
    const host = fc.oneof(
      hostileKey,
      fc.domain(),
      fc.constantFrom('__proto__', 'constructor', 'xn--nxa', '[::1]', '127.0.0.1:1'),
    );
    await fc.assert(
      fc.asyncProperty(
        host,
        counted('hostile keys', async (h: string) => {
          let url: string;
          try {
            url = new URL(`http://${h}/x`).href;
          } catch {
            // Not a URL: createFetch leaves it to fetch, which here is the fake (a real one rejects).
            await f(`http://${h}/x`).then(
              (r) => r.text(),
              () => undefined,
            );
            return;
          }
          const res = await f(url);
          expect(await res.text()).toBe('ok');
          expect(seen.at(-1)).toBe(url);
        }),
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('hostile keys on Redis (redisStore, the real one)', () => {
  type Client = ReturnType<typeof createClient>;
  let client: Client | undefined;
  /** Every key this run writes starts with it; they are all deleted at the end. */
  const PREFIX = `palisade-reliability-fuzz:${process.pid}:${Date.now()}:`;

  beforeAll(async () => {
    const url = await redisOrSkip('fuzz: hostile keys through redisStore');
    if (url === undefined) return;
    client = createClient({ url });
    client.on('error', () => {});
    await client.connect();
  });

  afterAll(async () => {
    if (client === undefined) return;
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${PREFIX}*`, COUNT: 1_000 })) keys.push(...batch);
    for (let i = 0; i < keys.length; i += 500) await client.unlink(keys.slice(i, i + 500));
    client.destroy();
  });

  /** Keys whose characters mean something to Redis's layout: hash tags, separators, globs, RESP. */
  const layoutKey = fc.oneof(
    fc.constantFrom(
      ':',
      '{',
      '}',
      '{}',
      '{a}',
      '}{',
      'a:b',
      '{a}:b',
      ':{',
      '*',
      '?',
      '[a]',
      '\r\n',
      '\r\n*1\r\n$4\r\nPING\r\n',
      ' ',
      '\u0000',
      '"',
      "'",
      '\\',
    ),
    fc
      .tuple(fc.constantFrom(':', '{', '}', '*', '\r\n', '\u0000'), text(8), fc.constantFrom(':', '{', '}', ''))
      .map((p) => p.join('')),
  );
  const redisKey = fc.oneof(
    hostileKey.filter((k) => k.length <= 50_000),
    layoutKey,
  );

  it('each key its own budget, neighbours independent, on one Redis; nothing throws but RateLimitedError', async (ctx) => {
    if (client === undefined) return ctx.skip();
    const store = redisStore({ client, prefix: PREFIX, timeoutMs: 2_000 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        redisKey,
        fc.oneof(
          fc.constant('limit'),
          redisKey.map((k) => k.slice(0, 200)),
        ),
        counted('hostile keys on Redis', async (key: string, name: string) => {
          // A fresh policy name per run (its hash on Redis): runs never share budgets.
          const limiter = rateLimit({ name: `${name}\u0001${run++}`, limit: 2, windowMs: '10s', store });
          // Keys that differ from `key` by a layout character must not share its budget.
          const neighbours = [
            ...new Set([`${key}:`, `{${key}}`, `${key}{`, `:${key}`, `${key}\u0000`, `${key}*`]),
          ].filter((n) => n !== key);
          const decisions = [];
          for (let i = 0; i < 3; i++) decisions.push(await limiter.consume(key));
          expect(decisions.map((d) => d.allowed)).toEqual([true, true, false]);
          expect(decisions[2]?.retryAfterMs).toBeGreaterThan(0);
          for (const n of neighbours)
            expect((await limiter.consume(n)).allowed, JSON.stringify(n.slice(0, 40))).toBe(true);
          // Through execute too: the third call is refused with the documented error, nothing else.
          const other = `${key}\u0002`;
          await expect(limiter.execute(() => 1, { key: other })).resolves.toBe(1);
          await expect(limiter.execute(() => 2, { key: other })).resolves.toBe(2);
          await expect(limiter.execute(() => 3, { key: other })).rejects.toBeInstanceOf(RateLimitedError);
        }),
      ),
      { numRuns: 300 },
    );
    // Keys shaped like RESP or hash tags did nothing to the connection.
    expect(await client.ping()).toBe('PONG');
  });
});
