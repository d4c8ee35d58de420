// The one behaviour suite of the inbound adapters: run against real Express 5 and Hono (through
// @hono/node-server) apps on 127.0.0.1 with a real HTTP client (Node's fetch). Each adapter's
// test/behaviour.test.ts calls it with its harness.
import { readFileSync, readdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeadlineExceededError, TimeoutError } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { createFetch } from '@palisade/fetch';
import { afterEach, describe, expect, it } from 'vitest';

/** What a framework-neutral handler can read and reply. */
export interface HandlerIO {
  signal: AbortSignal | undefined;
  deadline: number | undefined;
}
export interface Reply {
  status?: number;
  body?: unknown;
}
export type Handler = (io: HandlerIO) => Promise<Reply | undefined> | Reply | undefined;

/** A route of a test app: method, path, palisade middlewares, handler. */
export interface RouteDef {
  method: 'GET' | 'POST';
  path: string;
  middleware: unknown[];
  handler: Handler;
}

export interface AppDef {
  /** App-wide middlewares, before the routes. */
  use?: unknown[];
  routes: RouteDef[];
  /** Trust one proxy in front of the app for `key: 'ip'` (Express: `trust proxy` = 1). */
  trustOneProxy?: boolean;
}

export interface Running {
  url: string;
  /** Errors that reached the framework's error handling after palisade answered (late responses). */
  lateErrors: unknown[];
  close(): Promise<void>;
}

/** The same middleware names and options in both adapters. */
// biome-ignore lint/suspicious/noExplicitAny: the two adapters' option types differ only in the framework's request type
type Factory = (options?: any) => unknown;
export interface AdapterLib {
  rateLimit: Factory;
  concurrencyLimit: Factory;
  timeout: Factory;
  circuitBreaker: Factory;
  resilience: Factory;
}

export interface Harness {
  name: 'express' | 'hono';
  lib: AdapterLib;
  /** Options the adapter needs to trust one proxy (Hono: `proxyHops: 1`; Express: none, see `trustOneProxy`). */
  trustOneProxyOptions: Record<string, unknown>;
  /** Options that make the request's deadline ambient for `createFetch` (Hono: `runWithDeadline`). */
  deadlineOptions: Record<string, unknown>;
  serve(app: AppDef): Promise<Running>;
}

const ok: Handler = () => ({ body: { ok: true } });

