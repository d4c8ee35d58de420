// Integration: a real HTTP server on 127.0.0.1 that goes down and comes back. The breaker's time is
// a FakeClock (open → half-open without waiting); the network is real.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BrokenCircuitError, type ResilienceEvent } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { circuitBreaker, keyed } from '../src/index.js';

interface Upstream {
  requests: number;
  status: number;
  url: string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

async function upstream(): Promise<Upstream> {
  let server: Server | undefined;
  let port = 0;
  const state: Upstream = {
    requests: 0,
    status: 200,
    url: '',
    async up() {
      const s = createServer((req, res) => {
        state.requests++;
        res.writeHead(state.status, { 'content-type': 'text/plain' }).end(req.url);
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      server = s;
      port = (s.address() as AddressInfo).port;
      state.url = `http://127.0.0.1:${port}`;
    },
    async down() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    close: () => state.down(),
  };
  await state.up();
  return state;
}

const servers: Upstream[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

describe('against a real HTTP server', () => {
  it('opens when the server goes down, rejects without touching it, probes when it is back, closes', async () => {
    const server = await upstream();
    servers.push(server);
    const clock = new FakeClock({ now: Date.UTC(2026, 0, 1) });
    const events: ResilienceEvent[] = [];
    const breaker = circuitBreaker({
      window: { kind: 'count', size: 10 },
      minimumCalls: 4,
      failureRateThreshold: 0.5,
      openMs: '30s',
      halfOpenMaxCalls: 2,
      isFailure: ({ ok, value }) => !ok || (value as Response).status >= 500,
      clock,
      onEvent: (e) => events.push(e),
    });
    const get = (path: string) =>
      breaker.execute(async ({ signal }) => {
        const res = await fetch(`${server.url}${path}`, { signal });
        await res.text();
        return res;
      });

    // Healthy.
    for (let i = 0; i < 4; i++) expect((await get(`/ok/${i}`)).status).toBe(200);
    expect(server.requests).toBe(4);

    // Down: connection refused until the breaker opens.
    await server.down();
    let refused = 0;
    while (breaker.state === 'closed') {
      await expect(get('/down')).rejects.toThrow(TypeError); // fetch failed: ECONNREFUSED
      refused++;
    }
    expect(refused).toBe(4); // 4 failures of 8 calls in the window: 50 %
    expect(breaker.state).toBe('open');

    // Back up, but the breaker is still open: calls are rejected without reaching the server.
    await server.up();
    const before = server.requests;
    for (let i = 0; i < 20; i++) {
      const error = await get('/while-open').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BrokenCircuitError);
      expect((error as BrokenCircuitError).retryAfterMs).toBe(30_000);
    }
    expect(server.requests).toBe(before);

    // openMs later, exactly halfOpenMaxCalls probes reach the server, concurrently; the rest is rejected.
    await clock.advance(30_000);
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        get(`/probe/${i}`).then(
          (r) => r.status,
          (e: unknown) => e,
        ),
      ),
    );
    expect(burst.filter((r) => r === 200)).toHaveLength(2);
    expect(burst.filter((r) => r instanceof BrokenCircuitError)).toHaveLength(8);
    expect(server.requests).toBe(before + 2);
    expect(breaker.state).toBe('closed');

    // Closed again: traffic flows.
    for (let i = 0; i < 5; i++) expect((await get(`/after/${i}`)).status).toBe(200);
    expect(server.requests).toBe(before + 7);
    expect(
      events.map((e) => e.type).filter((t) => t !== 'success' && t !== 'failure' && t !== 'circuit.rejected'),
    ).toEqual(['circuit.open', 'circuit.half-open', 'circuit.close']);
  });

  it('an HTTP 503 counts as a failure through isFailure; a failed probe re-opens it', async () => {
    const server = await upstream();
    servers.push(server);
    const clock = new FakeClock({ now: Date.UTC(2026, 0, 1) });
    const breaker = circuitBreaker({
      window: { kind: 'count', size: 4 },
      minimumCalls: 4,
      openMs: (openings) => 1_000 * 2 ** (openings - 1),
      halfOpenMaxCalls: 1,
      isFailure: ({ ok, value }) => !ok || (value as Response).status >= 500,
      clock,
    });
    const get = () =>
      breaker
        .execute(async ({ signal }) => {
          const res = await fetch(`${server.url}/`, { signal });
          await res.text();
          return res;
        })
        .then((res) => res.status);
    server.status = 503;
    for (let i = 0; i < 4; i++) expect(await get()).toBe(503); // values pass through unchanged
    expect(breaker.state).toBe('open');
    await clock.advance(1_000);
    expect(await get()).toBe(503); // the probe fails
    expect(breaker.stats()).toMatchObject({ state: 'open', retryAfterMs: 2_000, openings: 2 });
    server.status = 200;
    const count = server.requests;
    await expect(get()).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(server.requests).toBe(count);
    await clock.advance(2_000);
    expect(await get()).toBe(200);
    expect(breaker.state).toBe('closed');
  });

  it('per host: one host down leaves the other host’s breaker closed', async () => {
    const a = await upstream();
    const b = await upstream();
    servers.push(a, b);
    const clock = new FakeClock({ now: Date.UTC(2026, 0, 1) });
    const options = { minimumCalls: 2, window: { kind: 'count', size: 2 }, clock } as const;
    const perHost = keyed(() => circuitBreaker(options), { maxKeys: 10, clock });
    const get = (url: string) =>
      perHost.execute(({ signal }) => fetch(url, { signal }).then((r) => r.text()), { key: new URL(url).host });
    await a.down();
    await get(a.url).catch(() => {});
    await get(a.url).catch(() => {});
    await expect(get(a.url)).rejects.toBeInstanceOf(BrokenCircuitError);
    await expect(get(`${b.url}/fine`)).resolves.toBe('/fine');
    expect(perHost.size).toBe(2);
  });
});
