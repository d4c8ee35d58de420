import { noop, systemClock } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { FETCH_DEFAULTS, createFetch, normalizeFetchOptions } from '../src/index.js';

describe('createFetch() options', () => {
  it('normalizes {} to FETCH_DEFAULTS', () => {
    const normalized = normalizeFetchOptions({});
    expect({
      retryOnStatus: normalized.retryOnStatus,
      retryNonIdempotent: normalized.retryNonIdempotent,
      maxKeys: normalized.maxKeys,
      propagateDeadline: normalized.propagateDeadline,
    }).toEqual(FETCH_DEFAULTS);
    expect(normalized).toMatchObject({ fetch: undefined, policy: undefined, routes: {}, clock: systemClock });
    expect(normalizeFetchOptions(undefined)).toEqual(normalized);
    expect(Object.isFrozen(FETCH_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(FETCH_DEFAULTS.retryOnStatus)).toBe(true);
    expect(FETCH_DEFAULTS.retryOnStatus).toEqual([408, 429, 500, 502, 503, 504]);
  });

  it.each([
    [{ fetch: 'fetch' }, '"fetch" must be a function'],
    [{ policy: 'retry' }, '"policy" must be a Policy or a policy spec object'],
    [{ policy: [] }, '"policy" must be a Policy or a policy spec object'],
    [{ routes: [] }, '"routes" must be an object'],
    [{ routes: { 'api.example.com': 5 } }, '"routes["api.example.com"]" must be a Policy or a policy spec'],
    [{ retryOnStatus: 503 }, '"retryOnStatus" must be an array of HTTP statuses'],
    [{ retryOnStatus: [503, 600] }, 'not containing 600'],
    [{ retryOnStatus: [502.5] }, 'not containing 502.5'],
    [{ retryNonIdempotent: 'yes' }, '"retryNonIdempotent" must be true or false'],
    [{ maxKeys: 0 }, '"maxKeys" must be an integer ≥ 1'],
    [{ propagateDeadline: 1 }, '"propagateDeadline" must be true or false'],
    [{ clock: {} }, '"clock" must be a Clock'],
    [{ onEvent: true }, '"onEvent" must be a function'],
    [{ retries: 3 }, 'unknown option "retries"'],
  ])('%j → TypeError naming the option', (options, message) => {
    expect(() => createFetch(options as never)).toThrow(TypeError);
    expect(() => createFetch(options as never)).toThrow(message);
    expect(() => createFetch(options as never)).toThrow(/^@palisade\/fetch: /);
  });

  it('refuses anything but an options object', () => {
    expect(() => createFetch('x' as never)).toThrow('@palisade/fetch: createFetch() takes an options object');
  });

  it('names the route of a bad route key or a bad spec, at construction', () => {
    expect(() => createFetch({ routes: { 'GET a.test/x//y': noop() } })).toThrow(/route "GET a.test\/x\/\/y"/);
    expect(() => createFetch({ routes: { 'api.example.com': { retry: { maxAttempts: 0 } } } })).toThrow(
      /route "api\.example\.com".*retry.*"maxAttempts" must be an integer/,
    );
    expect(() => createFetch({ routes: { 'api.example.com': { retyr: true } as never } })).toThrow(
      /route "api\.example\.com".*unknown policy "retyr"/,
    );
    expect(() => createFetch({ policy: { timeout: 'soon' } })).toThrow(/"policy".*timeout.*"ms" must be a duration/);
  });

  // One package prefix, then where (the route key or "policy"), then the field: no "@palisade/core:"
  // or "@palisade/retry:" of the layers the message went through.
  it.each([
    [
      { routes: { 'api.example.com': { retry: { maxAttempts: 0 } } } },
      '@palisade/fetch: route "api.example.com": retry: "maxAttempts" must be an integer ≥ 1 (got 0)',
    ],
    [
      { routes: { 'GET api.example.com/users/:id': { bulkhead: { maxConcurrent: 0 } } } },
      '@palisade/fetch: route "GET api.example.com/users/:id": bulkhead: "maxConcurrent" must be an integer ≥ 1 (got 0)',
    ],
    [
      { routes: { '*.example.com': { circuitBreaker: { failureRateThreshold: 2 } } } },
      '@palisade/fetch: route "*.example.com": circuitBreaker: "failureRateThreshold" must be a fraction between 0 and 1 (got 2)',
    ],
    [
      { routes: { 'api.example.com': { retry: 5 } } },
      '@palisade/fetch: route "api.example.com": "retry" must be an options object (got 5)',
    ],
    [
      { routes: { 'api.example.com': { retyr: true } } },
      '@palisade/fetch: route "api.example.com": unknown policy "retyr" in spec (known: rateLimit, bulkhead, timeout, retry, hedge, circuitBreaker, attemptTimeout)',
    ],
    [
      { policy: { attemptTimeout: 0 } },
      '@palisade/fetch: "policy": attemptTimeout: "ms" must be a duration ≥ 1 ms (a number of ms or a string such as "250ms", "2s", "1m") (got 0)',
    ],
  ])('a bad spec in %j throws one exact message', (options, message) => {
    let thrown: unknown;
    try {
      createFetch(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as TypeError).message).toBe(message);
    // The pattern's own error stays reachable, message untouched.
    expect((thrown as TypeError).cause).toBeInstanceOf(TypeError);
  });

  it('names a bad route key under its own prefix', () => {
    expect(() => createFetch({ routes: { 'GET a.test/x//y': noop() } })).toThrow(
      /^@palisade\/fetch: route "GET a\.test\/x\/\/y" is not a valid route key: empty path segment/,
    );
  });

  it('accepts the statuses given, deduplicated', () => {
    expect(normalizeFetchOptions({ retryOnStatus: [503, 503, 429] }).retryOnStatus).toEqual([503, 429]);
    expect(normalizeFetchOptions({ retryOnStatus: [] }).retryOnStatus).toEqual([]);
  });
});
