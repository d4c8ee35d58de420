import { HTTP_RESPONSE_DEFAULTS } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { HONO_DEFAULTS, circuitBreaker, concurrencyLimit, rateLimit, resilience, timeout } from '../src/index.js';
import { normalizeHonoOptions, normalizeKeyOptions } from '../src/options.js';

describe('@palisade/hono options', () => {
  it('normalizes {} to the documented defaults', () => {
    const { adapter, pattern, raw } = normalizeHonoOptions('rateLimit', {});
    expect({ ...adapter.http }).toEqual(HTTP_RESPONSE_DEFAULTS);
    expect(adapter.isFailureResponse).toBe(HONO_DEFAULTS.isFailureResponse);
    expect(adapter.onRejected).toBe(HONO_DEFAULTS.onRejected);
    expect(pattern).toEqual({});
    const keys = normalizeKeyOptions(raw, adapter);
    expect(keys).toEqual({
      rule: { kind: 'ip' },
      getConnInfo: HONO_DEFAULTS.getConnInfo,
      proxyHops: HONO_DEFAULTS.proxyHops,
    });
    expect(Object.isFrozen(HONO_DEFAULTS)).toBe(true);
  });

  it.each([
    [() => rateLimit({ rateLimitHeaders: 'draft-7' as never }), /"rateLimitHeaders" must be one of/],
    [() => rateLimit({ rateLimitPolicy: '' }), /"rateLimitPolicy" must be a non-empty string/],
    [() => rateLimit({ isFailureResponse: 500 as never }), /"isFailureResponse" must be a function \(got 500\)/],
    [() => rateLimit({ onRejected: 'json' as never }), /"onRejected" must be a function/],
    [() => rateLimit({ key: 'cookie' as never }), /"key" must be 'ip', 'header:<name>' or a function \(got "cookie"\)/],
    [() => rateLimit({ getConnInfo: {} as never }), /"getConnInfo" must be a function/],
    [() => rateLimit({ proxyHops: -1 }), /"proxyHops" must be an integer ≥ 0 \(got -1\)/],
    [() => rateLimit({ proxyHops: 1.5 }), /"proxyHops" must be an integer ≥ 0 \(got 1.5\)/],
    [() => timeout({ deadlineHeader: 1 as never }), /"deadlineHeader" must be true or false/],
    [() => timeout({ runWithDeadline: true as never }), /"runWithDeadline" must be a function/],
    [() => resilience({ routes: 'all' as never }), /"routes" must be an object of route keys to specs/],
    [() => resilience({ rotues: {} } as never), /unknown option "rotues"/],
    [() => concurrencyLimit({ maxConcurrent: 4, algorithm: 'aimd' } as never), /"algorithm" must be absent/],
  ])('%#: rejects a bad adapter option with a TypeError naming it', (make, message) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
    expect(make).toThrow(/^@palisade\/hono: /);
  });

  it.each([
    [() => rateLimit({ windowMs: 'soon' as never }), /^@palisade\/rate-limit: "windowMs"/],
    [() => timeout({ strategy: 'eager' as never }), /^@palisade\/timeout: "strategy"/],
    [() => circuitBreaker({ minimumCalls: 0 }), /^@palisade\/circuit-breaker: "minimumCalls"/],
    [() => concurrencyLimit({ maxQueue: -1 }), /^@palisade\/bulkhead: "maxQueue"/],
  ])('%#: leaves the pattern’s options to the pattern, which names the bad one', (make, message) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
  });
});
