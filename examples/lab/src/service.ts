// One service process of the lab: an Express or Hono app (FRAMEWORK) with two routes that call the
// upstream — GET /api/items/:id (reads, served stale when the upstream cannot answer) and
// POST /api/orders (not idempotent). MODE=baseline uses plain fetch and no protection;
// MODE=palisade uses the per-route policies in policies.ts. A stale answer carries `x-stale: 1`.
import { createServer } from 'node:http';
import type { Context } from 'hono';
import { type Outbound, type OutboundResult, baselineOutbound, palisadeService } from './policies.js';

const framework = process.env.FRAMEWORK === 'hono' ? 'hono' : 'express';
const mode = process.env.MODE === 'palisade' ? 'palisade' : 'baseline';
const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:9';
const port = Number(process.env.PORT ?? 0);

const headersOf = (result: OutboundResult): Record<string, string> => (result.stale ? { 'x-stale': '1' } : {});

async function start(): Promise<number> {
  const built = mode === 'palisade' ? await palisadeService(upstream) : undefined;
  const outbound: Outbound = built?.outbound ?? baselineOutbound(upstream);

  if (framework === 'express') {
    const { default: express } = await import('express');
    const app = express();
    if (built) {
      app.get('/__palisade/dashboard', built.dashboard);
      app.use(built.express);
    }
    const signalOf = (locals: Record<string, unknown>) =>
      (locals.palisade as { signal?: AbortSignal } | undefined)?.signal;
    app.get('/api/items/:id', async (req, res) => {
      const result = await outbound.item(req.params.id, signalOf(res.locals));
      if (!res.headersSent) res.status(result.status).set(headersOf(result)).json(result.body);
    });
    app.post('/api/orders', express.json(), async (req, res) => {
      const result = await outbound.order(req.body as unknown, signalOf(res.locals));
      if (!res.headersSent) res.status(result.status).json(result.body);
    });
    const server = createServer(app);
    return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(addressPort(server))));
  }
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const app = new Hono();
  if (built) {
    const { dashboard } = built;
    app.get('/__palisade/dashboard', (c) => dashboard.fetch(c.req.raw));
    app.use('*', built.hono);
  }
  // The palisade middleware sets `c.get('palisade')`; the baseline app has no such variable.
  const signalOf = (c: Context) =>
    (c.get as (key: string) => { signal?: AbortSignal } | undefined)('palisade')?.signal ?? c.req.raw.signal;
  app.get('/api/items/:id', async (c) => {
    const result = await outbound.item(c.req.param('id'), signalOf(c));
    return c.json(result.body, result.status as 200, headersOf(result));
  });
  app.post('/api/orders', async (c) => {
    const result = await outbound.order(await c.req.json<unknown>(), signalOf(c));
    return c.json(result.body, result.status as 201);
  });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => resolve(info.port));
    void server;
  });
}

function addressPort(server: ReturnType<typeof createServer>): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

const actual = await start();
process.send?.({ ready: true, port: actual });
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
