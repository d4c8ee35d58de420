import { type ResilienceEvent, BrokenCircuitError } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { createFetch, normalizeFetchOptions } from '../src/index.js';
import { PolicyTable } from '../src/policy-table.js';
import { fakeFetch } from './helpers/fake-fetch.js';

describe('per-host state stays bounded', () => {
  it('a flood of distinct hosts never holds more than maxKeys states', () => {
    const t = new PolicyTable(normalizeFetchOptions({ policy: { circuitBreaker: true, retry: true }, maxKeys: 100 }));
    for (let i = 0; i < 20_000; i++) t.select('GET', `h${i}.test`, '/', () => true);
    expect(t.size).toBe(100);
  });

  it('the least recently used host is forgotten first (its breaker starts afresh)', async () => {
    const events: ResilienceEvent[] = [];
    const base = fakeFetch([new Response(null, { status: 500 })]);
    const f = createFetch({
      fetch: base,
      maxKeys: 2,
      policy: { circuitBreaker: { minimumCalls: 1, window: { kind: 'count', size: 1 } } },
      onEvent: (e) => events.push(e),
    });
    await f('http://a.test/');
    await expect(f('http://a.test/')).rejects.toBeInstanceOf(BrokenCircuitError);
    await f('http://b.test/');
    await f('http://c.test/'); // a.test is evicted
    const before = base.calls.length;
    expect((await f('http://a.test/')).status).toBe(500); // a fresh, closed breaker let it through
    expect(base.calls.length).toBe(before + 1);
  });
});
