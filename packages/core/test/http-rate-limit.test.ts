import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type InboundRateLimitDecision,
  type InboundRateLimiter,
  type RateLimitHeaderMode,
  RateLimitedError,
  inboundRateLimit,
  normalizeHttpResponseOptions,
  rateLimitHeaderWriter,
  rateLimitHeaders,
  rateLimitedResponse,
  requestCost,
  serializeHttpResponse,
} from '../src/index.js';

const collect = (headers: Record<string, string>, name: string, value: string): void => {
  headers[name] = value;
};

/** A limiter that answers what it is told to, and records what it was asked. */
function fakeLimiter(
  decide: (key: string, cost: number | undefined) => InboundRateLimitDecision,
): InboundRateLimiter & {
  calls: [string, number | undefined][];
} {
  const calls: [string, number | undefined][] = [];
  return {
    name: 'fake',
    limit: 10,
    windowMs: 60_000,
    calls,
    consume(key, cost) {
      calls.push([key, cost]);
      return decide(key, cost);
    },
    execute: () => Promise.reject(new Error('not used')),
  };
}

const allowed: InboundRateLimitDecision = { allowed: true, limit: 10, remaining: 7, resetMs: 18_000, retryAfterMs: 0 };
const refused: InboundRateLimitDecision = {
  allowed: false,
  limit: 10,
  remaining: 0,
  resetMs: 60_000,
  retryAfterMs: 5_500,
};

describe('rateLimitHeaderWriter', () => {
  it("writes what rateLimitHeaders gives, in every mode, for any numbers ('none' writes nothing)", () => {
    const modes: RateLimitHeaderMode[] = ['draft', 'legacy', 'both', 'none'];
    fc.assert(
      fc.property(
        fc.constantFrom(...modes),
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.option(fc.integer({ min: 1, max: 1e9 }), { nil: undefined }),
        (mode, limit, remaining, resetMs, windowMs) => {
          const http = normalizeHttpResponseOptions({ rateLimitHeaders: mode, rateLimitPolicy: 'api "v1"' });
          const write = rateLimitHeaderWriter(http, windowMs);
          const written: Record<string, string> = {};
          write?.(written, collect, { limit, remaining, resetMs });
          expect(write === undefined).toBe(mode === 'none');
          expect(written).toEqual(rateLimitHeaders({ limit, remaining, resetMs, windowMs }, http));
        },
      ),
    );
  });

  it('builds the policy header again when the limit changes', () => {
    const write = rateLimitHeaderWriter(undefined, 60_000);
    const first: Record<string, string> = {};
    const second: Record<string, string> = {};
    write?.(first, collect, { limit: 10, remaining: 1, resetMs: 0 });
    write?.(second, collect, { limit: 20, remaining: 1, resetMs: 0 });
    expect(first['ratelimit-policy']).toBe('"default";q=10;w=60');
    expect(second['ratelimit-policy']).toBe('"default";q=20;w=60');
  });
});

describe('inboundRateLimit', () => {
  const http = normalizeHttpResponseOptions();

  it('charges the key the request reads, with the cost function when there is one', () => {
    const limiter = fakeLimiter(() => allowed);
    const plain = inboundRateLimit<{ ip: string }>({ limiter, readKey: (r) => r.ip, costOf: undefined, http });
    const weighed = inboundRateLimit<{ ip: string }>({ limiter, readKey: (r) => r.ip, costOf: () => 3, http });
    expect(plain.consume({ ip: 'a' })).toBe(allowed);
    expect(weighed.consume({ ip: 'b' })).toBe(allowed);
    expect(limiter.calls).toEqual([
      ['a', undefined],
      ['b', 3],
    ]);
  });

  it('lets a throwing key or cost function throw, charging nothing', () => {
    const limiter = fakeLimiter(() => allowed);
    const step = inboundRateLimit<object>({
      limiter,
      readKey: () => {
        throw new Error('no key');
      },
      costOf: undefined,
      http,
    });
    expect(() => step.consume({})).toThrow('no key');
    expect(limiter.calls).toEqual([]);
  });

  it("answers a refusal with the same serialized 429 toHttpResponse would, the limiter's window included", () => {
    const step = inboundRateLimit<object>({
      limiter: fakeLimiter(() => refused),
      readKey: () => 'k',
      costOf: undefined,
      http,
    });
    const info = { ...refused, windowMs: 60_000 };
    const expected = serializeHttpResponse(rateLimitedResponse(info, http));
    expect(step.refusal(refused)).toEqual(expected);
    expect(step.refusal({ ...refused })).toBe(step.refusal(refused));
    const { response, error } = step.rejection(refused);
    expect(response).toEqual(rateLimitedResponse(info, http));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.retryAfterMs).toBe(5_500);
  });
});

describe('requestCost', () => {
  it("keeps a function for the adapter and hands anything else to the pattern's options", () => {
    const fn = (): number => 2;
    const pattern: Record<string, unknown> = {};
    expect(requestCost({ cost: fn }, pattern)).toBe(fn);
    expect(pattern).toEqual({});
    expect(requestCost({ cost: 4 }, pattern)).toBeUndefined();
    expect(pattern).toEqual({ cost: 4 });
    const untouched: Record<string, unknown> = {};
    expect(requestCost({}, untouched)).toBeUndefined();
    expect(untouched).toEqual({});
  });
});
