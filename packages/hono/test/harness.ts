import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { runWithDeadline } from '@palisade/core/deadline';
import { Hono, type MiddlewareHandler } from 'hono';
import { Hono as Hono46 } from 'hono46';
import type { AppDef, Harness, Running } from '../../express/test/suite.js';
import {
  type PalisadeOptionalEnv,
  circuitBreaker,
  concurrencyLimit,
  rateLimit,
  resilience,
  timeout,
} from '../src/index.js';

/**
 * Serves a test app on 127.0.0.1 with real Hono through @hono/node-server: the workspace's Hono,
 * or `HonoClass` (Hono 4.6, the oldest the peer range takes, under the `hono46` alias).
 */
export async function serveHono(def: AppDef, HonoClass: typeof Hono = Hono): Promise<Running> {
  // Some routes run behind rateLimit only, which never sets c.get('palisade').
  const app = new HonoClass<PalisadeOptionalEnv>();
  const lateErrors: unknown[] = [];
  for (const mw of def.use ?? []) app.use(mw as MiddlewareHandler);
  for (const route of def.routes) {
    const handler: MiddlewareHandler<PalisadeOptionalEnv> = async (c) => {
      const info = c.get('palisade');
      const reply = (await route.handler({ signal: info?.signal, deadline: info?.deadline })) ?? {};
      return c.json((reply.body ?? { ok: true }) as object, (reply.status ?? 200) as 200);
    };
    // Hono's typed overloads do not take a spread of handlers; the runtime does.
    const on = app.on as unknown as (method: string, path: string, ...handlers: MiddlewareHandler[]) => void;
    on.call(app, route.method, route.path, ...(route.middleware as MiddlewareHandler[]), handler as MiddlewareHandler);
  }
  app.onError((error, c) => {
    lateErrors.push(error);
    return c.json({ error: String(error) }, 500);
  });
  return { ...(await listenHono(app)), lateErrors };
}

/** Serves `app` on 127.0.0.1 (a free port) through @hono/node-server: its URL, and how to stop it. */
export async function listenHono(app: Hono<PalisadeOptionalEnv> | Hono): Promise<Omit<Running, 'lateErrors'>> {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

export const honoHarness: Harness = {
  name: 'hono',
  lib: { rateLimit, concurrencyLimit, timeout, circuitBreaker, resilience },
  trustOneProxyOptions: { proxyHops: 1 },
  deadlineOptions: { runWithDeadline },
  serve: (def) => serveHono(def),
};

/** The same suite on Hono 4.6 (the peer range starts there). */
export const hono46Harness: Harness = {
  ...honoHarness,
  serve: (def) => serveHono(def, Hono46 as unknown as typeof Hono),
};
