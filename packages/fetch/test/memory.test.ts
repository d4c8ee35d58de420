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

  it('a host in steady use keeps its state when other routes flood the cache meanwhile', () => {
    // The table remembers each route's last host and state, and looks the key up in the cache
    // only every so often: a state evicted meanwhile is put back, not rebuilt.
    const t = new PolicyTable(
      normalizeFetchOptions({
        policy: { circuitBreaker: true },
        routes: { 'flood.test': { circuitBreaker: true } },
        maxKeys: 1,
      }),
    );
    const first = t.select('GET', 'a.test', '/', () => true);
    for (let i = 0; i < 500; i++) {
      t.select('GET', 'flood.test', `/${i}`, () => true); // evicts a.test's state from the cache
      expect(
        t.select('GET', 'a.test', '/', () => true),
        `call ${i}`,
      ).toBe(first);
    }
    expect(t.size).toBe(1);
    // Another host through the same route replaces the memo; a.test then starts afresh, as any
    // evicted host does.
    const b = t.select('GET', 'b.test', '/', () => true);
    expect(b).not.toBe(first);
    t.select('GET', 'flood.test', '/', () => true);
    expect(t.select('GET', 'a.test', '/', () => true)).not.toBe(first);
  });
});
