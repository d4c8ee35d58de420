// createFetch against real node:http servers on 127.0.0.1, with the real retry, circuit breaker,
// hedge and timeout packages (built from specs, or passed as policies). No fetch is mocked: what is
// asserted is what the server saw — requests, bodies, headers, sockets opened and closed.
import { getEventListeners } from 'node:events';
import { BrokenCircuitError, type ResilienceEvent, TimeoutError, pipeline } from '@palisade/core';
import { circuitBreaker } from '@palisade/circuit-breaker';
import { hedge } from '@palisade/hedge';
import { retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';
import { afterEach, describe, expect, it } from 'vitest';
import { createFetch, runWithDeadline } from '../src/index.js';
import { type Handler, type TestServer, eventually, startServer } from './helpers/server.js';

const servers: TestServer[] = [];
const serve = async (handler: Handler) => {
  const server = await startServer(handler);
  servers.push(server);
  return server;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Replies with `statuses` in turn (the last one repeats), echoing the request body. */
const sequence = (...statuses: number[]): Handler => {
  let n = 0;
  return (_req, res, seen) => {
    const status = statuses[Math.min(n++, statuses.length - 1)] as number;
    res.writeHead(status, status === 503 ? { 'retry-after': '0' } : {});
    res.end(`${status} ${seen.body}`);
  };
};

const fastRetry = { maxAttempts: 3, backoff: { type: 'constant', ms: 10 } } as const;

/** The part of an undici Dispatcher (Node's fetch's `init.dispatcher`) these tests use. */
interface UndiciDispatcher {
  dispatch(options: object, handler: object): boolean;
}

describe('createFetch() against real servers', () => {
  it('retries a 503, honouring Retry-After (seconds), and returns the success', async () => {
    const arrivals: number[] = [];
    const server = await serve((_req, res) => {
      arrivals.push(performance.now());
      if (arrivals.length === 1) {
        res.writeHead(503, { 'retry-after': '1' });
        res.end('busy');
      } else res.end('ok');
    });
    const f = createFetch({ policy: { timeout: '20s', retry: fastRetry } });
    const res = await f(`${server.url}/items`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(server.requests).toHaveLength(2);
    // The 10 ms backoff was raised to the second the server asked for (a lower bound only).
    expect((arrivals[1] as number) - (arrivals[0] as number)).toBeGreaterThanOrEqual(950);
  });

  it('honours a Retry-After HTTP-date too', async () => {
    const arrivals: number[] = [];
    const server = await serve((_req, res) => {
      arrivals.push(Date.now());
      if (arrivals.length === 1) {
        res.writeHead(503, { 'retry-after': new Date(Date.now() + 2_000).toUTCString() });
        res.end();
      } else res.end('ok');
    });
    const res = await createFetch({ policy: { retry: fastRetry } })(`${server.url}/`);
    expect(res.status).toBe(200);
    // An HTTP-date has whole seconds: at least one full second was waited.
    expect((arrivals[1] as number) - (arrivals[0] as number)).toBeGreaterThanOrEqual(950);
  });

  it('returns the last 503 Response (fetch semantics) when retries run out', async () => {
    const server = await serve(sequence(503));
    const res = await createFetch({ policy: { retry: fastRetry } })(`${server.url}/`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('0');
    expect(await res.text()).toBe('503 ');
    expect(server.requests).toHaveLength(3);
  });

  it('does not retry a POST (but does with an Idempotency-Key)', async () => {
    const server = await serve(sequence(503, 503, 200));
    const f = createFetch({ policy: { retry: fastRetry, circuitBreaker: true } });
    const res = await f(`${server.url}/orders`, { method: 'POST', body: 'order-1' });
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('503 order-1');
    expect(server.requests).toHaveLength(1);
    const keyed = await f(`${server.url}/orders`, {
      method: 'POST',
      body: 'order-2',
      headers: { 'idempotency-key': 'order-2' },
    });
    expect(keyed.status).toBe(200);
    expect(server.requests.map((r) => r.body)).toEqual(['order-1', 'order-2', 'order-2']);
  });

  it('replays request bodies on every attempt: init bodies and Request bodies', async () => {
    const server = await serve(sequence(503, 503, 200, 503, 503, 200));
    const f = createFetch({ policy: { retry: fastRetry } });
    const a = await f(`${server.url}/a`, { method: 'PUT', body: new Blob(['blob-body']) });
    expect(await a.text()).toBe('200 blob-body');
    const request = new Request(`${server.url}/b`, {
      method: 'PUT',
      body: 'request-body',
      headers: { 'content-type': 'text/plain' },
    });
    const b = await f(request);
    expect(await b.text()).toBe('200 request-body');
    expect(server.requests.map((r) => r.body)).toEqual([
      'blob-body',
      'blob-body',
      'blob-body',
      'request-body',
      'request-body',
      'request-body',
    ]);
    expect(server.requests.slice(3).every((r) => r.headers['content-type'] === 'text/plain')).toBe(true);
  });

  it('keeps a breaker per host: one dead host does not open another', async () => {
    const dead = await serve((_req, res) => {
      res.writeHead(500);
      res.end();
    });
    const healthy = await serve((_req, res) => res.end('ok'));
    const events: ResilienceEvent[] = [];
    const f = createFetch({
      policy: { circuitBreaker: { minimumCalls: 4, window: { kind: 'count', size: 4 }, openMs: '1m' } },
      onEvent: (e) => events.push(e),
    });
    for (let i = 0; i < 4; i++) expect((await f(`${dead.url}/`)).status).toBe(500);
    await expect(f(`${dead.url}/`)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(dead.requests).toHaveLength(4); // the open breaker did not touch the server
    for (let i = 0; i < 10; i++) expect((await f(`${healthy.url}/`)).status).toBe(200);
    expect(healthy.requests).toHaveLength(10);
    expect(events.filter((e) => e.type === 'circuit.open').map((e) => e.key)).toEqual([dead.host]);
  });

  it('a breaker passed as a Policy, keyed by host through the key createFetch passes', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    const breaker = circuitBreaker({ minimumCalls: 2, window: { kind: 'count', size: 2 } });
    const f = createFetch({ routes: { '127.0.0.1': pipeline(timeout({ ms: '5s' }), breaker) } });
    await f(`${server.url}/`);
    await f(`${server.url}/`);
    expect(breaker.state).toBe('open');
    await expect(f(`${server.url}/`)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(server.requests).toHaveLength(2);
  });

  it('hedges a request that has not answered: the hedge wins and the loser is aborted', async () => {
    let n = 0;
    const server = await serve((_req, res) => {
      if (++n === 1) return; // the slow replica: never answers
      res.end('fast');
    });
    const events: ResilienceEvent[] = [];
    const f = createFetch({
      routes: { 'GET 127.0.0.1/search': { hedge: { delayMs: 100, budgetPercent: 100 } } },
      onEvent: (e) => events.push(e),
    });
    const res = await f(`${server.url}/search?q=x`);
    expect(await res.text()).toBe('fast');
    expect(server.requests).toHaveLength(2);
    await eventually(() => expect(server.requests[0]?.aborted).toBe(true));
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['hedge.sent', 'hedge.won']));
    expect(events.find((e) => e.type === 'hedge.won')).toMatchObject({ attempt: 2, key: server.host });
  });

  it('a timeout aborts the request: the server sees its connection close', async () => {
    const server = await serve(() => {}); // never answers
    const f = createFetch({ policy: { timeout: 200 } });
    await expect(f(`${server.url}/hang`)).rejects.toBeInstanceOf(TimeoutError);
    await eventually(() => {
      expect(server.requests[0]?.aborted).toBe(true);
      expect(server.requests[0]?.socketClosed).toBe(true);
      expect(server.activeRequests).toBe(0);
    });
  });

  it('an attempt timeout inside retry closes each hung attempt and retries', async () => {
    let n = 0;
    const server = await serve((_req, res) => {
      if (++n < 3) return; // two hung attempts
      res.end('third time');
    });
    const f = createFetch({ policy: { timeout: '20s', retry: fastRetry, attemptTimeout: 200 } });
    const res = await f(`${server.url}/`);
    expect(await res.text()).toBe('third time');
    await eventually(() => expect(server.requests.slice(0, 2).every((r) => r.aborted)).toBe(true));
  });

  it('the caller aborting rejects with its reason and closes the connection', async () => {
    let arrived: () => void = () => {};
    const arrival = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const server = await serve(() => arrived());
    const controller = new AbortController();
    const f = createFetch({ policy: { timeout: '20s', retry: fastRetry, circuitBreaker: true } });
    const p = f(`${server.url}/`, { signal: controller.signal });
    await arrival;
    const reason = new Error('user left');
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
    await eventually(() => {
      expect(server.requests[0]?.aborted).toBe(true);
      expect(server.requests[0]?.socketClosed).toBe(true);
      expect(server.activeRequests).toBe(0);
    });
    expect(server.requests).toHaveLength(1); // an abort is never retried
  });

  describe("on Node's fetch: attempts stopped through undici's dispatcher, or a signal when the caller has one", () => {
    /** undici's global dispatcher (Node's fetch creates it on first use). */
    const globalDispatcher = async (url: string): Promise<UndiciDispatcher> => {
      await (await fetch(url)).text();
      return (globalThis as { [key: symbol]: UndiciDispatcher })[
        Symbol.for('undici.globalDispatcher.1')
      ] as UndiciDispatcher;
    };

    it("sends through the caller's own init.dispatcher, and a timeout still closes the connection", async () => {
      const server = await serve((req, res) => {
        if (req.url !== '/hang') res.end('ok');
      });
      const base = await globalDispatcher(`${server.url}/warm`);
      let dispatched = 0;
      const own: UndiciDispatcher = {
        dispatch(options, handler) {
          dispatched++;
          return base.dispatch(options, handler);
        },
      };
      const f = createFetch({ policy: { timeout: 300 } });
      const res = await f(`${server.url}/ok`, { dispatcher: own } as RequestInit);
      expect(await res.text()).toBe('ok');
      expect(dispatched).toBe(1);
      await expect(f(`${server.url}/hang`, { dispatcher: own } as RequestInit)).rejects.toBeInstanceOf(TimeoutError);
      expect(dispatched).toBe(2);
      await eventually(() => {
        expect(server.requests.at(-1)?.socketClosed).toBe(true);
        expect(server.activeRequests).toBe(0);
      });
    });

    it("a long-lived caller signal gathers no listeners across calls: undici's of its first call and the relays' one, at most", async () => {
      let n = 0;
      const server = await serve((_req, res) => {
        if (++n % 3 === 0) return void setTimeout(() => res.end('slow'), 60);
        res.end('ok');
      });
      const controller = new AbortController();
      const f = createFetch({
        policy: { timeout: '5s', retry: fastRetry, hedge: { delayMs: 20, budgetPercent: 100 }, attemptTimeout: 1_000 },
      });
      for (let i = 0; i < 30; i++) await (await f(`${server.url}/`, { signal: controller.signal })).text();
      expect(n).toBeGreaterThan(30); // some calls were hedged
      // fetch gets the signal itself once (undici's listener goes when that Request is collected,
      // see test/signal-relay.test.ts) and a relay of it for every later attempt.
      expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(2);
    });

    it('a caller abort right after the call, before the request is written: rejects with its reason, nothing is sent', async () => {
      const server = await serve((_req, res) => res.end('ok'));
      const f = createFetch({ policy: { timeout: '10s', retry: fastRetry, circuitBreaker: true } });
      await (await f(`${server.url}/warm`)).text();
      const controller = new AbortController();
      const p = f(`${server.url}/never`, { signal: controller.signal });
      const reason = new Error('changed my mind');
      controller.abort(reason);
      await expect(p).rejects.toBe(reason);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(server.requests.map((r) => r.path)).toEqual(['/warm']);
      // The connection it would have used serves the next call.
      expect(await (await f(`${server.url}/next`)).text()).toBe('ok');
    });

    it('a timeout before undici has started the request rejects at once, and the request is ended when it starts', async () => {
      const server = await serve((_req, res) => {
        setTimeout(() => res.end('late'), 2_000);
      });
      const base = await globalDispatcher(`${server.url}/warm`);
      const warmed = server.requests.length;
      // A dispatcher that holds each request 400 ms before passing it on (a busy pool, a proxy).
      let forwarded = false;
      const slow: UndiciDispatcher = {
        dispatch(options, handler) {
          setTimeout(() => {
            forwarded = true;
            base.dispatch(options, handler);
          }, 400);
          return true;
        },
      };
      const f = createFetch({ policy: { timeout: 100 } });
      await expect(f(`${server.url}/slow`, { dispatcher: slow } as RequestInit)).rejects.toBeInstanceOf(TimeoutError);
      expect(forwarded).toBe(false);
      // Once passed on, the request is aborted as undici writes it: never answered, socket gone.
      await eventually(() => expect(forwarded).toBe(true));
      await eventually(() => {
        expect(server.activeRequests).toBe(0);
        for (const seen of server.requests.slice(warmed)) expect(seen.aborted).toBe(true);
      });
    });
  });

  it("the caller's abort rejects with its reason, counts for nothing in the breaker and is not retried", async () => {
    let arrived: () => void = () => {};
    const server = await serve(() => arrived()); // never answers
    const breaker = circuitBreaker({ minimumCalls: 2, failureRateThreshold: 0.5 });
    const f = createFetch({
      policy: pipeline(timeout({ ms: '20s' }), retry({ maxAttempts: 3, backoff: () => 10 }), breaker),
    });
    for (let i = 0; i < 3; i++) {
      const arrival = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const controller = new AbortController();
      const p = f(`${server.url}/${i}`, { signal: controller.signal });
      await arrival;
      const reason = new Error(`left ${i}`);
      controller.abort(reason);
      await expect(p).rejects.toBe(reason);
    }
    expect(breaker.stats()).toMatchObject({ state: 'closed', calls: 0, failures: 0 });
    // Not retried either: one request a call.
    expect(server.requests).toHaveLength(3);
  });

  it('the caller aborting while reading the body stops the body, as with fetch', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write('first chunk');
    });
    const controller = new AbortController();
    const f = createFetch({ policy: { timeout: '20s', retry: fastRetry } });
    const res = await f(`${server.url}/`, { signal: controller.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort(new Error('enough'));
    await expect(reader.read()).rejects.toThrow();
    await eventually(() => {
      expect(server.requests[0]?.socketClosed).toBe(true);
      expect(server.activeRequests).toBe(0);
    });
  });

  /** A server whose first two answers are 503s with a body that never ends, then 200s. */
  const stallingErrors = () => {
    let n = 0;
    return serve((_req, res) => {
      if (++n <= 2) {
        // Left unread and uncancelled, such a body holds its socket busy for good.
        res.writeHead(503, { 'retry-after': '0' });
        res.write('partial error page');
        return;
      }
      res.end('ok');
    });
  };

  it('control: plain fetch that drops retried responses unread leaves their sockets busy', async () => {
    const server = await stallingErrors();
    const dropped: Response[] = []; // held, so that no garbage collection can close them either
    let res = await fetch(`${server.url}/`);
    while (res.status === 503) {
      dropped.push(res);
      res = await fetch(`${server.url}/`);
    }
    expect(await res.text()).toBe('ok');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.activeRequests).toBe(2);
    expect(server.openSockets).toBeGreaterThanOrEqual(2);
    for (const r of dropped) await r.body?.cancel();
  });

  it('cancels the bodies of retried responses: the server sees their connections close', async () => {
    const server = await stallingErrors();
    const f = createFetch({ policy: { retry: fastRetry } });
    const res = await f(`${server.url}/`);
    expect(await res.text()).toBe('ok');
    await eventually(() => {
      expect(server.requests.map((r) => r.aborted)).toEqual([true, true, false]);
      expect(server.requests.slice(0, 2).every((r) => r.socketClosed)).toBe(true);
      expect(server.activeRequests).toBe(0);
    });
  });

  it('returns the last 503 with its body streaming, having cancelled the earlier ones', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(503, { 'retry-after': '0' });
      res.write('partial');
    });
    const res = await createFetch({ policy: { retry: fastRetry } })(`${server.url}/`);
    expect(res.status).toBe(503);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('partial');
    await eventually(() => {
      expect(server.requests.map((r) => r.aborted)).toEqual([true, true, false]);
      expect(server.activeRequests).toBe(1); // the one returned, still being read
    });
    await reader.cancel();
    await eventually(() => expect(server.activeRequests).toBe(0));
  });

  it('with real policies passed as a pipeline, behaves the same', async () => {
    const server = await serve(sequence(503, 200));
    const policy = pipeline(
      timeout({ ms: '10s' }),
      retry({ maxAttempts: 3, backoff: { type: 'constant', ms: 10 } }),
      circuitBreaker(),
      hedge({ delayMs: '5s' }),
    );
    const res = await createFetch({ policy })(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(server.requests).toHaveLength(2);
  });

  it('sends the inbound deadline on as palisade-deadline-ms', async () => {
    const server = await serve((_req, res) => res.end());
    const f = createFetch({ policy: { timeout: '10s' } });
    await runWithDeadline(Date.now() + 3_000, () => f(`${server.url}/`));
    await f(`${server.url}/`);
    const [inbound, own] = server.requests.map((r) => Number(r.headers['palisade-deadline-ms']));
    expect(inbound).toBeGreaterThan(0);
    expect(inbound).toBeLessThanOrEqual(3_000);
    expect(own).toBeGreaterThan(3_000);
    expect(own).toBeLessThanOrEqual(10_000);
  });

  it("adds the deadline header beside the caller's headers in every shape, and leaves the caller's own alone", async () => {
    const server = await serve((_req, res) => res.end());
    const f = createFetch({ policy: { timeout: '10s' } });
    await f(`${server.url}/object`, { headers: { 'x-a': '1' } });
    await f(`${server.url}/pairs`, { headers: [['x-a', '2']] });
    await f(`${server.url}/headers`, { headers: new Headers({ 'x-a': '3' }) });
    await f(`${server.url}/own`, { headers: { 'X-A': '4', 'Palisade-Deadline-Ms': '42' } });
    const seen = server.requests.map((r) => [r.path, r.headers['x-a'], r.headers['palisade-deadline-ms']]);
    expect(seen.slice(0, 3).map(([path, a]) => [path, a])).toEqual([
      ['/object', '1'],
      ['/pairs', '2'],
      ['/headers', '3'],
    ]);
    for (const [, , deadline] of seen.slice(0, 3)) {
      expect(Number(deadline)).toBeGreaterThan(9_000);
      expect(Number(deadline)).toBeLessThanOrEqual(10_000);
    }
    expect(seen[3]).toEqual(['/own', '4', '42']);
  });
});
