import { systemClock } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_DEFAULTS,
  METRICS_DEFAULTS,
  createMetrics,
  dashboard,
  normalizeMetricsOptions,
  prometheusHandler,
  prometheusText,
} from '../src/index.js';

describe('createMetrics options', () => {
  it('normalizes {} to the defaults', () => {
    const { clock, meter, ...rest } = normalizeMetricsOptions({});
    expect(rest).toEqual({ ...METRICS_DEFAULTS });
    expect(clock).toBe(systemClock);
    expect(meter).toBeUndefined();
    expect(normalizeMetricsOptions()).toEqual(normalizeMetricsOptions({}));
    expect(Object.isFrozen(METRICS_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(METRICS_DEFAULTS.buckets)).toBe(true);
  });

  it('accepts durations as strings', () => {
    expect(normalizeMetricsOptions({ historyMs: '10m', resolutionMs: '5s', recentMs: '2m' })).toMatchObject({
      historyMs: 600_000,
      resolutionMs: 5_000,
      recentMs: 120_000,
    });
    // recentMs defaults to the history when the history is shorter than a minute.
    expect(normalizeMetricsOptions({ historyMs: '30s' }).recentMs).toBe(30_000);
  });

  it.each([
    [{ maxKeysPerPolicy: -1 }, 'maxKeysPerPolicy'],
    [{ maxKeysPerPolicy: 1.5 }, 'maxKeysPerPolicy'],
    [{ maxPolicies: 0 }, 'maxPolicies'],
    [{ buckets: [] }, 'buckets'],
    [{ buckets: [5, 2] }, 'buckets'],
    [{ buckets: [0, 1] }, 'buckets'],
    [{ buckets: [1, Number.POSITIVE_INFINITY] }, 'buckets'],
    [{ buckets: 'fast' }, 'buckets'],
    [{ historyMs: 0 }, 'historyMs'],
    [{ historyMs: '5 minutes' }, 'historyMs'],
    [{ resolutionMs: 0 }, 'resolutionMs'],
    [{ resolutionMs: '10m' }, 'resolutionMs'],
    [{ historyMs: '2h', resolutionMs: 1_000 }, 'resolutionMs'],
    [{ recentMs: '10m' }, 'recentMs'],
    [{ recentMs: 10 }, 'recentMs'],
    [{ maxTransitions: -1 }, 'maxTransitions'],
    [{ clock: {} }, 'clock'],
    [{ meter: {} }, 'meter'],
    [{ maxKeys: 10 }, 'maxKeys'],
  ])('%o → TypeError naming "%s"', (options, name) => {
    expect(() => createMetrics(options as never)).toThrow(TypeError);
    expect(() => createMetrics(options as never)).toThrow(new RegExp(`^@palisade/metrics: .*"${name}"`));
  });

  it('takes only an options object', () => {
    expect(() => createMetrics(42 as never)).toThrow(/createMetrics\(\) takes an options object \(got 42\)/);
  });
});

describe('exporter and dashboard options', () => {
  it('require the sink of createMetrics()', () => {
    for (const call of [
      () => prometheusText({ metrics: {} as never }),
      () => prometheusHandler({ metrics: undefined as never }),
      () => dashboard({ metrics: { onEvent() {} } as never }),
    ]) {
      expect(call).toThrow(TypeError);
      expect(call).toThrow(/"metrics" must be the result of createMetrics\(\)/);
    }
  });

  it.each([
    [{ keys: 'yes' }, 'keys'],
    [{ key: true }, 'key'],
  ])('prometheus %o → TypeError naming "%s"', (options, name) => {
    const metrics = createMetrics();
    for (const call of [
      () => prometheusText({ metrics, ...(options as object) } as never),
      () => prometheusHandler({ metrics, ...(options as object) } as never),
    ]) {
      expect(call).toThrow(TypeError);
      expect(call).toThrow(new RegExp(`^@palisade/metrics: .*"${name}"`));
    }
  });

  it.each([
    [{ title: '' }, 'title'],
    [{ intervalMs: 10 }, 'intervalMs'],
    [{ intervalMs: '1s' }, 'intervalMs'],
    [{ topKeys: -1 }, 'topKeys'],
    [{ latencyWindowMs: 1 }, 'latencyWindowMs'],
    [{ latencyWindowMs: 3_600_000 }, 'latencyWindowMs'],
    [{ theme: 'light' }, 'theme'],
  ])('dashboard %o → TypeError naming "%s"', (options, name) => {
    const call = () => dashboard({ metrics: createMetrics(), ...(options as object) } as never);
    expect(call).toThrow(TypeError);
    expect(call).toThrow(new RegExp(`^@palisade/metrics: .*"${name}"`));
  });

  it('dashboard defaults are frozen and documented', () => {
    expect(DASHBOARD_DEFAULTS).toEqual({ title: 'palisade', intervalMs: 1_000, topKeys: 5, latencyWindowMs: 10_000 });
    expect(Object.isFrozen(DASHBOARD_DEFAULTS)).toBe(true);
  });
});
