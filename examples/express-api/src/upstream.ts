// The upstream the API calls: a plain node:http server on 127.0.0.1 with one misbehaviour per path.
//   GET /users/:id       every other request for the same user is a 503 (Retry-After: 0)
//   GET /reports/:id     answers after ?delayMs (default 3 s): slower than the API may wait
//   GET /search          answers after ?delayMs (default 200 ms)
//   GET /inventory/:sku  always 500: the inventory service is down
// It records what the API sent it, so the test can check retries, deadlines and cancellations.
import { type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the upstream saw. */
export interface UpstreamStats {
  /** Requests received, by path (`/users/1`, `/search`, …). */
  requests: Record<string, number>;
  /** The `palisade-deadline-ms` header of each /reports request (undefined when absent). */
  reportDeadlines: (number | undefined)[];
  /** Requests whose client (the API) went away before the answer, by path. */
  cancelled: Record<string, number>;
  /** Requests being answered now, by path. */
  inFlight: Record<string, number>;
}

export interface Upstream {
  url: string;
  stats: UpstreamStats;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const add = (counts: Record<string, number>, path: string, n: number): number =>
  (counts[path] = (counts[path] ?? 0) + n);

/** Answers after `ms`, unless the client goes away first (then counts a cancellation). */
function later(res: ServerResponse, stats: UpstreamStats, path: string, ms: number, body: unknown): void {
  add(stats.inFlight, path, 1);
  const timer = setTimeout(() => json(res, 200, body), ms);
  res.once('close', () => {
    add(stats.inFlight, path, -1);
    clearTimeout(timer);
    if (!res.writableFinished) add(stats.cancelled, path, 1);
  });
}

export async function startUpstream(): Promise<Upstream> {
  const stats: UpstreamStats = { requests: {}, reportDeadlines: [], cancelled: {}, inFlight: {} };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const path = url.pathname;
    const seen = add(stats.requests, path, 1);
    const delayMs = Number(url.searchParams.get('delayMs') ?? Number.NaN);
    const [, resource, id] = path.split('/');

    if (resource === 'users' && id) {
      if (seen % 2 === 1) json(res, 503, { error: 'busy' }, { 'retry-after': '0' });
      else json(res, 200, { id, name: `User ${id}` });
    } else if (resource === 'reports' && id) {
      const header = req.headers['palisade-deadline-ms'];
      stats.reportDeadlines.push(typeof header === 'string' ? Number(header) : undefined);
      later(res, stats, path, Number.isFinite(delayMs) ? delayMs : 3_000, { id, rows: 42 });
    } else if (resource === 'search') {
      const q = url.searchParams.get('q') ?? '';
      later(res, stats, path, Number.isFinite(delayMs) ? delayMs : 200, { q, hits: [`${q}-1`, `${q}-2`] });
    } else if (resource === 'inventory' && id) {
      json(res, 500, { error: 'inventory database unreachable' });
    } else json(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
