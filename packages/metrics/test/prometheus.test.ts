import { FakeClock } from '@palisade/core/testing';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PROMETHEUS_CONTENT_TYPE,
  PROMETHEUS_METRICS,
  createMetrics,
  prometheusHandler,
  prometheusText,
  registerPrometheus,
} from '../src/index.js';
import { emitter } from './fixtures/events.js';
import { parseExposition, sampleValue } from './fixtures/prometheus-parse.js';
import { type Running, expressServer, honoServer, nodeServer } from './fixtures/servers.js';

const T0 = 1_700_000_000_000;

function busyMetrics() {
  const clock = new FakeClock({ now: T0 });
  const metrics = createMetrics({ clock });
  const cb = emitter(metrics.onEvent, 'circuit-breaker', 'payments', () => clock.now());
  for (const ms of [3, 8, 15, 40, 120]) cb({ type: 'success', durationMs: ms, key: 'eu' });
  cb({ type: 'failure', durationMs: 900, error: new Error('503'), key: 'us' });
  cb({ type: 'circuit.open', failureRate: 0.6, slowCallRate: 0, openMs: 5_000 });
  cb({ type: 'circuit.rejected', state: 'open' });
  cb({ type: 'circuit.rejected', state: 'open' });
  const bh = emitter(metrics.onEvent, 'bulkhead', 'db "primary"\\pool\nA', () => clock.now());
  for (let queued = 1; queued <= 5; queued++) bh({ type: 'bulkhead.queued', queued });
  bh({ type: 'bulkhead.dequeued', queued: 4, reason: 'queue-timeout' });
  bh({ type: 'bulkhead.rejected', reason: 'full' });
  emitter(metrics.onEvent, 'bulkhead', 'adaptive', () => clock.now())({
    type: 'limit.changed',
    limit: 24,
    previous: 20,
  });
  return metrics;
}

