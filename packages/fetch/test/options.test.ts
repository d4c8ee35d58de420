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

  it('accepts the statuses given, deduplicated', () => {
    expect(normalizeFetchOptions({ retryOnStatus: [503, 503, 429] }).retryOnStatus).toEqual([503, 429]);
    expect(normalizeFetchOptions({ retryOnStatus: [] }).retryOnStatus).toEqual([]);
  });
});
