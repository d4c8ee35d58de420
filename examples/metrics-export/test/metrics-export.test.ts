import { OTEL_ATTRIBUTES, OTEL_INSTRUMENTS } from '@palisade/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MetricsExample, start } from '../src/main.js';

/** The value of one sample of a Prometheus text exposition, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] as string).split(/,(?=[a-z_]+=")/);
    if (wanted.every((label) => have.includes(label)) && have.length === wanted.length) return Number(match[3]);
  }
  return undefined;
}

const QUOTES = 30;
const INVENTORY = 10;

describe('metrics-export example', () => {
  let app: MetricsExample | undefined;
  let statuses: Record<string, number> = {};

  beforeAll(async () => {
    app = await start();
    statuses = await app.drive({ quotes: QUOTES, inventory: INVENTORY });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  const get = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  it('answers every call: quotes through retries, inventory failing fast once its breaker opens', () => {
    expect(Object.values(statuses).reduce((a, b) => a + b, 0)).toBe(QUOTES + INVENTORY);
    // Every quote call gets three attempts against an upstream failing one request in three.
    expect(statuses[200] ?? 0).toBeGreaterThanOrEqual(QUOTES * 0.9);
    // Inventory is always down: 502 while retries run into its 503s, then 503 from the open circuit.
    expect((statuses[502] ?? 0) + (statuses[503] ?? 0)).toBeGreaterThanOrEqual(INVENTORY);
    expect(statuses[503] ?? 0).toBeGreaterThan(0);
  });

  it('serves the policies’ counters, durations and breaker states on /metrics', async () => {
    const scrape = await get(app?.urls.metrics ?? '');
    expect(scrape.status).toBe(200);
    expect(scrape.type).toContain('text/plain; version=0.0.4');
    const text = scrape.text;
    const events = (name: string, type: string, policy: string) =>
      sample(text, 'palisade_events_total', { policy, name, type });

    // One success or failure per call, counted by the retry policy (the caller's view).
    const ok = events('quotes.retry', 'success', 'retry') ?? -1;
    const failed = events('quotes.retry', 'failure', 'retry') ?? -1;
    expect(ok + failed).toBe(QUOTES);
    expect(ok).toBeGreaterThanOrEqual(QUOTES * 0.9);
    // The upstream fails every third request and never answers every tenth: at least 10 of the
    // first 30+ requests failed, each followed by a retry (at most 2 per call).
    const retries = events('quotes.retry', 'retry', 'retry') ?? -1;
    expect(retries).toBeGreaterThanOrEqual(10);
    expect(retries).toBeLessThanOrEqual(QUOTES * 2);
    expect(retries).toBeLessThanOrEqual(app?.upstream.seen.quotes ?? 0);
    // Request 10 hangs: the per-attempt timeout fired at least for it.
    expect(events('quotes.attempt-timeout', 'timeout', 'timeout')).toBeGreaterThanOrEqual(1);
    // Durations: one per call, in seconds, cumulative buckets ending at +Inf.
    const duration = { policy: 'retry', name: 'quotes.retry' };
    expect(sample(text, 'palisade_call_duration_seconds_count', duration)).toBe(QUOTES);
    expect(sample(text, 'palisade_call_duration_seconds_bucket', { ...duration, le: '+Inf' })).toBe(QUOTES);
    expect(sample(text, 'palisade_call_duration_seconds_sum', duration)).toBeGreaterThan(0);

    // Inventory's breaker opened and shed the calls after it.
    const breaker = { policy: 'circuit-breaker', name: 'inventory.breaker' };
    expect(events('inventory.breaker', 'circuit.open', 'circuit-breaker')).toBeGreaterThanOrEqual(1);
    expect(events('inventory.breaker', 'circuit.rejected', 'circuit-breaker')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'palisade_circuit_state', { ...breaker, state: 'closed' })).toBe(0);
    expect(sample(text, 'palisade_circuit_state', { ...breaker, state: 'open' })).toBe(1);
    // Quotes' breaker saw about 40% failures, under its 50% threshold.
    expect(
      sample(text, 'palisade_circuit_state', { policy: 'circuit-breaker', name: 'quotes.breaker', state: 'closed' }),
    ).toBe(1);
  });

  it('puts the same families in a prom-client registry beside the service’s own metrics', async () => {
    const [plain, registry] = await Promise.all([get(app?.urls.metrics ?? ''), get(app?.urls.promClient ?? '')]);
    expect(registry.status).toBe(200);
    expect(registry.type).toContain('text/plain');
    const labels = { policy: 'retry', name: 'quotes.retry', type: 'success' };
    expect(sample(registry.text, 'palisade_events_total', labels)).toBe(
      sample(plain.text, 'palisade_events_total', labels),
    );
    expect(registry.text).toContain('# TYPE palisade_call_duration_seconds histogram');
    expect(sample(registry.text, 'example_http_requests_total', { route: 'quotes', status: '200' })).toBe(
      statuses[200],
    );
  });

  it('reports through an OpenTelemetry MeterProvider under the documented instrument names', async () => {
    const exported = await app?.otel.collect();
    const byName = new Map(exported?.map((m) => [m.name, m]));
    // Bulkhead and concurrency-limit instruments have nothing to observe here; these three do.
    for (const instrument of [OTEL_INSTRUMENTS.events, OTEL_INSTRUMENTS.callDuration, OTEL_INSTRUMENTS.circuitStatus]) {
      const metric = byName.get(instrument.name);
      expect(metric, instrument.name).toBeDefined();
      expect(metric?.unit).toBe(instrument.unit);
      for (const point of metric?.points ?? []) {
        expect(Object.keys(point.attributes).sort()).toEqual([...instrument.attributes].sort());
      }
    }
    const documented = new Set<string>(Object.values(OTEL_INSTRUMENTS).map((i) => i.name));
    for (const name of byName.keys()) expect(documented.has(name), name).toBe(true);

    const { kind, name, eventType, circuitState } = OTEL_ATTRIBUTES;
    const point = (metric: string, attributes: Record<string, string>) =>
      byName.get(metric)?.points.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
    // The same numbers as the Prometheus endpoint: they come from the same sink.
    const prometheus = (await get(app?.urls.metrics ?? '')).text;
    expect(point('palisade.events', { [kind]: 'retry', [name]: 'quotes.retry', [eventType]: 'success' })?.value).toBe(
      sample(prometheus, 'palisade_events_total', { policy: 'retry', name: 'quotes.retry', type: 'success' }),
    );
    expect(point('palisade.call.duration', { [kind]: 'retry', [name]: 'quotes.retry' })?.value).toBe(QUOTES);
    expect(point('palisade.circuit.status', { [name]: 'inventory.breaker', [circuitState]: 'open' })?.value).toBe(1);
    // /otel shows the same export over HTTP.
    const view = await get(app?.urls.otel ?? '');
    expect(view.status).toBe(200);
    expect((JSON.parse(view.text) as { name: string }[]).map((m) => m.name)).toContain('palisade.events');
  });

  it('serves the live dashboard as one HTML page, with a JSON frame of the same data', async () => {
    const page = await get(app?.urls.dashboard ?? '');
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.text).toMatch(/^<!doctype html>/i);
    expect(page.text).toContain('palisade metrics-export example');
    const frame = await get(`${app?.urls.dashboard}?format=json`);
    expect(frame.status).toBe(200);
    expect(frame.text).toContain('inventory.breaker');
  });
});

describe('metrics-export example, closed', () => {
  it('stops serving and leaves nothing running', async () => {
    const app = await start();
    await app.drive({ quotes: 1 });
    await app.close();
    await expect(fetch(app.urls.metrics)).rejects.toThrow();
    await expect(fetch(`${app.upstream.url}/quotes/1`)).rejects.toThrow();
  });
});
