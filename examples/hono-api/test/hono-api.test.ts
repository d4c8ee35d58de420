import type { ResilienceEvent } from '@palisade/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Running, start } from '../src/main.js';

let api: Running;
const events: ResilienceEvent[] = [];

beforeAll(async () => {
  api = await start({ onEvent: (event) => events.push(event) });
});
afterAll(async () => {
  await api?.close();
});

const get = (path: string, init?: RequestInit) => fetch(`${api.url}${path}`, init);
const problem = async (res: Response) => ({
  status: res.status,
  contentType: res.headers.get('content-type'),
  body: (await res.json()) as { status?: number; code?: string },
});
/** Polls until `check` passes; generous, for a busy machine. */
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 10_000, interval: 20 });

describe('hono-api example', () => {
  it('answers 200 from a flaky upstream thanks to the outbound retry', async () => {
    const res = await get('/users/1', { headers: { 'x-api-key': 'flaky' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: '1', name: 'User 1' });
    // The upstream answered 503 first, then 200.
    expect(api.upstream.stats.requests['/users/1']).toBe(2);
    expect(events.some((e) => e.type === 'retry' && e.name === 'GET 127.0.0.1/users/:id.retry')).toBe(true);
    // Allowed responses carry the route's RateLimit headers too.
    expect(res.headers.get('ratelimit-policy')).toBe('"default";q=5;w=60');
    expect(res.headers.get('ratelimit')).toMatch(/^"default";r=4;t=\d+$/);
  });

  it('limits each API key on its route: 429 problem+json with Retry-After and RateLimit headers', async () => {
    const alice = { headers: { 'x-api-key': 'alice' } };
    for (let i = 0; i < 5; i++) expect((await get('/users/2', alice)).status).toBe(200);
    const upstreamCalls = api.upstream.stats.requests['/users/2'];

    const limited = await get('/users/2', alice);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('ratelimit-policy')).toBe('"default";q=5;w=60');
    expect(limited.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/);
    expect(await problem(limited)).toMatchObject({
      status: 429,
      contentType: 'application/problem+json',
      body: { status: 429, code: 'PALISADE_RATE_LIMITED' },
    });
    expect(api.upstream.stats.requests['/users/2']).toBe(upstreamCalls); // refused at the door

    // Another key has its own budget.
    expect((await get('/users/2', { headers: { 'x-api-key': 'bob' } })).status).toBe(200);
  });

  it('answers 504 when the upstream is slower than the route allows, and the outbound call ends with it', async () => {
    const res = await get('/reports/1'); // the upstream would take 3 s; the route allows 1 s
    const answer = await problem(res);
    expect(answer).toMatchObject({ status: 504, contentType: 'application/problem+json' });
    // The route's timeout (PALISADE_TIMEOUT) and the outbound call it caps (PALISADE_DEADLINE_EXCEEDED,
    // through the app's error handler) end at the same instant: either may answer.
    expect(answer.body.code).toMatch(/^PALISADE_(TIMEOUT|DEADLINE_EXCEEDED)$/);

    // The outbound call's own 10 s timeout was capped by the inbound 1 s deadline: the upstream
    // was told the time left, and saw the call cancelled rather than answering it.
    const [deadline] = api.upstream.stats.reportDeadlines;
    expect(deadline).toBeGreaterThan(0);
    expect(deadline).toBeLessThanOrEqual(1_000);
    await eventually(() => expect(api.upstream.stats.cancelled['/reports/1']).toBe(1));

    const fast = await get('/reports/2?delayMs=20');
    expect(fast.status).toBe(200);
    expect(await fast.json()).toEqual({ id: '2', rows: 42 });
  });

  it("answers 504 at once, without calling the upstream, when the caller's deadline is spent", async () => {
    const res = await get('/reports/3', { headers: { 'palisade-deadline-ms': '0' } });
    expect(await problem(res)).toMatchObject({ status: 504, body: { code: 'PALISADE_DEADLINE_EXCEEDED' } });
    expect(api.upstream.stats.requests['/reports/3']).toBeUndefined();
  });

  it('sheds the third concurrent search with 503 while other routes keep answering', async () => {
    const clients = [new AbortController(), new AbortController()];
    // Two searches the upstream holds (the route's own 10 s timeout would end them).
    const held = clients.map((client, i) =>
      get(`/search?q=held${i}&delayMs=60000`, { signal: client.signal }).catch((error: unknown) => error),
    );
    await eventually(() => expect(api.upstream.stats.inFlight['/search']).toBe(2));

    const shed = await get('/search?q=third');
    expect(await problem(shed)).toMatchObject({
      status: 503,
      contentType: 'application/problem+json',
      body: { code: 'PALISADE_BULKHEAD_REJECTED' },
    });
    // Another route has its own state.
    expect((await get('/users/3', { headers: { 'x-api-key': 'carol' } })).status).toBe(200);

    // Clients that go away free their slots, and the API cancels its upstream calls.
    for (const client of clients) client.abort();
    for (const outcome of await Promise.all(held)) expect(outcome).toMatchObject({ name: 'AbortError' });
    await eventually(() => expect(api.upstream.stats.cancelled['/search']).toBe(2));
    const after = await get('/search?q=after&delayMs=0');
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ q: 'after', hits: ['after-1', 'after-2'] });
  });

  it("opens the inventory route's breaker after four failures: 503 with Retry-After, upstream spared", async () => {
    for (let i = 0; i < 4; i++) {
      expect(await problem(await get('/inventory/sku-1'))).toMatchObject({ status: 502, body: { status: 502 } });
    }
    // Each of those made two attempts (one outbound retry).
    expect(api.upstream.stats.requests['/inventory/sku-1']).toBe(8);

    for (let i = 0; i < 2; i++) {
      const open = await get('/inventory/sku-1');
      expect(open.headers.get('retry-after')).toBe('30');
      expect(await problem(open)).toMatchObject({
        status: 503,
        contentType: 'application/problem+json',
        body: { code: 'PALISADE_BROKEN_CIRCUIT' },
      });
    }
    expect(api.upstream.stats.requests['/inventory/sku-1']).toBe(8);
    // The open breaker belongs to its route only.
    expect((await get('/users/4', { headers: { 'x-api-key': 'dave' } })).status).toBe(200);
  });
});
