import { noop } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { type CreateFetchOptions, normalizeFetchOptions } from '../src/index.js';
import { PolicyTable } from '../src/policy-table.js';

const table = (options: CreateFetchOptions) => new PolicyTable(normalizeFetchOptions(options));
const yes = () => true;
const no = () => false;

describe('PolicyTable', () => {
  it('is empty with neither routes nor policy, and then selects nothing', () => {
    const t = table({});
    expect(t.empty).toBe(true);
    expect(t.select('GET', 'a.test', '/', yes)).toEqual({ policy: undefined, replays: false, aborts: false });
  });

  it('a ready-made Policy is one selection for every host and method, assumed to replay', () => {
    const policy = noop();
    const t = table({ policy });
    const a = t.select('GET', 'a.test', '/', yes);
    expect(a).toEqual({ policy, replays: true, aborts: true });
    expect(t.select('POST', 'b.test', '/', no)).toBe(a);
    expect(t.size).toBe(0);
  });

  it('a spec is built once per host, and reused for that host', () => {
    const t = table({ policy: { retry: true, circuitBreaker: true } });
    const a1 = t.select('GET', 'a.test', '/x', yes);
    const a2 = t.select('GET', 'a.test', '/y', yes);
    const b = t.select('GET', 'b.test', '/x', yes);
    expect(a1).toBe(a2);
    expect(b).not.toBe(a1);
    expect(b.policy).not.toBe(a1.policy);
    expect(a1.replays).toBe(true);
    expect(a1.policy?.name).toBe('pipeline(fetch.retry, fetch.circuitBreaker)');
    expect(t.size).toBe(2);
  });

  it('non-idempotent requests get the spec without retry and hedge, sharing its other policies', () => {
    const t = table({ policy: { timeout: '1s', retry: true, hedge: true, circuitBreaker: true } });
    const idempotent = t.select('GET', 'a.test', '/', yes);
    const other = t.select('POST', 'a.test', '/', no);
    expect(idempotent.policy?.name).toBe('pipeline(fetch.timeout, fetch.retry, fetch.hedge, fetch.circuitBreaker)');
    expect(other).toEqual({ policy: expect.anything(), replays: false, aborts: true });
    expect(other.policy?.name).toBe('pipeline(fetch.timeout, fetch.circuitBreaker)');
    const shared = (p: unknown) => (p as { policies: unknown[] }).policies;
    expect(shared(other.policy)[1]).toBe(shared(idempotent.policy)[3]); // the same breaker
  });

  it('asks about idempotency only when it matters', () => {
    let asked = 0;
    const ask = () => {
      asked++;
      return false;
    };
    table({ policy: { circuitBreaker: true } }).select('POST', 'a.test', '/', ask);
    table({ policy: noop() }).select('POST', 'a.test', '/', ask);
    table({ policy: { retry: true }, retryNonIdempotent: true }).select('POST', 'a.test', '/', ask);
    expect(asked).toBe(1); // only the last asked, and the answer did not change the choice
    const t = table({ policy: { retry: true }, retryNonIdempotent: true });
    expect(t.select('POST', 'a.test', '/', no)).toBe(t.select('GET', 'a.test', '/', yes));
  });

  it('each route keeps its own state, per host when its key matches several', () => {
    const t = table({
      policy: { circuitBreaker: true },
      routes: {
        'api.test': { circuitBreaker: true },
        'GET api.test/search': { hedge: true },
        '*.cdn.test': { timeout: '1s' },
      },
    });
    const host = t.select('GET', 'api.test', '/users', yes);
    const search = t.select('GET', 'api.test', '/search', yes);
    const fallback = t.select('GET', 'other.test', '/', yes);
    expect(host.policy?.name).toBe('api.test.circuitBreaker');
    expect(search.policy?.name).toBe('GET api.test/search.hedge');
    expect(fallback.policy?.name).toBe('fetch.circuitBreaker');
    const cdn1 = t.select('GET', 'a.cdn.test', '/', yes);
    const cdn2 = t.select('GET', 'b.cdn.test', '/', yes);
    expect(cdn1.policy?.name).toBe('*.cdn.test.timeout');
    expect(cdn1.policy).not.toBe(cdn2.policy);
  });

  it('knows which specs may abort an attempt themselves (timeouts, hedges)', () => {
    const aborts = (policy: CreateFetchOptions['policy'], idempotent = true) =>
      table({ policy }).select('GET', 'a.test', '/', () => idempotent).aborts;
    expect(aborts({ retry: true, circuitBreaker: true, bulkhead: true })).toBe(false);
    expect(aborts({ timeout: '1s' })).toBe(true);
    expect(aborts({ attemptTimeout: '1s', retry: true })).toBe(true);
    expect(aborts({ hedge: true })).toBe(true);
    expect(aborts({ hedge: true, circuitBreaker: true }, false)).toBe(false); // the POST pipeline has no hedge
  });
});
