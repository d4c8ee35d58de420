// The two upstreams the script calls, plain node:http servers on 127.0.0.1 (port 0).
import { type RequestListener, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream<Stats> {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`: what `createFetch` route keys name. */
  host: string;
  stats: Stats;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

async function listen<Stats>(stats: Stats, handler: RequestListener): Promise<Upstream<Stats>> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface OrdersStats {
  /** Requests received, by `"<METHOD> <path>"`. */
  requests: Record<string, number>;
}

/**
 * The orders service, flaky: the first try of each request (same method, path and
 * `Idempotency-Key`) is answered 503 with `Retry-After: 1`; the next one succeeds.
 *   GET  /orders/:id   200 { id, status }
 *   POST /orders       201 { id }
 *   GET  /legacy/*     500, always: an endpoint that is gone for good
 */
export function startOrders(): Promise<Upstream<OrdersStats>> {
  const stats: OrdersStats = { requests: {} };
  const tries = new Map<string, number>();
  return listen(stats, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://orders').pathname;
    const name = `${req.method} ${path}`;
    stats.requests[name] = (stats.requests[name] ?? 0) + 1;
    req.resume(); // the body is not needed
    if (path.startsWith('/legacy/')) {
      json(res, 500, { error: 'legacy backend removed' });
      return;
    }
    const attempt = `${name} ${req.headers['idempotency-key'] ?? ''}`;
    const n = (tries.get(attempt) ?? 0) + 1;
    tries.set(attempt, n);
    if (n === 1) json(res, 503, { error: 'warming up' }, { 'retry-after': '1' });
    else if (req.method === 'POST' && path === '/orders') json(res, 201, { id: 'order-42' });
    else if (req.method === 'GET' && path.startsWith('/orders/')) {
      json(res, 200, { id: path.slice('/orders/'.length), status: 'shipped' });
    } else json(res, 404, { error: 'not found' });
  });
}

export interface SearchStats {
  /** Requests each replica received. */
  served: { slow: number; fast: number };
  /** Requests the slow replica never finished because the client went away. */
  slowCancelled: number;
}

/**
 * The search service: two replicas behind one address, taken in turn (round robin). The slow one
 * (a replica in a long GC pause) answers after 5 s, the fast one after 10 ms.
 */
export function startSearch(): Promise<Upstream<SearchStats>> {
  const stats: SearchStats = { served: { slow: 0, fast: 0 }, slowCancelled: 0 };
  let turn = 0;
  return listen(stats, (req, res) => {
    const replica = turn++ % 2 === 0 ? 'slow' : 'fast';
    stats.served[replica]++;
    const q = new URL(req.url ?? '/', 'http://search').searchParams.get('q') ?? '';
    const timer = setTimeout(
      () => json(res, 200, { q, hits: [`${q}-1`, `${q}-2`], replica }),
      replica === 'slow' ? 5_000 : 10,
    );
    res.once('close', () => {
      clearTimeout(timer);
      if (replica === 'slow' && !res.writableFinished) stats.slowCancelled++;
    });
  });
}
