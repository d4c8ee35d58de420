import type { ResilienceEvent } from '@palisade/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Summary, main } from '../src/main.js';

let summary: Summary;
const lines: string[] = [];

// main() starts both upstreams and closes them before it returns.
beforeAll(async () => {
  summary = await main({ log: (line) => lines.push(line) });
}, 60_000);

const ofType = <T extends ResilienceEvent['type']>(type: T) =>
  summary.events.filter((e): e is Extract<ResilienceEvent, { type: T }> => e.type === type);

describe('fetch-client example', () => {
  it('gets the order from the flaky host: retried once, no sooner than its Retry-After', () => {
    expect(summary.order).toMatchObject({ status: 200, body: { id: '1', status: 'shipped' }, requests: 2 });
    const retries = ofType('retry').filter((e) => e.name.endsWith('.retry') && e.name !== 'legacy.retry');
    expect(retries.length).toBeGreaterThan(0);
    // Retry-After: 1 is the floor of the delay.
    for (const e of retries) expect(e.delayMs).toBeGreaterThanOrEqual(1_000);
  });

  it('retries a POST only when it carries an Idempotency-Key', () => {
    expect(summary.postWithoutKey).toMatchObject({ status: 503, requests: 1 });
    expect(summary.postWithKey).toMatchObject({ status: 201, body: { id: 'order-42' }, requests: 2 });
    expect(summary.upstreams.orders.requests['POST /orders']).toBe(3);
  });

  it("opens the legacy route's breaker, and only that route's", () => {
    expect(summary.legacy.map((o) => o.status ?? o.error)).toEqual([
      500,
      500,
      'PALISADE_BROKEN_CIRCUIT',
      'PALISADE_BROKEN_CIRCUIT',
    ]);
    expect(summary.legacy.map((o) => o.requests)).toEqual([2, 2, 0, 0]);
    expect(summary.legacy[2]?.retryAfterMs).toBeGreaterThan(0);
    expect(summary.legacyBreaker).toBe('open');
    expect(summary.upstreams.orders.requests['GET /legacy/report']).toBe(4);
    expect(ofType('circuit.open').map((e) => e.name)).toEqual(['legacy.circuitBreaker']);
    // The orders host has its own breaker, still closed.
    expect(summary.orderAfterLegacy).toMatchObject({ status: 200, body: { id: '2' } });
  });

  it('hedges the search past the slow replica and cancels the losing request', () => {
    expect(summary.search).toMatchObject({ status: 200, body: { q: 'shoes', replica: 'fast' }, requests: 2 });
    expect(ofType('hedge.sent').map((e) => e.attempt)).toEqual([2]);
    expect(ofType('hedge.won').map((e) => e.attempt)).toEqual([2]);
    expect(summary.upstreams.search.served).toEqual({ slow: 1, fast: 1 });
    expect(summary.upstreams.search.slowCancelled).toBe(1);
  });

  it('prints each call and its events', () => {
    expect(lines).toContain('→ GET /orders/1');
    expect(lines.some((line) => /^ {4}circuit\.open +legacy\.circuitBreaker/.test(line))).toBe(true);
  });
});
