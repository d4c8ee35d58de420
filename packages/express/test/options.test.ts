import { HTTP_RESPONSE_DEFAULTS } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { EXPRESS_DEFAULTS, circuitBreaker, concurrencyLimit, rateLimit, resilience, timeout } from '../src/index.js';
import { normalizeExpressOptions } from '../src/options.js';

describe('@palisade/express options', () => {
  it('normalizes {} to the documented defaults', () => {
    const { adapter, pattern } = normalizeExpressOptions('rateLimit', {});
    expect({ ...adapter.http }).toEqual(HTTP_RESPONSE_DEFAULTS);
    expect(adapter.isFailureResponse).toBe(EXPRESS_DEFAULTS.isFailureResponse);
    expect(adapter.onRejected).toBe(EXPRESS_DEFAULTS.onRejected);
    expect(pattern).toEqual({});
    expect(Object.isFrozen(EXPRESS_DEFAULTS)).toBe(true);
    expect(EXPRESS_DEFAULTS.key).toBe('ip');
    expect([499, 500, 503].map((status) => EXPRESS_DEFAULTS.isFailureResponse({ status }))).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('hands the pattern its own options, and keeps the adapter’s', () => {
    const onRejected = () => undefined;
    const { adapter, pattern, raw } = normalizeExpressOptions(
      'rateLimit',
      { limit: 5, windowMs: '1s', onRejected, rateLimitHeaders: 'both', key: 'ip' },
      ['key'],
    );
    expect(pattern).toEqual({ limit: 5, windowMs: '1s' });
    expect(adapter.onRejected).toBe(onRejected);
    expect(adapter.http.rateLimitHeaders).toBe('both');
    expect(raw.key).toBe('ip');
  });

  it.each([
    [() => rateLimit({ rateLimitHeaders: 'draft-7' as never }), /"rateLimitHeaders" must be one of/],
    [() => rateLimit({ rateLimitPolicy: 'tab\there' }), /"rateLimitPolicy" must be a string of printable ASCII/],
    [() => rateLimit({ problemTypeBase: '' }), /"problemTypeBase" must be a non-empty string/],
    [() => rateLimit({ isFailureResponse: 500 as never }), /"isFailureResponse" must be a function \(got 500\)/],
    [() => rateLimit({ onWarning: 'log' as never }), /"onWarning" must be a function/],
    [() => rateLimit({ onRejected: {} as never }), /"onRejected" must be a function \(got an object\)/],
    [() => rateLimit({ key: 'cookie' as never }), /"key" must be 'ip', 'header:<name>' or a function \(got "cookie"\)/],
    [
      () => rateLimit({ key: 'header:bad header' as never }),
      /"key" must be 'ip', 'header:<name>' with a valid header name/,
    ],
    [() => timeout({ deadlineHeader: 'yes' as never }), /"deadlineHeader" must be true or false/],
    [() => resilience({ routes: [] as never }), /"routes" must be an object of route keys to specs/],
    [() => resilience({ rotues: {} } as never), /unknown option "rotues"/],
    [
      () => concurrencyLimit({ maxConcurrent: 4, algorithm: 'aimd' } as never),
      /"algorithm" must be absent when "maxConcurrent" is set/,
    ],
    [() => rateLimit(5 as never), /rateLimit\(\) takes an options object \(got 5\)/],
  ])('%#: rejects a bad adapter option with a TypeError naming it', (make, message) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
    expect(make).toThrow(/^@palisade\/express: /);
  });

  it.each([
    [() => rateLimit({ limit: 0 }), /^@palisade\/rate-limit: "limit" must be an integer ≥ 1 \(got 0\)/],
    [() => rateLimit({ cost: 'lots' as never }), /^@palisade\/rate-limit: "cost"/],
    [() => rateLimit({ limt: 5 } as never), /^@palisade\/rate-limit: unknown option "limt"/],
    [() => timeout({ ms: 0 }), /^@palisade\/timeout: "ms" must be a duration ≥ 1 ms/],
    [() => circuitBreaker({ failureRateThreshold: 2 }), /^@palisade\/circuit-breaker: "failureRateThreshold"/],
    [() => concurrencyLimit({ maxConcurrent: 0 }), /^@palisade\/bulkhead: "maxConcurrent" must be an integer ≥ 1/],
    [() => concurrencyLimit({ algorithm: 'tcp' as never }), /^@palisade\/bulkhead: "algorithm" must be one of/],
  ])('%#: leaves the pattern’s options to the pattern, which names the bad one', (make, message) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
  });

  it('builds every middleware from no options at all', () => {
    for (const make of [rateLimit, concurrencyLimit, timeout, circuitBreaker]) expect(typeof make()).toBe('function');
    expect(typeof resilience({})).toBe('function');
  });
});