/** Resolves when `check()` holds, polling; fails after a generous bound. */
async function until(check: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

const problem = async (res: Response) => ({
  status: res.status,
  type: res.headers.get('content-type'),
  body: (await res.json()) as Record<string, unknown>,
});

/** The route's own answer when a 100 ms `timeout` runs out, as `problem` reads it. */
const TIMEOUT_100MS = {
  status: 504,
  type: 'application/problem+json',
  body: {
    type: 'about:blank',
    title: 'Gateway Timeout',
    status: 504,
    detail: 'The request did not complete within 100 ms.',
    code: 'PALISADE_TIMEOUT',
  },
};

/** A downstream server that records the deadline header of each request. */
async function downstream(): Promise<{ url: string; seen: (string | undefined)[]; close(): Promise<void> }> {
  const seen: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    const value = req.headers['palisade-deadline-ms'];
    seen.push(typeof value === 'string' ? value : undefined);
    res.end('downstream');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function behaviourSuite(harness: Harness): void {
  const { lib } = harness;
  const open: Running[] = [];
  const serve = async (app: AppDef): Promise<Running> => {
    const running = await harness.serve(app);
    open.push(running);
    return running;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });

  describe(`${harness.name}: package`, () => {
    it('depends on exactly the packages its src imports (its peer framework aside)', () => {
      const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../..', harness.name);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
      };
      const peers = Object.keys(manifest.peerDependencies ?? {});
      const imported = new Set<string>();
      for (const file of readdirSync(join(dir, 'src'))) {
        if (!file.endsWith('.ts')) continue;
        const source = readFileSync(join(dir, 'src', file), 'utf8');
        // Statements only: an `@example` in a comment imports nothing.
        for (const [, spec] of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
          if (spec === undefined || spec.startsWith('.') || spec.startsWith('node:')) continue;
          const parts = spec.split('/');
          const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
          if (!peers.includes(name)) imported.add(name);
        }
      }
      expect(imported.size).toBeGreaterThan(3);
      expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual([...imported].sort());
    });
  });

  describe(`${harness.name}: rateLimit`, () => {
    it('sends the exact RateLimit headers on allowed responses and 429 + Retry-After when refused', async () => {
      const clock = new FakeClock({ now: 1_000_000 });
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/limited',
            middleware: [lib.rateLimit({ limit: 2, windowMs: '1m', clock })],
            handler: ok,
          },
        ],
      });
      const first = await fetch(`${app.url}/limited`);
      expect(first.status).toBe(200);
      expect(first.headers.get('ratelimit-policy')).toBe('"default";q=2;w=60');
      expect(first.headers.get('ratelimit')).toBe('"default";r=1;t=30');
      expect(first.headers.get('retry-after')).toBeNull();
      await first.body?.cancel();

      const second = await fetch(`${app.url}/limited`);
      expect(second.status).toBe(200);
      expect(second.headers.get('ratelimit')).toBe('"default";r=0;t=60');
      await second.body?.cancel();

      const third = await fetch(`${app.url}/limited`);
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('30');
      expect(third.headers.get('ratelimit-policy')).toBe('"default";q=2;w=60');
      expect(third.headers.get('ratelimit')).toBe('"default";r=0;t=60');
      // Framed for keep-alive: a length (or chunks), never "read until close".
      expect(third.headers.get('content-length') ?? third.headers.get('transfer-encoding')).toBeTruthy();
      expect(await problem(third)).toEqual({
        status: 429,
        type: 'application/problem+json',
        body: {
          type: 'about:blank',
          title: 'Too Many Requests',
          status: 429,
          detail: 'Rate limit exceeded: retry after 30 s.',
          code: 'PALISADE_RATE_LIMITED',
        },
      });

      await clock.advance(30_000);
      const later = await fetch(`${app.url}/limited`);
      expect(later.status).toBe(200);
      expect(later.headers.get('ratelimit')).toBe('"default";r=0;t=60');
      await later.body?.cancel();
    });

    it('sends the legacy trio when asked, and lets onRejected replace the body', async () => {
      const clock = new FakeClock();
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/legacy',
            middleware: [
              lib.rateLimit({
                limit: 1,
                windowMs: '10s',
                clock,
                rateLimitHeaders: 'legacy',
                onRejected: ({
                  response,
                }: {
                  response: { status: number; headers: Record<string, string>; body: object };
                }) => ({
                  ...response,
                  body: { ...response.body, hint: 'slow down' },
                }),
              }),
            ],
            handler: ok,
          },
        ],
      });
      const first = await fetch(`${app.url}/legacy`);
      expect([first.headers.get('ratelimit-limit'), first.headers.get('ratelimit-remaining')]).toEqual(['1', '0']);
      expect(first.headers.get('ratelimit-reset')).toBe('10');
      expect(first.headers.get('ratelimit')).toBeNull();
      await first.body?.cancel();
      const refused = await fetch(`${app.url}/legacy`);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('10');
      expect(await refused.json()).toMatchObject({ code: 'PALISADE_RATE_LIMITED', hint: 'slow down' });
    });

    it('answers its own 429 when onRejected throws, and reports the error once as a process warning', async () => {
      await new Promise((resolve) => setImmediate(resolve)); // an earlier test's warning goes by first
      const warnings: string[] = [];
      const listener = (warning: Error) => warnings.push(warning.message);
      process.on('warning', listener);
      try {
        const app = await serve({
          routes: [
            {
              method: 'GET',
              path: '/buggy',
              middleware: [
                lib.rateLimit({
                  limit: 1,
                  windowMs: '10s',
                  onRejected: () => {
                    throw new Error('bug in onRejected');
                  },
                }),
              ],
              handler: ok,
            },
          ],
        });
        const first = await fetch(`${app.url}/buggy`);
        await first.body?.cancel();
        for (let i = 0; i < 2; i++) {
          const refused = await fetch(`${app.url}/buggy`);
          expect(refused.status).toBe(429);
          expect(refused.headers.get('retry-after')).toBe('10');
          expect(await refused.json()).toMatchObject({ code: 'PALISADE_RATE_LIMITED' });
        }
        await new Promise((resolve) => setImmediate(resolve));
        expect(warnings).toEqual([expect.stringContaining('the onRejected callback threw (Error: bug in onRejected)')]);
      } finally {
        process.off('warning', listener);
      }
    });

    it('refuses X-Forwarded-For spoofing by default, and reads it only through a trusted proxy', async () => {
      const warnings: string[] = [];
      const limited = (extra: Record<string, unknown>) =>
        lib.rateLimit({ limit: 1, windowMs: '1m', onWarning: (m: string) => warnings.push(m), ...extra });
      const direct = await serve({ routes: [{ method: 'GET', path: '/x', middleware: [limited({})], handler: ok }] });
      const a = await fetch(`${direct.url}/x`, { headers: { 'x-forwarded-for': '203.0.113.1' } });
      const b = await fetch(`${direct.url}/x`, { headers: { 'x-forwarded-for': '203.0.113.2' } });
      expect([a.status, b.status]).toEqual([200, 429]);
      await Promise.all([a.body?.cancel(), b.body?.cancel()]);

      const proxied = await serve({
        trustOneProxy: true,
        routes: [{ method: 'GET', path: '/x', middleware: [limited(harness.trustOneProxyOptions)], handler: ok }],
      });
      const c = await fetch(`${proxied.url}/x`, { headers: { 'x-forwarded-for': '203.0.113.1' } });
      const d = await fetch(`${proxied.url}/x`, { headers: { 'x-forwarded-for': '203.0.113.2' } });
      const e = await fetch(`${proxied.url}/x`, { headers: { 'x-forwarded-for': '198.51.100.9, 203.0.113.1' } });
      expect([c.status, d.status, e.status]).toEqual([200, 200, 429]);
      await Promise.all([c.body?.cancel(), d.body?.cancel(), e.body?.cancel()]);
    });

    it('warns once when the key is a header any client can set', async () => {
      const warnings: string[] = [];
      lib.rateLimit({ key: 'header:x-forwarded-for', onWarning: (m: string) => warnings.push(m) });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/x-forwarded-for header, which any client can set/);
    });

    it('tells clients apart by an API key header', async () => {
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/k',
            middleware: [lib.rateLimit({ limit: 1, windowMs: '1m', key: 'header:x-api-key' })],
            handler: ok,
          },
        ],
      });
      const statuses = [];
      for (const key of ['a', 'b', 'a']) {
        const res = await fetch(`${app.url}/k`, { headers: { 'x-api-key': key } });
        statuses.push(res.status);
        await res.body?.cancel();
      }
      expect(statuses).toEqual([200, 200, 429]);
    });
  });

  describe(`${harness.name}: concurrencyLimit`, () => {
    it('sheds load with 503 under concurrent requests and frees the slots afterwards', async () => {
      const release = gate();
      let running = 0;
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/work',
            middleware: [lib.concurrencyLimit({ maxConcurrent: 2, maxQueue: 0 })],
            handler: async () => {
              running++;
              await release.wait;
              return { body: { done: true } };
            },
          },
        ],
      });
      const first = [fetch(`${app.url}/work`), fetch(`${app.url}/work`)];
      await until(() => running === 2, 'two handlers to start');
      const shed = await Promise.all([1, 2, 3, 4].map(() => fetch(`${app.url}/work`)));
      for (const res of shed) {
        expect(await problem(res)).toMatchObject({
          status: 503,
          type: 'application/problem+json',
          body: { status: 503, title: 'Service Unavailable', code: 'PALISADE_BULKHEAD_REJECTED' },
        });
      }
      expect(running).toBe(2);
      release.open();
      const done = await Promise.all(first);
      expect(done.map((r) => r.status)).toEqual([200, 200]);
      await Promise.all(done.map((r) => r.body?.cancel()));
      // Slots are released when the responses are over.
      const again = await fetch(`${app.url}/work`);
      expect(again.status).toBe(200);
      await again.body?.cancel();
    });

    it('releases the slot of a request whose client went away, aborting its signal', async () => {
      let started = 0;
      let abortedSignal: AbortSignal | undefined;
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/hang',
            middleware: [lib.concurrencyLimit({ maxConcurrent: 1 })],
            handler: async ({ signal }) => {
              started++;
              if (started === 1) {
                abortedSignal = signal;
                await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
              }
              return { body: { started } };
            },
          },
        ],
      });
      const client = new AbortController();
      const hanging = fetch(`${app.url}/hang`, { signal: client.signal }).catch((error: unknown) => error);
      await until(() => started === 1, 'the first handler to start');
      client.abort();
      await hanging;
      await until(() => abortedSignal?.aborted === true, "the handler's signal to abort");
      const next = await fetch(`${app.url}/hang`);
      expect(next.status).toBe(200);
      expect(await next.json()).toEqual({ started: 2 });
    });
  });

  describe(`${harness.name}: failures`, () => {
    it('counts a 5xx response as a drop for the adaptive limit, which lowers it', async () => {
      const changes: { limit: number; previous: number }[] = [];
      const onEvent = (event: { type: string; limit?: number; previous?: number }) => {
        if (event.type === 'limit.changed')
          changes.push({ limit: event.limit as number, previous: event.previous as number });
      };
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/down',
            middleware: [lib.concurrencyLimit({ algorithm: 'aimd', initial: 10, min: 1, max: 10, onEvent })],
            handler: () => ({ status: 503, body: {} }),
          },
        ],
      });
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${app.url}/down`);
        expect(res.status).toBe(503);
        await res.body?.cancel();
      }
      expect(changes.length).toBeGreaterThan(0);
      expect(changes[0]?.limit).toBeLessThan(changes[0]?.previous as number);
    });

    it('lets isFailureResponse decide what the breaker counts', async () => {
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/teapot',
            middleware: [
              lib.circuitBreaker({
                minimumCalls: 2,
                openMs: '1m',
                isFailureResponse: ({ status }: { status: number }) => status === 418,
              }),
            ],
            handler: () => ({ status: 418, body: {} }),
          },
          {
            method: 'GET',
            path: '/error',
            middleware: [lib.circuitBreaker({ minimumCalls: 2, openMs: '1m', isFailureResponse: () => false })],
            handler: () => ({ status: 500, body: {} }),
          },
        ],
      });
      const statuses = async (path: string) => {
        const out = [];
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${app.url}${path}`);
          out.push(res.status);
          await res.body?.cancel();
        }
        return out;
      };
      expect(await statuses('/teapot')).toEqual([418, 418, 503]);
      expect(await statuses('/error')).toEqual([500, 500, 500]);
    });
  });

  describe(`${harness.name}: timeout`, () => {
    it("answers 504, aborts the handler's signal and drops its late response quietly", async () => {
      let seen: AbortSignal | undefined;
      let lateReplied = false;
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/slow',
            middleware: [lib.timeout({ ms: 100 })],
            handler: async ({ signal }) => {
              seen = signal;
              await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
              // Reply after palisade has answered: must be dropped, not crash.
              await sleep(20);
              lateReplied = true;
              return { status: 200, body: { late: true } };
            },
          },
          { method: 'GET', path: '/fine', middleware: [lib.timeout({ ms: 5_000 })], handler: ok },
        ],
      });
      const res = await fetch(`${app.url}/slow`);
      expect(await problem(res)).toEqual(TIMEOUT_100MS);
      expect(seen?.aborted).toBe(true);
      expect(seen?.reason).toBeInstanceOf(TimeoutError);
      await until(() => lateReplied, 'the late reply');
      await sleep(50);
      expect(app.lateErrors).toEqual([]);
      const fine = await fetch(`${app.url}/fine`);
      expect(fine.status).toBe(200);
      expect(await fine.json()).toEqual({ ok: true });
    });

    it('propagates the deadline from an inbound request to an outbound createFetch call', async () => {
      const down = await downstream();
      try {
        const outbound = createFetch();
        const app = await serve({
          routes: [
            {
              method: 'GET',
              path: '/proxy',
              middleware: [lib.timeout({ ms: 5_000, ...harness.deadlineOptions })],
              handler: async ({ deadline }) => {
                const res = await outbound(`${down.url}/x`);
                await res.text();
                return { body: { deadline } };
              },
            },
          ],
        });
        const plain = await fetch(`${app.url}/proxy`);
        expect(typeof ((await plain.json()) as { deadline: unknown }).deadline).toBe('number');
        const ownMs = Number(down.seen[0]);
        expect(ownMs).toBeGreaterThan(0);
        expect(ownMs).toBeLessThanOrEqual(5_000);

        const upstream = await fetch(`${app.url}/proxy`, { headers: { 'palisade-deadline-ms': '800' } });
        expect(upstream.status).toBe(200);
        await upstream.body?.cancel();
        const inboundMs = Number(down.seen[1]);
        expect(inboundMs).toBeGreaterThan(0);
        expect(inboundMs).toBeLessThanOrEqual(800);
      } finally {
        await down.close();
      }
    });

    it('answers 504 at once when the inbound deadline has already passed', async () => {
      let ran = false;
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/late',
            middleware: [lib.timeout({ ms: 5_000 })],
            handler: () => {
              ran = true;
              return { body: {} };
            },
          },
        ],
      });
      const res = await fetch(`${app.url}/late`, { headers: { 'palisade-deadline-ms': '0' } });
      expect(await problem(res)).toMatchObject({ status: 504, body: { code: 'PALISADE_DEADLINE_EXCEEDED' } });
      expect(ran).toBe(false);
    });
    // The route's own timeout and an outbound call bounded by the same deadline end at the same
    // instant. Whichever timer runs first, the client must get the route's own 504.
    for (const via of ['timeout', 'resilience'] as const) {
      it(`answers the route's own 504 when the handler fails with the deadline's error first (${via})`, async () => {
        const down = await downstream();
        try {
          const clock = new FakeClock({ now: 1_000_000 });
          const events: { type: string; name: string }[] = [];
          const onEvent = (event: { type: string; name: string }) => events.push(event);
          const outbound = createFetch({ clock });
          // Set before the request arrives, so it fires before the route's own timer at the same instant.
          const timeIsUp = clock.sleep(100);
          let started = false;
          const middleware =
            via === 'timeout'
              ? lib.timeout({ ms: 100, clock, onEvent, ...harness.deadlineOptions })
              : lib.resilience({
                  clock,
                  onEvent,
                  routes: { 'GET /slow': { timeout: 100 } },
                  ...harness.deadlineOptions,
                });
          const app = await serve({
            routes: [
              {
                method: 'GET',
                path: '/slow',
                middleware: [middleware],
                handler: async () => {
                  started = true;
                  await timeIsUp;
                  // The outbound call inherits the request's deadline, which has just passed: it throws
                  // DeadlineExceededError, and so does the handler, before the route's timeout fires.
                  const res = await outbound(`${down.url}/x`);
                  return { body: { downstream: await res.text() } };
                },
              },
            ],
          });
          const answer = fetch(`${app.url}/slow`);
          await until(() => started, 'the handler to start');
          await clock.advance(100);
          expect(await problem(await answer)).toEqual(TIMEOUT_100MS);
          expect(events.filter((e) => e.type === 'timeout')).toHaveLength(1);
          // The handler's own error still reached the framework's error handling (for logging).
          expect(app.lateErrors).toEqual([expect.any(DeadlineExceededError)]);
          expect(down.seen).toEqual([]);
        } finally {
          await down.close();
        }
      });
    }

    it('emits no timeout event for a response sent in time, even if its delivery outlasts the timeout', async () => {
      const clock = new FakeClock({ now: 1_000_000 });
      const events: string[] = [];
      let signal: AbortSignal | undefined;
      // Large enough that the server cannot hand it all to the client until the client reads it.
      const big = 'x'.repeat(16 * 1024 * 1024);
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/big',
            middleware: [lib.timeout({ ms: 100, clock, onEvent: (e: { type: string }) => events.push(e.type) })],
            handler: (io) => {
              signal = io.signal;
              return { body: { big } };
            },
          },
        ],
      });
      const res = await fetch(`${app.url}/big`);
      expect(res.status).toBe(200);
      // The handler answered at once; the time runs out while the body is still on its way.
      await clock.advance(1_000);
      expect(events).toEqual([]);
      expect(signal?.aborted).toBe(false);
      expect(((await res.json()) as { big: string }).big.length).toBe(big.length);
      await clock.advance(1_000);
      expect(events).toEqual([]);
      expect(app.lateErrors).toEqual([]);
    });
  });

  describe(`${harness.name}: circuitBreaker`, () => {
    it('counts 5xx responses as failures and sheds with 503 + Retry-After while open', async () => {
      let calls = 0;
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/flaky',
            middleware: [lib.circuitBreaker({ minimumCalls: 2, failureRateThreshold: 0.5, openMs: '30s' })],
            handler: () => {
              calls++;
              return { status: 500, body: { broken: true } };
            },
          },
        ],
      });
      const failures = await Promise.all([1, 2].map(() => fetch(`${app.url}/flaky`)));
      expect(failures.map((r) => r.status)).toEqual([500, 500]);
      await Promise.all(failures.map((r) => r.body?.cancel()));
      const shed = await fetch(`${app.url}/flaky`);
      expect(shed.status).toBe(503);
      expect(Number(shed.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(shed.headers.get('retry-after'))).toBeLessThanOrEqual(30);
      expect((await shed.json()) as object).toMatchObject({ code: 'PALISADE_BROKEN_CIRCUIT', status: 503 });
      expect(calls).toBe(2);
    });
  });

  describe(`${harness.name}: aborts`, () => {
    it('frees the queue place of a request whose client leaves while it waits for a slot', async () => {
      const release = gate();
      let started = 0;
      let queued = 0;
      const onEvent = (event: { type: string }) => {
        if (event.type === 'bulkhead.queued') queued++;
      };
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/q',
            middleware: [lib.concurrencyLimit({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: '10s', onEvent })],
            handler: async () => {
              started++;
              await release.wait;
              return { body: { started } };
            },
          },
        ],
      });
      const holder = fetch(`${app.url}/q`);
      await until(() => started === 1, 'the first request to hold the slot');
      const leaving = new AbortController();
      const leaver = fetch(`${app.url}/q`, { signal: leaving.signal }).catch((error: unknown) => error);
      await until(() => queued === 1, 'the second request to wait in the queue');
      leaving.abort();
      await leaver;
      // Its queue place is free again: a third request waits instead of being refused as "full".
      const third = fetch(`${app.url}/q`);
      await until(() => queued === 2, 'the third request to wait in the queue');
      release.open();
      expect((await holder).status).toBe(200);
      const answer = await third;
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ started: 2 });
    });

    it('aborts the handler of a timed-out request and serves the next request on the same connection', async () => {
      let aborted = 0;
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/t',
            middleware: [lib.timeout({ ms: 50 })],
            handler: async ({ signal }) => {
              await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
              aborted++;
              return { status: 500, body: { late: true } };
            },
          },
        ],
      });
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${app.url}/t`);
        expect(res.status).toBe(504);
        await res.body?.cancel();
      }
      await until(() => aborted === 3, 'every handler to see its abort');
      expect(app.lateErrors).toEqual([]);
    });

    it('does not run the handler of a request refused before it started', async () => {
      let ran = 0;
      const app = await serve({
        routes: [
          {
            method: 'GET',
            path: '/r',
            middleware: [lib.rateLimit({ limit: 1, windowMs: '1h' }), lib.timeout({ ms: 1_000 })],
            handler: () => {
              ran++;
              return { body: {} };
            },
          },
        ],
      });
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${app.url}/r`);
        statuses.push(res.status);
        await res.body?.cancel();
      }
      expect(statuses).toEqual([200, 429, 429]);
      expect(ran).toBe(1);
    });
  });

  describe(`${harness.name}: resilience`, () => {
    it('keeps each route in its own state: one route’s limit never touches another’s', async () => {
      const clock = new FakeClock();
      const protect = lib.resilience({
        clock,
        routes: {
          'GET /a': { rateLimit: { limit: 1, windowMs: '1m' } },
          'GET /b': { rateLimit: { limit: 1, windowMs: '1m' } },
          'GET /users/:id': { rateLimit: { limit: 2, windowMs: '1m' } },
          '/admin/*': { rateLimit: { limit: 1, windowMs: '1m', key: 'header:x-api-key' } },
        },
      });
      const routes: RouteDef[] = ['/a', '/b', '/users/:id', '/admin/panel', '/free'].map((path) => ({
        method: 'GET',
        path,
        middleware: [],
        handler: ok,
      }));
      const app = await serve({ use: [protect], routes });
      const status = async (path: string, headers?: Record<string, string>) => {
        const res = await fetch(`${app.url}${path}`, headers ? { headers } : {});
        await res.body?.cancel();
        return res.status;
      };
      expect(await status('/a')).toBe(200);
      expect(await status('/a')).toBe(429);
      expect(await status('/b')).toBe(200);
      expect(await status('/b')).toBe(429);
      expect(await status('/users/1')).toBe(200);
      expect(await status('/users/2')).toBe(200);
      expect(await status('/users/3')).toBe(429);
      expect(await status('/admin/panel', { 'x-api-key': 'k1' })).toBe(200);
      expect(await status('/admin/panel', { 'x-api-key': 'k2' })).toBe(200);
      expect(await status('/admin/panel', { 'x-api-key': 'k1' })).toBe(429);
      for (let i = 0; i < 5; i++) expect(await status('/free')).toBe(200);
      // HEAD follows the GET route's spec (and state).
      const head = await fetch(`${app.url}/a`, { method: 'HEAD' });
      expect(head.status).toBe(429);
    });

    it('applies the default spec, timeouts and breakers per route', async () => {
      const release = gate();
      let orders = 0;
      const app = await serve({
        use: [
          lib.resilience({
            routes: {
              'GET /slow': { timeout: 100 },
              'POST /orders': { bulkhead: { maxConcurrent: 1 } },
            },
            default: { circuitBreaker: { minimumCalls: 1, openMs: '1m' } },
          }),
        ],
        routes: [
          {
            method: 'GET',
            path: '/slow',
            middleware: [],
            handler: async ({ signal }) => {
              await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
              return { body: {} };
            },
          },
          {
            method: 'POST',
            path: '/orders',
            middleware: [],
            handler: async () => {
              orders++;
              await release.wait;
              return { status: 201, body: {} };
            },
          },
          { method: 'GET', path: '/other', middleware: [], handler: () => ({ status: 500, body: {} }) },
        ],
      });
      expect((await fetch(`${app.url}/slow`)).status).toBe(504);
      const order = fetch(`${app.url}/orders`, { method: 'POST' });
      await until(() => orders === 1, 'the first order to start');
      expect((await fetch(`${app.url}/orders`, { method: 'POST' })).status).toBe(503);
      release.open();
      expect((await order).status).toBe(201);
      expect((await fetch(`${app.url}/other`)).status).toBe(500);
      expect((await fetch(`${app.url}/other`)).status).toBe(503);
    });

    it('throws at start-up naming the route and the field of a bad spec', () => {
      expect(() => lib.resilience({ routes: { 'GET /users/:id': { rateLimit: { limit: 0 } } } })).toThrow(
        /route "GET \/users\/:id": rateLimit: @palisade\/rate-limit: "limit" must be an integer ≥ 1 \(got 0\)/,
      );
      expect(() => lib.resilience({ routes: { 'POST /orders': { timeout: 'soon' } } })).toThrow(
        /route "POST \/orders": timeout: @palisade\/timeout: "ms" must be a duration/,
      );
      expect(() => lib.resilience({ routes: { 'GET /x': { retry: { maxAttempts: 3 } } } })).toThrow(
        /route "GET \/x": "retry" cannot protect an inbound route/,
      );
      expect(() => lib.resilience({ routes: { 'GET /x': { rateLimit: { key: 'cookie' } } } })).toThrow(
        /route "GET \/x": rateLimit: .*"key" must be 'ip', 'header:<name>' or a function \(got "cookie"\)/,
      );
      expect(() => lib.resilience({ routes: { 'GET /files/*/raw': {} } })).toThrow(
        /route "GET \/files\/\*\/raw" is not a valid route key: "\*" may only be the last path segment/,
      );
      expect(() => lib.resilience({ routes: {}, default: { circuitBreaker: { openMs: -1 } } })).toThrow(
        /default route: circuitBreaker: @palisade\/circuit-breaker: "openMs"/,
      );
    });
  });
}
