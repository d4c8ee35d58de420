import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  DeadlineExceededError,
  HTTP_RESPONSE_DEFAULTS,
  RateLimitedError,
  RetryBudgetExhaustedError,
  TimeoutError,
  normalizeHttpResponseOptions,
  rateLimitHeaders,
  rateLimitedResponder,
  retryAfterSeconds,
  toHttpResponse,
} from '../src/index.js';

const limited = new RateLimitedError({
  limit: 100,
  remaining: 0,
  resetMs: 16_200,
  windowMs: 60_000,
  retryAfterMs: 1_500,
});

describe('toHttpResponse', () => {
  it('maps RateLimitedError to 429 with Retry-After and the draft RateLimit headers', () => {
    expect(toHttpResponse(limited)).toEqual({
      status: 429,
      headers: {
        'content-type': 'application/problem+json',
        'retry-after': '2',
        'ratelimit-policy': '"default";q=100;w=60',
        ratelimit: '"default";r=0;t=17',
      },
      body: {
        type: 'about:blank',
        title: 'Too Many Requests',
        status: 429,
        detail: 'Rate limit exceeded: retry after 2 s.',
        code: 'PALISADE_RATE_LIMITED',
      },
    });
  });

  it('sends the legacy trio, both sets or none on request', () => {
    expect(toHttpResponse(limited, { rateLimitHeaders: 'legacy' })?.headers).toEqual({
      'content-type': 'application/problem+json',
      'retry-after': '2',
      'ratelimit-limit': '100',
      'ratelimit-remaining': '0',
      'ratelimit-reset': '17',
    });
    expect(Object.keys(toHttpResponse(limited, { rateLimitHeaders: 'both' })?.headers ?? {}).sort()).toEqual([
      'content-type',
      'ratelimit',
      'ratelimit-limit',
      'ratelimit-policy',
      'ratelimit-remaining',
      'ratelimit-reset',
      'retry-after',
    ]);
    expect(toHttpResponse(limited, { rateLimitHeaders: 'none' })?.headers).toEqual({
      'content-type': 'application/problem+json',
      'retry-after': '2',
    });
  });

  it('names the quota policy and escapes it as a structured-field string', () => {
    const headers = toHttpResponse(limited, { rateLimitPolicy: 'per "user"' })?.headers;
    expect(headers?.['ratelimit-policy']).toBe('"per \\"user\\"";q=100;w=60');
    expect(headers?.ratelimit).toBe('"per \\"user\\"";r=0;t=17');
  });

  it('omits w when the window is unknown', () => {
    const error = new RateLimitedError({ limit: 5, remaining: 0, resetMs: 900, retryAfterMs: 200 });
    expect(toHttpResponse(error)?.headers).toMatchObject({
      'ratelimit-policy': '"default";q=5',
      ratelimit: '"default";r=0;t=1',
      'retry-after': '1',
    });
  });

  it.each([
    [new BulkheadRejectedError('full'), 503, 'PALISADE_BULKHEAD_REJECTED', 'bulkhead-full'],
    [new BulkheadRejectedError('queue-timeout'), 503, 'PALISADE_BULKHEAD_REJECTED', 'bulkhead-queue-timeout'],
    [new BrokenCircuitError('open', { retryAfterMs: 4_001 }), 503, 'PALISADE_BROKEN_CIRCUIT', 'circuit-open'],
    [new RetryBudgetExhaustedError(), 503, 'PALISADE_RETRY_BUDGET_EXHAUSTED', 'retry-budget-exhausted'],
    [new TimeoutError(250), 504, 'PALISADE_TIMEOUT', 'timeout'],
    [new DeadlineExceededError(1_000), 504, 'PALISADE_DEADLINE_EXCEEDED', 'deadline-exceeded'],
  ])('maps %s to %i problem+json', (error, status, code, slug) => {
    const response = toHttpResponse(error, { problemTypeBase: 'https://api.example.com/problems/' });
    expect(response?.status).toBe(status);
    expect(response?.body).toMatchObject({ status, code, type: `https://api.example.com/problems/${slug}` });
    expect(response?.headers['content-type']).toBe('application/problem+json');
    expect(typeof response?.body.detail).toBe('string');
    expect(response?.body.title).toBe(status === 503 ? 'Service Unavailable' : 'Gateway Timeout');
  });

  it('adds Retry-After to a 503 only when the error says when to come back', () => {
    expect(toHttpResponse(new BrokenCircuitError('open', { retryAfterMs: 4_001 }))?.headers['retry-after']).toBe('5');
    expect(toHttpResponse(new BulkheadRejectedError('full'))?.headers).not.toHaveProperty('retry-after');
    expect(toHttpResponse(new TimeoutError(10))?.headers).not.toHaveProperty('retry-after');
  });

  it('leaves anything that is not a palisade error alone', () => {
    expect(toHttpResponse(new Error('boom'))).toBeUndefined();
    expect(toHttpResponse('nope')).toBeUndefined();
    expect(toHttpResponse(undefined)).toBeUndefined();
  });

  it('maps a branded error from a second copy of core', () => {
    const foreign = Object.assign(new Error('x'), { code: 'PALISADE_TIMEOUT', timeoutMs: 5 });
    Object.defineProperty(foreign, Symbol.for('palisade.resilience-error'), { value: true });
    expect(toHttpResponse(foreign)?.status).toBe(504);
  });
});

