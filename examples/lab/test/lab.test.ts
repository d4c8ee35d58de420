import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { ITEMS_ROUTE, ORDERS_ROUTE } from '../src/run.js';
import type { RunSummary } from '../src/stats.js';

const servedShare = (s: RunSummary | undefined, route: string) => {
  const t = s?.byRoute[route];
  return t && t.requests > 0 ? t.served / t.requests : Number.NaN;
};

describe('palisade lab --quick', () => {
  it('measures every scenario on real processes and palisade comes out ahead', { timeout: 400_000 }, async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'palisade-lab-'));
    const report = join(dir, 'report.html');
    const outcomes = await main(['--quick', '--report', report]);
    const by = Object.fromEntries(outcomes.map((o) => [o.scenario, o]));
    expect(Object.keys(by).sort()).toEqual(['flaky', 'fleet', 'latency-tail', 'outage', 'overload']);

    for (const o of outcomes) {
      if (o.skipped) {
        // Only the fleet scenario may be skipped, and only when Redis is down and we are not in CI.
        expect(o.scenario).toBe('fleet');
        expect(process.env.CI).toBeFalsy();
        continue;
      }
      for (const s of [o.baseline, o.palisade]) {
        expect(s?.requests).toBeGreaterThan(60);
        expect(s?.successRate).toBeGreaterThanOrEqual(0);
        expect(s?.successRate).toBeLessThanOrEqual(1);
        expect(s?.freshRate).toBeLessThanOrEqual(s?.successRate ?? 0);
        expect(s?.p50).toBeGreaterThan(0);
        expect(s?.upstreamCalls).toBeGreaterThan(0);
        expect(Number.isFinite(s?.nines)).toBe(true);
        // Both frameworks answered, in every scenario and both modes.
        expect(s?.byFramework.express?.served, `${o.scenario}: express served`).toBeGreaterThan(0);
        expect(s?.byFramework.hono?.served, `${o.scenario}: hono served`).toBeGreaterThan(0);
        // The second route was exercised: about a fifth of the requests, answered and ordered upstream.
        const orders = s?.byRoute[ORDERS_ROUTE];
        expect(orders?.served, `${o.scenario}: orders served`).toBeGreaterThan(0);
        expect((orders?.requests ?? 0) / (s?.requests ?? 1)).toBeCloseTo(0.2, 1);
        expect(s?.upstreamOrders).toBeGreaterThan(0);
        expect(s?.byRoute[ITEMS_ROUTE]?.served).toBeGreaterThan(0);
      }
    }
    // Only palisade serves stale copies.
    for (const o of outcomes) expect(o.baseline?.stale ?? 0).toBe(0);

    const flaky = by.flaky;
    expect(flaky?.palisade?.successRate).toBeGreaterThanOrEqual(flaky?.baseline?.successRate ?? 1);
    expect(flaky?.baseline?.successRate).toBeLessThan(0.9);
    // Retries rescue the reads; orders (not idempotent) are not retried.
    expect(servedShare(flaky?.palisade, ITEMS_ROUTE)).toBeGreaterThan(0.95);
    expect(flaky?.palisade?.successRate).toBeGreaterThan(0.9);

    const outage = by.outage;
    expect(outage?.palisade?.successRate).toBeGreaterThanOrEqual(outage?.baseline?.successRate ?? 1);
    expect(outage?.palisade?.upstreamDuringOutage).toBeLessThan((outage?.baseline?.upstreamDuringOutage ?? 0) * 0.5);
    // The fallback's stale copies count as served, and the fresh share says how many they were.
    expect(outage?.palisade?.stale).toBeGreaterThan(0);
    expect(outage?.palisade?.freshRate).toBeLessThan(outage?.palisade?.successRate ?? 0);
    // Recovery is measured for both runs; the breakers stay open a while after the outage.
    expect(Number.isFinite(outage?.baseline?.recoverMs)).toBe(true);
    expect(Number.isFinite(outage?.palisade?.recoverMs)).toBe(true);
    expect(outage?.palisade?.recoverMs).toBeGreaterThan(outage?.baseline?.recoverMs ?? 0);

    const tail = by['latency-tail'];
    expect(tail?.palisade?.p99).toBeLessThan(tail?.baseline?.p99 ?? 0);

    const overload = by.overload;
    expect(overload?.palisade?.successRate).toBeGreaterThan(overload?.baseline?.successRate ?? 1);

    if (!by.fleet?.skipped) {
      expect(by.fleet?.palisade?.successRate).toBeGreaterThan(by.fleet?.baseline?.successRate ?? 1);
      // 3 services: Express, Hono, Express.
      const fleet = by.fleet?.palisade?.byFramework;
      expect(fleet?.express?.requests).toBeGreaterThan(fleet?.hono?.requests ?? 0);
    }

    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Outage and recovery');
    expect(html).toContain('fresh');
    expect(html).not.toMatch(/<script[^>]+src=|https?:\/\/(?!127\.0\.0\.1)/);
  });
});
