// Starts the flaky upstream and the Hono API (on @hono/node-server) in front of it, both on 127.0.0.1.
// Run: npm start -w @palisade/example-hono-api   (PORT=3000 by default)
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import type { EventListener } from '@palisade/core';
import { createApp } from './app.js';
import { type Upstream, startUpstream } from './upstream.js';

export interface StartOptions {
  /** Port of the API on 127.0.0.1. @default 0 (any free port) */
  port?: number;
  /** Receives the events of every inbound and outbound policy. */
  onEvent?: EventListener;
}

export interface Running {
  /** The API's base URL. */
  url: string;
  /** The upstream it calls, with what that upstream saw. */
  upstream: Upstream;
  /** Stops the API and the upstream. */
  close(): Promise<void>;
}

export async function start(options: StartOptions = {}): Promise<Running> {
  const upstream = await startUpstream();
  const app = createApp(upstream.url, options.onEvent);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upstream,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      await upstream.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url, close } = await start({
    port: Number(process.env.PORT ?? 3000),
    onEvent: (e) => process.stdout.write(`  event ${e.type} ${e.name}${e.key ? ` (${e.key})` : ''}\n`),
  });
  process.stdout.write(`Hono API on ${url}. Try:
  curl -i -H 'x-api-key: alice' ${url}/users/1          # 200: the upstream's 503 was retried
  for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' -H 'x-api-key: alice' ${url}/users/1; done
                                                          # 200 … then 429 + Retry-After + RateLimit headers
  curl -i ${url}/reports/1                              # 504 after 1 s (the upstream takes 3 s)
  curl -i '${url}/reports/1?delayMs=100'                # 200
  curl -i -H 'palisade-deadline-ms: 0' ${url}/reports/1 # 504 at once: the caller's deadline is spent
  for i in 1 2 3; do curl -s -o /dev/null -w '%{http_code} ' '${url}/search?q=x&delayMs=2000' & done; wait
                                                          # 503 for one of them: two searches at once
  for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' ${url}/inventory/sku-1; done
                                                          # 502 502 502 502 503 503: the breaker opened
Ctrl-C to stop.
`);
  process.once('SIGINT', () => void close());
}
