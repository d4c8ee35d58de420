// One service process of the fleet: an Express API whose clients are rate limited per API key, and
// whose every request calls a pricing API under a quota. Both limits live in Redis, so the three
// processes share them: a client cannot get 3× its limit by spreading requests over the fleet, and
// the fleet as a whole never calls the pricing API faster than its quota.
//   env: REDIS_URL, FLEET_PREFIX (Redis key prefix of this run), PRICING_URL, SERVICE_NAME
// Protocol (IPC): child → { ready: true, port } once it listens; it exits on SIGTERM or when the
// parent goes away.
import { createServer } from 'node:http';
import { type EventListener, RateLimitedError } from '@palisade/core';
import { rateLimit } from '@palisade/express';
import { throttle } from '@palisade/rate-limit';
import { redisStore } from '@palisade/redis';
import express from 'express';
import { createClient } from 'redis';
import { DEFAULT_REDIS_URL, INBOUND, OUTBOUND, STORE_TIMEOUT_MS } from './config.js';

const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
const prefix = process.env.FLEET_PREFIX ?? 'palisade-example:redis-fleet:';
const pricingUrl = process.env.PRICING_URL ?? 'http://127.0.0.1:9';
const serviceName = process.env.SERVICE_NAME ?? `service-${process.pid}`;

/** What this process saw, for main.ts's table (GET /stats). */
const stats = { pid: process.pid, storeErrors: 0, pricingRefused: 0 };
const onEvent: EventListener = (event) => {
  if (event.type === 'ratelimit.store-error') stats.storeErrors++;
};

const client = createClient({ url: redisUrl });
client.on('error', () => {}); // node-redis reconnects by itself; the policies see store errors
await client.connect();
const store = redisStore({ client, prefix, timeoutMs: STORE_TIMEOUT_MS });

// Outbound: one pace for the whole fleet (same name, same store, same key '*').
const pricing = throttle({ ...OUTBOUND, store, onEvent });

const app = express();
app.get('/stats', (_req, res) => {
  res.json(stats);
});
// Inbound: 200 requests per hour per API key, counted across the fleet.
app.use('/api', rateLimit({ ...INBOUND, store, onEvent }));
app.get('/api/quote/:id', async (req, res) => {
  try {
    const quote = await pricing.execute(async ({ signal }) => {
      const answer = await fetch(`${pricingUrl}/price/${encodeURIComponent(req.params.id)}`, {
        headers: { 'x-service': serviceName },
        signal,
      });
      return (await answer.json()) as { price: number };
    });
    res.json({ id: req.params.id, price: quote.price, servedBy: serviceName });
  } catch (error) {
    // The quota would make this call wait past maxWaitMs: our capacity problem, not the client's.
    if (error instanceof RateLimitedError) {
      stats.pricingRefused++;
      res
        .status(503)
        .set('retry-after', String(Math.ceil(error.retryAfterMs / 1_000)))
        .json({ error: 'pricing quota' });
    } else res.status(502).json({ error: String(error) });
  }
});

const server = createServer(app);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
// Say ready only once Redis has answered a decision (this also loads the script) and the connection
// to the pricing API is open: the first real calls then leave on time.
await pricing.execute(() => undefined, { key: 'warm-up' });
await (await fetch(`${pricingUrl}/health`)).arrayBuffer();
const address = server.address();
process.send?.({ ready: true, port: typeof address === 'object' && address ? address.port : 0 });

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await client.close().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('disconnect', () => void stop());
