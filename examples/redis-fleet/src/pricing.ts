// The third-party pricing API the fleet calls, on 127.0.0.1: it records when each call arrives and
// from which process, so main.ts can tell whether the fleet kept to the quota.
import { type Server, createServer } from 'node:http';

export interface PricingApi {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Arrival of every call: ms on this process's monotonic clock, and the calling service. */
  readonly calls: readonly { at: number; service: string }[];
  close(): Promise<void>;
}

export async function startPricingApi(): Promise<PricingApi> {
  const calls: { at: number; service: string }[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(204).end();
      return;
    }
    calls.push({ at: performance.now(), service: String(req.headers['x-service'] ?? '?') });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ price: 100 + (calls.length % 13) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The most calls that arrived within any `windowMs` (sliding), from sorted arrival times. */
export function busiestWindow(times: readonly number[], windowMs: number): number {
  let best = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[last] as number) - (times[first] as number) >= windowMs) first++;
    best = Math.max(best, last - first + 1);
  }
  return best;
}

/**
 * How far ahead of the quota the fleet ever was: the highest, over every arrival, of the calls
 * arrived so far divided by the calls the quota allowed since `startedAt` (`burst` at once, then
 * one every `intervalMs`). At most 1 when the quota held at every moment; calls that arrive late
 * only lower it.
 */
export function peakShareOfQuota(
  times: readonly number[],
  startedAt: number,
  quota: { burst: number; intervalMs: number },
): number {
  let peak = 0;
  for (const [i, at] of times.entries()) {
    const allowed = quota.burst + Math.max(0, at - startedAt) / quota.intervalMs;
    peak = Math.max(peak, (i + 1) / allowed);
  }
  return peak;
}
