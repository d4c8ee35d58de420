// The fault-injecting upstream: a plain node:http server whose faults are set at run time through
// POST /__faults. It counts every request that reaches it (the load the services put on it), and
// the orders (POST /orders) among them. Every route gets the same faults.
import { createServer } from 'node:http';
import { seededRandom } from '@palisade/core/testing';
import { lognormal } from './random.js';

/** What the upstream does to each request. */
export interface Faults {
  /** Share of requests answered 503 at once (0–1). */
  errorRate: number;
  /** Median latency of a healthy answer, ms. */
  medianMs: number;
  /** Lognormal sigma of the latency. */
  sigma: number;
  /** Share of requests that stall (0–1), for tailMinMs–tailMaxMs. */
  tailRate: number;
  tailMinMs: number;
  tailMaxMs: number;
  /** Full outage: every request gets 503 after `outageDelayMs`. */
  outage: boolean;
  outageDelayMs: number;
  /** Requests served at once before overload; past it each extra one adds `overloadMs` latency. */
  capacity: number;
  overloadMs: number;
  /** Requests per second accepted from all clients together before answering 429 (0 = no quota). */
  quotaPerSecond: number;
  /** After the quota is exceeded, every request is refused (429) for this long, as many APIs do. */
  quotaPenaltyMs: number;
}

export const HEALTHY: Faults = {
  errorRate: 0,
  medianMs: 8,
  sigma: 0.3,
  tailRate: 0,
  tailMinMs: 0,
  tailMaxMs: 0,
  outage: false,
  outageDelayMs: 30,
  capacity: 1_000,
  overloadMs: 0,
  quotaPerSecond: 0,
  quotaPenaltyMs: 1_000,
};

export function startUpstream(port: number, seed = 1) {
  let random = seededRandom(seed);
  let faults: Faults = { ...HEALTHY };
  let inflight = 0;
  const counts = { requests: 0, orders: 0, ok: 0, errors: 0, quota: 0, aborted: 0 };
  let quotaWindow = 0;
  let quotaUsed = 0;
  let penaltyUntil = 0;

  const server = createServer((req, res) => {
    if (req.url === '/__faults' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        faults = { ...HEALTHY, ...(JSON.parse(body || '{}') as Partial<Faults>) };
        res.end('ok');
      });
      return;
    }
    if (req.url === '/__stats') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(counts));
      return;
    }
    // Zeroes the counts and the quota's state; `?seed=N` also restarts the random sequence, so a
    // run on a reused upstream sees the same faults as on a fresh one.
    if (req.url === '/__reset' || req.url?.startsWith('/__reset?')) {
      for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] = 0;
      quotaWindow = 0;
      quotaUsed = 0;
      penaltyUntil = 0;
      const reseed = new URL(req.url, 'http://upstream').searchParams.get('seed');
      if (reseed !== null) random = seededRandom(Number(reseed));
      res.end('ok');
      return;
    }
    counts.requests++;
    if (req.method === 'POST') {
      if (req.url?.startsWith('/orders')) counts.orders++;
      req.resume(); // the body is not read: drain it so the connection can be reused
    }
    if (faults.quotaPerSecond > 0) {
      const now = Date.now();
      const second = Math.floor(now / 1_000);
      if (second !== quotaWindow) {
        quotaWindow = second;
        quotaUsed = 0;
      }
      if (++quotaUsed > faults.quotaPerSecond) penaltyUntil = now + faults.quotaPenaltyMs;
      if (now < penaltyUntil) {
        counts.quota++;
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        res.end('{"error":"quota exceeded"}');
        return;
      }
    }
    inflight++;
    let done = false;
    const finish = (status: number, body: string) => {
      if (done) return;
      done = true;
      inflight--;
      if (res.destroyed) return;
      if (status === 200) counts.ok++;
      else counts.errors++;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    res.on('close', () => {
      if (!done) {
        done = true;
        inflight--;
        counts.aborted++;
      }
    });
    if (faults.outage) {
      setTimeout(() => finish(503, '{"error":"outage"}'), faults.outageDelayMs);
      return;
    }
    if (random() < faults.errorRate) {
      setTimeout(() => finish(503, '{"error":"transient"}'), 2);
      return;
    }
    let latency = lognormal(random, faults.medianMs, faults.sigma);
    if (faults.tailRate > 0 && random() < faults.tailRate) {
      latency += faults.tailMinMs + random() * (faults.tailMaxMs - faults.tailMinMs);
    }
    const over = inflight - faults.capacity;
    if (over > 0) latency += over * faults.overloadMs;
    setTimeout(() => finish(200, `{"id":"${req.url}","at":${Date.now()}}`), latency);
  });
  server.keepAliveTimeout = 60_000;
  return new Promise<typeof server>((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  const port = Number(process.env.PORT ?? 0);
  const server = await startUpstream(port, Number(process.env.SEED ?? 1));
  // Idle keep-alive connections close sooner when asked (the reliability suite counts sockets).
  if (process.env.KEEP_ALIVE_MS) server.keepAliveTimeout = Number(process.env.KEEP_ALIVE_MS);
  const address = server.address();
  process.send?.({ ready: true, port: typeof address === 'object' && address ? address.port : port });
  process.on('disconnect', () => process.exit(0));
}
