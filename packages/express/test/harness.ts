import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import express4 from 'express4';
import { circuitBreaker, concurrencyLimit, rateLimit, resilience, timeout } from '../src/index.js';
import type { PalisadeRequestInfo } from '../src/index.js';
import type { AppDef, Harness, Running } from './suite.js';

/**
 * Serves a test app on 127.0.0.1 with real Express: 5 by default, or `make` (Express 4, under the
 * `express4` alias). The route handler hands a rejection to `next`, as an Express 4 app must (5
 * does it by itself).
 */
export async function serveExpress(def: AppDef, make: typeof express = express): Promise<Running> {
  const app = make();
  if (def.trustOneProxy) app.set('trust proxy', 1);
  const lateErrors: unknown[] = [];
  for (const mw of def.use ?? []) app.use(mw as RequestHandler);
  for (const route of def.routes) {
    const method = route.method === 'GET' ? 'get' : 'post';
    app[method](route.path, ...(route.middleware as RequestHandler[]), (_req: Request, res: Response, next) => {
      const info = res.locals.palisade as PalisadeRequestInfo | undefined;
      Promise.resolve(route.handler({ signal: info?.signal, deadline: info?.deadline }))
        .then((reply = {}) => {
          res.status(reply.status ?? 200).json(reply.body ?? { ok: true });
        })
        .catch(next);
    });
  }
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    lateErrors.push(error);
    if (!res.headersSent) res.status(500).json({ error: String(error) });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    lateErrors,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const expressHarness: Harness = {
  name: 'express',
  lib: { rateLimit, concurrencyLimit, timeout, circuitBreaker, resilience },
  trustOneProxyOptions: {},
  deadlineOptions: {},
  serve: (def) => serveExpress(def),
};

/** The same suite on Express 4 (the peer range starts at 4.21). */
export const express4Harness: Harness = {
  ...expressHarness,
  serve: (def) => serveExpress(def, express4 as unknown as typeof express),
};