const servers: Running[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('Prometheus text exposition', () => {
  it.each([
    ['node:http', (h: ReturnType<typeof prometheusHandler>) => nodeServer(h), '/metrics'],
    ['Express', (h: ReturnType<typeof prometheusHandler>) => expressServer('/metrics', h), '/metrics'],
    ['Express app.use', (h: ReturnType<typeof prometheusHandler>) => expressServer('/metrics', h), '/metrics-mounted'],
    ['Hono', (h: ReturnType<typeof prometheusHandler>) => honoServer('/metrics', h), '/metrics'],
    ['Hono app.mount', (h: ReturnType<typeof prometheusHandler>) => honoServer('/metrics', h), '/metrics-mounted'],
  ])('is scraped over real HTTP from %s and parses as valid exposition', async (_name, start, path) => {
    const metrics = busyMetrics();
    const server = await start(prometheusHandler({ metrics }));
    servers.push(server);
    const res = await fetch(`${server.url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const families = parseExposition(await res.text());

    expect([...families.keys()]).toEqual([
      'palisade_events_total',
      'palisade_call_duration_seconds',
      'palisade_circuit_state',
      'palisade_bulkhead_queued_calls',
      'palisade_concurrency_limit',
      'palisade_tracked_keys',
      'palisade_evicted_keys_total',
    ]);
    for (const family of families.values()) {
      const declared = PROMETHEUS_METRICS.find((m) => m.name === family.name);
      expect(family.type).toBe(declared?.type);
      expect(family.help).toBe(declared?.help);
      for (const sample of family.samples) {
        const labels = sample.name.endsWith('_bucket') ? declared?.labels : declared?.labels.filter((l) => l !== 'le');
        expect(Object.keys(sample.labels)).toEqual(labels);
      }
    }
    const payments = { policy: 'circuit-breaker', name: 'payments' };
    expect(sampleValue(families, 'palisade_events_total', { ...payments, type: 'success' })).toBe(5);
    expect(sampleValue(families, 'palisade_events_total', { ...payments, type: 'failure' })).toBe(1);
    expect(sampleValue(families, 'palisade_events_total', { ...payments, type: 'circuit.rejected' })).toBe(2);
    expect(sampleValue(families, 'palisade_events_total', { ...payments, type: 'retry' })).toBeUndefined();
    const h = 'palisade_call_duration_seconds';
    expect(sampleValue(families, h, payments, `${h}_count`)).toBe(6);
    expect(sampleValue(families, h, payments, `${h}_sum`)).toBeCloseTo(1.086);
    expect(sampleValue(families, h, { ...payments, le: '0.01' }, `${h}_bucket`)).toBe(2);
    expect(sampleValue(families, h, { ...payments, le: '0.05' }, `${h}_bucket`)).toBe(4);
    expect(sampleValue(families, h, { ...payments, le: '+Inf' }, `${h}_bucket`)).toBe(6);
    expect(sampleValue(families, 'palisade_circuit_state', { ...payments, state: 'open' })).toBe(1);
    expect(sampleValue(families, 'palisade_circuit_state', { ...payments, state: 'closed' })).toBe(0);
    // The label value with a quote, a backslash and a newline survives escaping.
    const odd = { policy: 'bulkhead', name: 'db "primary"\\pool\nA' };
    expect(sampleValue(families, 'palisade_bulkhead_queued_calls', odd)).toBe(4);
    expect(sampleValue(families, 'palisade_events_total', { ...odd, type: 'bulkhead.rejected' })).toBe(1);
    expect(sampleValue(families, 'palisade_concurrency_limit', { policy: 'bulkhead', name: 'adaptive' })).toBe(24);
    expect(sampleValue(families, 'palisade_tracked_keys', payments)).toBe(2);
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const server = await nodeServer(prometheusHandler({ metrics: busyMetrics() }));
    servers.push(server);
    const head = await fetch(server.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(server.url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('exports per-key counters only when asked', () => {
    const metrics = busyMetrics();
    expect(prometheusText({ metrics })).not.toContain('palisade_key_events_total');
    const families = parseExposition(prometheusText({ metrics, keys: true }));
    expect(sampleValue(families, 'palisade_key_events_total', { name: 'payments', key: 'eu', type: 'success' })).toBe(
      5,
    );
    expect(sampleValue(families, 'palisade_key_events_total', { name: 'payments', key: 'us', type: 'failure' })).toBe(
      1,
    );
  });

  it('renders an empty sink as an empty (valid) exposition', () => {
    expect(prometheusText({ metrics: createMetrics() })).toBe('');
  });
});

describe('prom-client integration', () => {
  it('adds palisade families to a registry beside the user’s own, read at scrape time', async () => {
    const metrics = busyMetrics();
    const registry = new Registry();
    const own = new Counter({ name: 'app_requests_total', help: 'Requests.', registers: [registry] });
    own.inc(3);
    const unregister = registerPrometheus({ metrics, registry });

    const families = parseExposition(await registry.metrics());
    expect(sampleValue(families, 'app_requests_total', {})).toBe(3);
    expect(sampleValue(families, 'palisade_events_total', { name: 'payments', type: 'success' })).toBe(5);
    const h = 'palisade_call_duration_seconds';
    expect(sampleValue(families, h, { name: 'payments', le: '+Inf' }, `${h}_bucket`)).toBe(6);
    expect(families.get('palisade_circuit_state')?.type).toBe('gauge');

    // Values are read when scraped, not copied at registration.
    emitter(metrics.onEvent, 'circuit-breaker', 'payments', () => T0)({ type: 'success', durationMs: 1 });
    const again = parseExposition(await registry.metrics());
    expect(sampleValue(again, 'palisade_events_total', { name: 'payments', type: 'success' })).toBe(6);
    // The same text as our own exposition, family for family.
    const ours = parseExposition(prometheusText({ metrics }));
    for (const [name, family] of ours) expect(again.get(name)?.samples).toEqual(family.samples);

    unregister();
    expect(await registry.metrics()).not.toContain('palisade_');
  });

  it('works in OpenMetrics mode, where prom-client renames counters', async () => {
    const registry = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    registerPrometheus({ metrics: busyMetrics(), registry, keys: true });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE palisade_events counter');
    expect(text).toContain('palisade_events_total{policy="circuit-breaker",name="payments",type="success"} 5');
    expect(text).toContain(
      'palisade_key_events_total{policy="circuit-breaker",name="payments",key="eu",type="success"} 5',
    );
    expect(text).not.toContain('_total_total');
  });

  it('refuses something that is not a registry', () => {
    expect(() => registerPrometheus({ metrics: createMetrics(), registry: {} as never })).toThrow(
      /"registry" must be a prom-client Registry/,
    );
  });
});