describe('rateLimitHeaders', () => {
  it('builds the headers of an allowed response', () => {
    expect(rateLimitHeaders({ limit: 100, remaining: 42, resetMs: 16_001, windowMs: 60_000 })).toEqual({
      'ratelimit-policy': '"default";q=100;w=60',
      ratelimit: '"default";r=42;t=17',
    });
  });

  it('never writes negative or fractional numbers', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e9, noNaN: true }),
        fc.double({ min: -1e6, max: 1e9, noNaN: true }),
        fc.double({ min: -1e6, max: 1e9, noNaN: true }),
        (limit, remaining, resetMs) => {
          const headers = rateLimitHeaders({ limit, remaining, resetMs }, { rateLimitHeaders: 'both' });
          for (const value of Object.values(headers)) {
            for (const n of value.match(/-?\d+(\.\d+)?(e[+-]?\d+)?/g) ?? []) {
              expect(Number.isInteger(Number(n)) && Number(n) >= 0).toBe(true);
            }
          }
        },
      ),
    );
  });
});

describe('retryAfterSeconds', () => {
  it.each([
    [0, 0],
    [-5, 0],
    [1, 1],
    [999, 1],
    [1_000, 1],
    [1_001, 2],
    [60_000, 60],
  ])('%i ms → %i s', (ms, s) => expect(retryAfterSeconds(ms)).toBe(s));

  it('stays a valid delay-seconds / sf-integer (at most 15 digits) for absurd and non-finite waits', () => {
    expect(retryAfterSeconds(Number.POSITIVE_INFINITY)).toBe(999_999_999_999_999);
    expect(retryAfterSeconds(1e300)).toBe(999_999_999_999_999);
    expect(retryAfterSeconds(Number.NaN)).toBe(0);
  });
});

describe('header values from any numbers (found by the reliability fuzzing)', () => {
  const SF_INT = '(?:0|[1-9][0-9]{0,14})';
  it('every rate-limit header and Retry-After is an sf-integer, whatever a store reports', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 1e21, 1e300, -0, 2 ** 53),
        fc.constantFrom('limit', 'remaining', 'resetMs', 'windowMs', 'retryAfterMs'),
        (value, field) => {
          const info = {
            limit: 10,
            remaining: 1,
            resetMs: 1_000,
            windowMs: 60_000,
            retryAfterMs: 1_000,
            [field]: value,
          };
          const { headers } = toHttpResponse(new RateLimitedError(info), { rateLimitHeaders: 'both' }) as {
            headers: Record<string, string>;
          };
          expect(headers['ratelimit-policy']).toMatch(new RegExp(`^"default";q=${SF_INT}(;w=${SF_INT})?$`));
          expect(headers.ratelimit).toMatch(new RegExp(`^"default";r=${SF_INT};t=${SF_INT}$`));
          for (const name of ['retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset']) {
            expect(headers[name]).toMatch(new RegExp(`^${SF_INT}$`));
          }
        },
      ),
    );
  });
});

describe('HTTP mapping options', () => {
  it('normalizes {} to the documented defaults, once', () => {
    const normalized = normalizeHttpResponseOptions({});
    expect({ ...normalized }).toEqual(HTTP_RESPONSE_DEFAULTS);
    expect(Object.isFrozen(HTTP_RESPONSE_DEFAULTS)).toBe(true);
    expect(normalizeHttpResponseOptions(normalized)).toBe(normalized);
  });

  it.each([
    [{ rateLimitHeaders: 'draft-7' }, /"rateLimitHeaders" must be one of 'draft', 'legacy', 'both', 'none'/],
    [{ rateLimitPolicy: '' }, /"rateLimitPolicy" must be a non-empty string/],
    [{ rateLimitPolicy: 'tab\there' }, /"rateLimitPolicy" must be a string of printable ASCII/],
    [{ problemTypeBase: 5 }, /"problemTypeBase" must be a non-empty string/],
    [{ rateLimitHeader: 'draft' }, /unknown option "rateLimitHeader"/],
  ])('rejects %j with a TypeError naming it', (options, message) => {
    expect(() => normalizeHttpResponseOptions(options as never)).toThrow(TypeError);
    expect(() => normalizeHttpResponseOptions(options as never)).toThrow(message);
    expect(() => toHttpResponse(limited, options as never)).toThrow(/^@palisade\/core: /);
  });
});

describe('rateLimitedResponder', () => {
  it('serializes the 429 of rateLimitedResponse, with its content-length', () => {
    const respond = rateLimitedResponder();
    const info = { limit: 100, remaining: 0, resetMs: 16_200, windowMs: 60_000, retryAfterMs: 1_500 };
    const serialized = respond(info);
    const plain = toHttpResponse(limited);
    expect(serialized.status).toBe(429);
    expect(JSON.parse(serialized.body)).toEqual(plain?.body);
    expect(serialized.headers).toEqual({
      ...plain?.headers,
      'content-length': String(Buffer.byteLength(serialized.body)),
    });
    expect(Object.isFrozen(serialized) && Object.isFrozen(serialized.headers)).toBe(true);
  });

  it('hands back the same object while the shown numbers repeat, and a new one when they change', () => {
    const respond = rateLimitedResponder({ rateLimitHeaders: 'both' });
    const base = { limit: 10, remaining: 0, resetMs: 5_000, windowMs: 10_000, retryAfterMs: 900 };
    const first = respond(base);
    expect(respond({ ...base, resetMs: 4_500, retryAfterMs: 400 })).toBe(first); // same whole seconds
    const later = respond({ ...base, retryAfterMs: 1_200 });
    expect(later).not.toBe(first);
    expect(later.headers['retry-after']).toBe('2');
    expect(respond({ ...base, retryAfterMs: 1_200, remaining: 0.5 })).toBe(later); // floor(0.5) = 0
    expect(respond({ ...base, retryAfterMs: 1_200, limit: 11 }).headers['ratelimit-limit']).toBe('11');
  });
});
