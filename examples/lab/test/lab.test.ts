import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

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
        expect(s?.p50).toBeGreaterThan(0);
        expect(s?.upstreamCalls).toBeGreaterThan(0);
      }
    }
    const flaky = by.flaky;
    expect(flaky?.palisade?.successRate).toBeGreaterThan(0.95);
    expect(flaky?.palisade?.successRate).toBeGreaterThanOrEqual(flaky?.baseline?.successRate ?? 1);
    expect(flaky?.baseline?.successRate).toBeLessThan(0.9);

    const outage = by.outage;
    expect(outage?.palisade?.successRate).toBeGreaterThanOrEqual(outage?.baseline?.successRate ?? 1);
    expect(outage?.palisade?.upstreamDuringOutage).toBeLessThan((outage?.baseline?.upstreamDuringOutage ?? 0) * 0.5);

    const tail = by['latency-tail'];
    expect(tail?.palisade?.p99).toBeLessThan(tail?.baseline?.p99 ?? 0);

    const overload = by.overload;
    expect(overload?.palisade?.successRate).toBeGreaterThan(overload?.baseline?.successRate ?? 1);

    if (!by.fleet?.skipped)
      expect(by.fleet?.palisade?.successRate).toBeGreaterThan(by.fleet?.baseline?.successRate ?? 1);

    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('Outage and recovery');
    expect(html).not.toMatch(/<script[^>]+src=|https?:\/\/(?!127\.0\.0\.1)/);
  });
});
