// One service process of the lab: an Express or Hono app (FRAMEWORK) whose route calls the upstream.
// MODE=baseline uses plain fetch and no protection; MODE=palisade uses the policies in policies.ts.
import { createServer } from 'node:http';
import { type Outbound, baselineOutbound, palisadeService } from './policies.js';

const framework = process.env.FRAMEWORK === 'hono' ? 'hono' : 'express';
const mode = process.env.MODE === 'palisade' ? 'palisade' : 'baseline';
const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:9';
const port = Number(process.env.PORT ?? 0);

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
    app.get('/api/items/:id', async (req, res) => {
      const result = await outbound(
        req.params.id,
        (res.locals.palisade as { signal?: AbortSignal } | undefined)?.signal,
      );
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
  app.get('/api/items/:id', async (c) => {
    const info = (c.get as (key: string) => { signal?: AbortSignal } | undefined)('palisade');
    const result = await outbound(c.req.param('id'), info?.signal ?? c.req.raw.signal);
    return c.json(result.body, result.status as 200);
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
