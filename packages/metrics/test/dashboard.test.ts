import { once } from 'node:events';
import { connect } from 'node:net';
import { FakeClock } from '@palisade/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type DashboardHandler, createMetrics, dashboard } from '../src/index.js';
import { emitter } from './fixtures/events.js';
import { type Running, expressServer, honoServer, nodeServer } from './fixtures/servers.js';
import { sseReader } from './fixtures/sse.js';

const T0 = 1_700_000_000_000;

interface Frame {
  full: boolean;
  time: number;
  resolutionMs: number;
  historyMs: number;
  policies: {
    id: string;
    name: string;
    circuit?: { state: string; transitions: { state: string }[] };
    totals: Record<string, number>;
    topKeys: { key: string; calls: number }[];
    points: (number | null)[][];
  }[];
}

function setup(options: { intervalMs?: number } = {}) {
  const clock = new FakeClock({ now: T0 });
  const metrics = createMetrics({ clock, historyMs: '1m' });
  const cb = emitter(metrics.onEvent, 'circuit-breaker', 'payments', () => clock.now());
  const dash = dashboard({ metrics, title: 'checkout', ...options });
  handlers.push(dash);
  return { clock, metrics, cb, dash };
}

const handlers: DashboardHandler[] = [];
const servers: Running[] = [];
afterEach(async () => {
  for (const h of handlers.splice(0)) h.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('dashboard page', () => {
  it('is one self-contained page: nothing is loaded from anywhere else', async () => {
    const { dash } = setup();
    const res = await dash.fetch(new Request('http://svc.local/dashboard'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<title>checkout · resilience</title>');
    expect(html).not.toMatch(/<link\b|<script[^>]*\bsrc=|<img\b|<iframe\b|@import|url\(/i);
    // The only absolute URL is the SVG namespace (an identifier, never fetched).
    expect(new Set(html.match(/https?:\/\/[^\s'"<>)]+/g))).toEqual(new Set(['http://www.w3.org/2000/svg']));
  });

  it('escapes the title', async () => {
    const metrics = createMetrics();
    const dash = dashboard({ metrics, title: '<img src=x onerror=alert(1)>' });
    const html = await (await dash.fetch(new Request('http://x/'))).text();
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
  });

  it('serves one frame as JSON: breaker state, history, keys and the timeline', async () => {
    const { clock, cb, dash } = setup();
    for (let s = 0; s < 20; s++) {
      for (let i = 0; i < 5; i++) cb({ type: 'success', durationMs: 10 + i, key: i < 3 ? 'eu' : 'us' });
      await clock.advance(1_000);
    }
    cb({ type: 'failure', durationMs: 500, error: 'x' });
    cb({ type: 'circuit.open', failureRate: 0.5, slowCallRate: 0, openMs: 5_000 });
    const frame = (await (await dash.fetch(new Request('http://x/?format=json'))).json()) as Frame;
    expect(frame).toMatchObject({ full: true, time: clock.now(), resolutionMs: 1_000, historyMs: 60_000 });
    const [payments] = frame.policies;
    expect(payments?.id).toBe('circuit-breaker/payments');
    expect(payments?.circuit?.state).toBe('open');
    expect(payments?.circuit?.transitions.map((t) => t.state)).toEqual(['open']);
    expect(payments?.totals).toMatchObject({ calls: 101, success: 100, failure: 1 });
    expect(payments?.topKeys.map((k) => [k.key, k.calls])).toEqual([
      ['eu', 60],
      ['us', 40],
    ]);
    const points = payments?.points ?? [];
    expect(points).toHaveLength(60);
    expect(points.at(-1)?.[0]).toBe(Math.floor(clock.now() / 1_000) * 1_000);
    expect(points.at(-2)?.slice(1, 6)).toEqual([5, 0, 0, 0, 0]);
    expect(points.at(-1)?.slice(1, 6)).toEqual([0, 1, 0, 0, 0]);
    expect(points.at(-1)?.[8]).toBeGreaterThan(100); // rolling p99 sees the slow failure
    expect(points[0]?.slice(1, 9)).toEqual([0, 0, 0, 0, 0, null, null, null]);
  });

  it('refuses methods other than GET and HEAD', async () => {
    const { dash } = setup();
    expect((await dash.fetch(new Request('http://x/', { method: 'DELETE' }))).status).toBe(405);
  });
});

describe('dashboard stream', () => {
  it('streams a full frame, then updates every intervalMs, over node:http; a client that leaves is released', async () => {
    const { clock, cb, dash } = setup({ intervalMs: 500 });
    const server = await nodeServer(dash);
    servers.push(server);
    const controller = new AbortController();
    const res = await fetch(`${server.url}/?stream`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    const sse = sseReader(res.body as ReadableStream<Uint8Array>);
    const first = await sse.next();
    expect(first.event).toBe('frame');
    expect((JSON.parse(first.data) as Frame).full).toBe(true);
    expect(dash.clients).toBe(1);

    cb({ type: 'circuit.open', failureRate: 1, slowCallRate: 0, openMs: 1_000 });
    await clock.advance(500);
    const update = JSON.parse((await sse.next()).data) as Frame;
    expect(update.full).toBe(false);
    expect(update.policies[0]?.circuit?.state).toBe('open');
    expect(update.policies[0]?.points.length).toBeLessThan(5);
    expect(clock.pending).toBe(1); // one timer for all clients

    controller.abort();
    await expect.poll(() => dash.clients, { timeout: 10_000 }).toBe(0);
    expect(clock.pending).toBe(0); // nobody watching: no timer
  });

  it('streams through handler.fetch too, and releases the client when the stream is cancelled', async () => {
    const { clock, dash } = setup();
    const res = await dash.fetch(new Request('http://x/dashboard', { headers: { accept: 'text/event-stream' } }));
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const sse = sseReader(res.body as ReadableStream<Uint8Array>);
    expect((JSON.parse((await sse.next()).data) as Frame).full).toBe(true);
    await clock.advance(1_000);
    expect((JSON.parse((await sse.next()).data) as Frame).full).toBe(false);
    expect(dash.clients).toBe(1);
    await sse.cancel();
    expect(dash.clients).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('starts the pages over with a full frame after metrics.reset()', async () => {
    const { clock, metrics, cb, dash } = setup();
    cb({ type: 'success', durationMs: 1 });
    const res = await dash.fetch(new Request('http://x/?stream'));
    const sse = sseReader(res.body as ReadableStream<Uint8Array>);
    expect((JSON.parse((await sse.next()).data) as Frame).policies).toHaveLength(1);
    metrics.reset();
    await clock.advance(1_000);
    const afterReset = JSON.parse((await sse.next()).data) as Frame;
    expect(afterReset).toMatchObject({ full: true, policies: [] });
    await clock.advance(1_000);
    expect((JSON.parse((await sse.next()).data) as Frame).full).toBe(false);
    await sse.cancel();
  });

  /** Twenty policies with traffic on their keys: update frames of some kilobytes each. */
  function busy(metrics: ReturnType<typeof createMetrics>, clock: FakeClock) {
    const policies = Array.from({ length: 20 }, (_, i) =>
      emitter(metrics.onEvent, 'retry', `upstream-${i}`, () => clock.now()),
    );
    return () => {
      for (const emit of policies)
        for (let k = 0; k < 10; k++) emit({ type: 'success', attempt: 1, durationMs: k, key: `key-${k}` });
    };
  }

  it('drops a page that stopped reading once 1 MiB of frames waits for it (handler.fetch)', async () => {
    const { clock, metrics, dash } = setup({ intervalMs: 50 });
    const traffic = busy(metrics, clock);
    const res = await dash.fetch(new Request('http://x/?stream'));
    let queued = 0;
    for (let tick = 0; tick < 20_000 && dash.clients === 1; tick++) {
      traffic();
      await clock.advance(50);
      queued = tick;
    }
    expect(dash.clients).toBe(0);
    expect(clock.pending).toBe(0);
    expect(queued).toBeGreaterThan(20); // it took many frames, not the first one
    // What was queued is still readable; then the stream errors and EventSource reconnects.
    await expect((res.body as ReadableStream<Uint8Array>).pipeTo(new WritableStream())).rejects.toThrow(
      'stopped reading',
    );
  });

  it('drops a page that stopped reading once 1 MiB of frames waits in the process (node:http)', async () => {
    const { clock, metrics, dash } = setup({ intervalMs: 50 });
    const traffic = busy(metrics, clock);
    const server = await nodeServer(dash);
    servers.push(server);
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /?stream HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n');
    await expect.poll(() => dash.clients).toBe(1);
    socket.pause(); // reads nothing more: the kernel buffers fill, then the process's
    const closed = once(socket, 'close');
    socket.on('error', () => {});
    for (let tick = 0; tick < 50_000 && dash.clients === 1; tick++) {
      traffic();
      await clock.advance(50);
      if (tick % 100 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the socket drain what it can
    }
    expect(dash.clients).toBe(0);
    expect(clock.pending).toBe(0);
    socket.resume();
    await closed;
  });

  it('close() ends every open stream', async () => {
    const { dash } = setup();
    const server = await nodeServer(dash);
    servers.push(server);
    const res = await fetch(`${server.url}/?stream`);
    const sse = sseReader(res.body as ReadableStream<Uint8Array>);
    await sse.next();
    dash.close();
    await expect(sse.next()).rejects.toThrow('stream ended');
    expect(dash.clients).toBe(0);
  });

  it.each([
    ['Express app.get', expressServer, '/dashboard'],
    ['Express app.use', expressServer, '/dashboard-mounted'],
    ['Hono app.get', honoServer, '/dashboard'],
    ['Hono app.mount', honoServer, '/dashboard-mounted'],
  ])('mounts in %s: the page and its stream on the same path', async (_name, start, path) => {
    const { dash } = setup();
    const server = await start('/dashboard', dash);
    servers.push(server);
    const page = await fetch(`${server.url}${path}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>checkout');
    const controller = new AbortController();
    const stream = await fetch(`${server.url}${path}?stream`, { signal: controller.signal });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const frame = JSON.parse((await sseReader(stream.body as ReadableStream<Uint8Array>).next()).data) as Frame;
    expect(frame.full).toBe(true);
    controller.abort();
    await expect.poll(() => dash.clients, { timeout: 10_000 }).toBe(0);
  });
});
