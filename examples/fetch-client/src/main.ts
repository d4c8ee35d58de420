// Calls two local upstreams through one createFetch, with policies per host and per route, and
// prints what happened: the requests each call sent and every event of the policies.
// Run: npm start -w @palisade/example-fetch-client
import { pathToFileURL } from 'node:url';
import { type ResilienceEvent, isResilienceError, pipeline } from '@palisade/core';
import { circuitBreaker } from '@palisade/circuit-breaker';
import { createFetch, isHttpStatusError } from '@palisade/fetch';
import { constant, retry } from '@palisade/retry';
import { type OrdersStats, type SearchStats, startOrders, startSearch } from './upstreams.js';

/** What one call ended with. */
export interface Outcome {
  /** What was called, e.g. `GET /orders/1`. */
  call: string;
  /** The response's status, when there was a response. */
  status?: number;
  /** The JSON body of the response. */
  body?: unknown;
  /** The `code` of the palisade error thrown instead, e.g. `PALISADE_BROKEN_CIRCUIT`. */
  error?: string;
  /** With `error`: when to come back, in ms. */
  retryAfterMs?: number;
  /** Requests actually sent for this call (retries and hedges included). */
  requests: number;
}

/** Everything the script did, for the test. */
export interface Summary {
  /** GET /orders/1: the first try is a 503 with `Retry-After: 1`. */
  order: Outcome;
  /** POST /orders without an `Idempotency-Key`: never retried. */
  postWithoutKey: Outcome;
  /** POST /orders with an `Idempotency-Key`: retried like a GET. */
  postWithKey: Outcome;
  /** GET /legacy/report four times: the route's breaker opens. */
  legacy: Outcome[];
  /** The legacy route's breaker state at the end. */
  legacyBreaker: string;
  /** GET /orders/2 after that: the host's own breaker is not the legacy route's. */
  orderAfterLegacy: Outcome;
  /** GET /search?q=shoes: the first request lands on the slow replica, a hedge on the fast one. */
  search: Outcome;
  /** Every event, in order. */
  events: ResilienceEvent[];
  /** What the upstreams saw. */
  upstreams: { orders: OrdersStats; search: SearchStats };
}

export interface MainOptions {
  /** Where to print. @default process.stdout */
  log?: (line: string) => void;
}

/** One line for an event. */
function describeEvent(event: ResilienceEvent): string {
  const head = `${event.type.padEnd(16)} ${event.name}`;
  const cause = (error: unknown) =>
    isHttpStatusError(error) ? `HTTP ${error.status}` : error instanceof Error ? error.name : String(error);
  switch (event.type) {
    case 'retry':
      return `${head}: attempt ${event.attempt} in ${Math.round(event.delayMs)} ms, after ${cause(event.error)}`;
    case 'failure':
      return `${head}: ${cause(event.error)}`;
    case 'circuit.open':
      return `${head}: ${event.failureRate * 100}% of calls failed, open for ${event.openMs} ms`;
    case 'circuit.rejected':
      return `${head}: rejected (${event.state}), come back in ${event.retryAfterMs} ms`;
    case 'hedge.sent':
      return `${head}: attempt ${event.attempt} sent after ${Math.round(event.afterMs)} ms`;
    case 'hedge.won':
      return `${head}: attempt ${event.attempt} won`;
    default:
      return head;
  }
}

/** Resolves when `done()` holds, or after `limitMs`. */
async function until(done: () => boolean, limitMs: number): Promise<void> {
  for (const start = Date.now(); !done() && Date.now() - start < limitMs; ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function main(options: MainOptions = {}): Promise<Summary> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const orders = await startOrders();
  const search = await startSearch();
  try {
    const events: ResilienceEvent[] = [];
    const onEvent = (event: ResilienceEvent) => {
      events.push(event);
      log(`    ${describeEvent(event)}`);
    };

    // A route can also take a ready-made policy; you keep its handle (state, isolate(), reset()).
    const legacyBreaker = circuitBreaker({ name: 'legacy.circuitBreaker', minimumCalls: 4, openMs: '30s', onEvent });

    let sent = 0;
    const fetchWithPolicies = createFetch({
      // The fetch to wrap (default: globalThis.fetch); this one counts what is actually sent.
      fetch: (input, init) => {
        sent++;
        return fetch(input, init);
      },
      routes: {
        // Per host: everything sent to the orders service. Retry honours Retry-After.
        [orders.host]: { timeout: '10s', retry: { maxAttempts: 3 }, circuitBreaker: { minimumCalls: 10 } },
        // Per route, more specific than the host: the legacy endpoints are gone for good.
        [`GET ${orders.host}/legacy/*`]: pipeline(
          retry({ name: 'legacy.retry', maxAttempts: 2, backoff: constant({ ms: 10 }), onEvent }),
          legacyBreaker,
        ),
        // Per host: the search service, one of whose replicas is slow. Hedge after 200 ms (until 20
        // latencies are known; then after the 95th percentile of them).
        [search.host]: { timeout: '10s', hedge: { delayMs: { percentile: 95, maxMs: 200 } } },
      },
      // Any other host.
      policy: { timeout: '5s', retry: true },
      onEvent,
    });

    const call = async (label: string, url: string, init?: RequestInit): Promise<Outcome> => {
      log(`→ ${label}`);
      const before = sent;
      try {
        const res = await fetchWithPolicies(url, init);
        const body: unknown = await res.json();
        const requests = sent - before;
        log(`← ${res.status} ${JSON.stringify(body)} (${requests} request${requests === 1 ? '' : 's'} sent)\n`);
        return { call: label, status: res.status, body, requests };
      } catch (error) {
        if (!isResilienceError(error)) throw error;
        const requests = sent - before;
        log(`← ${error.name} ${error.code}, retry after ${error.retryAfterMs} ms (${requests} requests sent)\n`);
        return { call: label, error: error.code, retryAfterMs: error.retryAfterMs, requests };
      }
    };

    log(`orders service on ${orders.url} (503 + Retry-After: 1 on each first try; /legacy/* always 500)`);
    log(`search service on ${search.url} (two replicas in turn: one answers in 5 s, the other in 10 ms)\n`);

    const order = await call('GET /orders/1', `${orders.url}/orders/1`);

    const post = (key?: string): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify({ sku: 'sku-1', quantity: 1 }),
    });
    const postWithoutKey = await call('POST /orders', `${orders.url}/orders`, post());
    const postWithKey = await call(
      'POST /orders (Idempotency-Key: order-42)',
      `${orders.url}/orders`,
      post('order-42'),
    );

    const legacy: Outcome[] = [];
    for (let i = 0; i < 4; i++) legacy.push(await call('GET /legacy/report', `${orders.url}/legacy/report`));
    const orderAfterLegacy = await call('GET /orders/2', `${orders.url}/orders/2`);

    const found = await call('GET /search?q=shoes', `${search.url}/search?q=shoes`);
    // The losing request is cancelled: the slow replica sees its client go away.
    await until(() => search.stats.slowCancelled > 0, 5_000);
    log(`the slow replica's request was ${search.stats.slowCancelled > 0 ? 'cancelled' : 'not cancelled (yet)'}`);

    return {
      order,
      postWithoutKey,
      postWithKey,
      legacy,
      legacyBreaker: legacyBreaker.state,
      orderAfterLegacy,
      search: found,
      events,
      upstreams: { orders: orders.stats, search: search.stats },
    };
  } finally {
    await Promise.all([orders.close(), search.close()]);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
