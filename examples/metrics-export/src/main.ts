// One metrics sink for every policy of a service, exported four ways on one node:http server:
//   /metrics             Prometheus text, straight from @palisade/metrics (no dependency)
//   /prom-client/metrics the same families inside a prom-client registry, beside the service's own
//   /otel                what an OpenTelemetry MeterProvider exported (in-memory exporter, as JSON)
//   /dashboard           the live dashboard
// The service's routes /api/quotes/:id and /api/inventory/:id call a flaky upstream through
// createFetch with retry, circuit breaker and timeouts.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { toHttpResponse } from '@palisade/core';
import { type Metrics, createMetrics, dashboard, prometheusHandler, registerPrometheus } from '@palisade/metrics';
import { Counter, Registry } from 'prom-client';
import { type OpenTelemetry, startOpenTelemetry } from './otel.js';
import { upstreamFetch } from './policies.js';
import { type Upstream, startUpstream } from './upstream.js';

export interface StartOptions {
  /** Port of the service on 127.0.0.1. @default 0 (any free port) */
  port?: number;
  /** Keep calling both routes in the background (a few calls per second), for people watching. @default false */
  traffic?: boolean;
  /** How often the OpenTelemetry reader exports, in ms. @default 10_000 */
  otelExportIntervalMs?: number;
}

export interface MetricsExample {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly urls: { metrics: string; promClient: string; otel: string; dashboard: string };
  readonly metrics: Metrics;
  readonly registry: Registry;
  readonly otel: OpenTelemetry;
  readonly upstream: Upstream;
  /** Calls `/api/quotes/:id` `quotes` times and `/api/inventory/:id` `inventory` times, one at a time, over HTTP. */
  drive(calls: { quotes?: number; inventory?: number }): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function start(options: StartOptions = {}): Promise<MetricsExample> {
  const upstream = await startUpstream();
  const otel = startOpenTelemetry(options.otelExportIntervalMs);
  // The one sink. Every policy gets its onEvent; the meter makes it report to OpenTelemetry too.
  const metrics = createMetrics({ meter: otel.meter });
  const callUpstream = upstreamFetch(metrics.onEvent);

  // prom-client: palisade's families beside the service's own metrics, in one registry.
  const registry = new Registry();
  const served = new Counter({
    name: 'example_http_requests_total',
    help: 'Requests the example service answered, by route and status.',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const unregister = registerPrometheus({ metrics, registry });

  const scrape = prometheusHandler({ metrics });
  const live = dashboard({ metrics, title: 'palisade metrics-export example' });

  async function proxy(route: 'quotes' | 'inventory', id: string, res: ServerResponse): Promise<void> {
    let status: number;
    let body: string;
    let headers: Record<string, string> = { 'content-type': 'application/json' };
    try {
      const answer = await callUpstream(`${upstream.url}/${route}/${encodeURIComponent(id)}`);
      body = await answer.text();
      status = answer.ok ? 200 : 502; // retries spent on 503s: the last 503 comes back
    } catch (error) {
      // Open circuit, timeouts: palisade's errors map to 503/504 with a problem+json body.
      const mapped = toHttpResponse(error);
      status = mapped?.status ?? 502;
      headers = mapped?.headers ?? headers;
      body = JSON.stringify(mapped?.body ?? { error: String(error) });
    }
    served.inc({ route, status: String(status) });
    res.writeHead(status, headers).end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] as string;
    const api = /^\/api\/(quotes|inventory)\/([^/]+)$/.exec(path);
    if (api) return proxy(api[1] as 'quotes' | 'inventory', api[2] as string, res);
    if (path === '/metrics') return scrape(req, res);
    if (path === '/prom-client/metrics') {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      return;
    }
    if (path === '/otel') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(await otel.collect(), null, 2));
      return;
    }
    if (path === '/dashboard') return live(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${String(error)}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  async function call(route: 'quotes' | 'inventory', id: number): Promise<number> {
    const res = await fetch(`${url}/api/${route}/${id}`);
    await res.arrayBuffer();
    return res.status;
  }

  // Background traffic for the dashboard: 5 quotes and 1 inventory call per second, at most 8 at once.
  let inFlight = 0;
  let tick = 0;
  const timer = options.traffic
    ? setInterval(() => {
        if (inFlight >= 8) return;
        tick++;
        const route = tick % 5 === 0 ? 'inventory' : 'quotes';
        inFlight++;
        call(route, tick)
          .catch(() => {})
          .finally(() => inFlight--);
      }, 200)
    : undefined;
  timer?.unref();

  return {
    url,
    urls: {
      metrics: `${url}/metrics`,
      promClient: `${url}/prom-client/metrics`,
      otel: `${url}/otel`,
      dashboard: `${url}/dashboard`,
    },
    metrics,
    registry,
    otel,
    upstream,
    async drive({ quotes = 0, inventory = 0 }) {
      const statuses: Record<string, number> = {};
      const count = (status: number) => {
        statuses[status] = (statuses[status] ?? 0) + 1;
      };
      for (let id = 1; id <= quotes; id++) count(await call('quotes', id));
      for (let id = 1; id <= inventory; id++) count(await call('inventory', id));
      return statuses;
    },
    async close() {
      clearInterval(timer);
      live.close(); // ends the dashboard's open event streams
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      unregister();
      await otel.shutdown();
      await upstream.close();
    },
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  const app = await start({ port: Number(process.env.PORT ?? 0), traffic: true });
  process.stdout.write(
    [
      `palisade metrics-export example on ${app.url} — calling a flaky upstream (${app.upstream.url}) a few times per second`,
      `  dashboard        ${app.urls.dashboard}`,
      `  Prometheus       ${app.urls.metrics}`,
      `  prom-client      ${app.urls.promClient}`,
      `  OpenTelemetry    ${app.urls.otel}`,
      `  the service      ${app.url}/api/quotes/1  ${app.url}/api/inventory/1`,
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  const stop = () => {
    app.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
