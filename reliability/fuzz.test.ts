// Bad input: fast-check fuzzing of every parser palisade has — durations, Retry-After, the deadline
// header, route keys, declarative specs, the IETF rate-limit header values it writes — and hostile
// keys (huge, unicode, prototype names) through every keyed state. A parser may only answer with
// its documented error: a TypeError at construction, `undefined` from the lenient ones. Nothing
// may pollute a prototype, grow past its bound, or hang.
import { type Server, createServer, validateHeaderValue } from 'node:http';
import { bulkhead } from '@palisade/bulkhead';
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
  compileRoutes,
  formatDeadlineHeader,
  fromSpec,
  isResilienceError,
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
import { retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';
import express from 'express';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { writeArtifact } from './harness.js';

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
