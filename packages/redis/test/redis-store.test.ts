import { type ResilienceEvent, RateLimitedError, systemClock } from '@palisade/core';
import { type RateLimitDecision, gcra, gcraRule, rateLimit, throttle } from '@palisade/rate-limit';
import { Redis } from 'ioredis';
import { type RedisClientType, createClient } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type IORedisClient, type RedisClient, redisStore } from '../src/index.js';
import { REDIS_URL, describeRedis, ownRedis, serverMicros, uniquePrefix } from './helpers/redis.js';

// Server time moves between calls, so waits are asserted within a few ms, never exactly.
const within = (actual: number, expected: number, slackMs = 150) => {
  expect(actual).toBeLessThanOrEqual(expected);
  expect(actual).toBeGreaterThanOrEqual(expected - slackMs);
};

describeRedis('redisStore() against a real Redis', () => {
  let client: RedisClientType;
  beforeAll(async () => {
    client = createClient({ url: REDIS_URL });
    client.on('error', () => {});
    await client.connect();
  });
  afterAll(() => client.quit());

  const policy = (over: Parameters<typeof rateLimit>[0] = {}) => {
    const prefix = uniquePrefix('store');
    return {
      prefix,
      limiter: rateLimit({ limit: 10, windowMs: 1_000, name: 'api', store: redisStore({ client, prefix }), ...over }),
    };
  };

  it('lets the burst through, then refuses with the time to come back; a refusal takes nothing', async () => {
    const { limiter } = policy();
    const decisions: RateLimitDecision[] = [];
    for (let i = 0; i < 10; i++) decisions.push(await limiter.consume('k'));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(decisions.map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    within(decisions[0]?.resetMs ?? 0, 100);
    const refused = await limiter.consume('k');
    expect(refused).toMatchObject({ allowed: false, limit: 10, remaining: 0 });
    within(refused.retryAfterMs, 100);
    within(refused.resetMs, 1_000);
    const refusedBig = await limiter.consume('k', 5);
    within(refusedBig.retryAfterMs, 500);
    await new Promise((r) => setTimeout(r, refused.retryAfterMs + 5));
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('a burst issued in one tick (one script call) is decided in order: exactly the burst goes through', async () => {
    const { limiter } = policy();
    const decisions = await Promise.all(Array.from({ length: 15 }, () => limiter.consume('k')));
    expect(decisions.map((d) => d.allowed)).toEqual([...Array(10).fill(true), ...Array(5).fill(false)]);
    expect(decisions.map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0]);
    expect((await limiter.consume('k')).allowed).toBe(false);
  });

  it('one call deciding many keys, costs and waits makes the decisions of gcra(), one after the other', async () => {
    // One unit per second, so every decision of the call is whole seconds apart on one clock.
    const rule = { name: 'seq', limit: 5, windowMs: 5_000, burst: 5, clock: systemClock };
    const bound = redisStore({ client, prefix: uniquePrefix('seq') }).bind(rule);
    const calls: [key: string, cost: number, maxWaitMs: number][] = [
      ['x', 1, 0],
      ['y', 2, 0],
      ['x', 3, 0],
      ['x', 2, 0],
      ['y', 0, 0],
      ['x', 1, 2_000],
      ['y', 3, 0],
      ['y', 2, 0],
      ['x', 1, 4_000],
      ['y', 1, 3_000],
      ['x', 0, 0],
      ['y', 5, 0],
      ['x', 2, 0],
    ];
    const got = await Promise.all(calls.map(([key, cost, wait]) => bound.consume(key, cost, wait)));
    const tats = new Map<string, number>();
    const expected = calls.map(([key, cost, wait]) => {
      const d = gcra(tats.get(key), 0, cost, wait, gcraRule(rule));
      if (d.allowed) tats.set(key, d.tat);
      return d;
    });
    const view = ({ allowed, remaining, resetMs, retryAfterMs }: RateLimitDecision) => ({
      allowed,
      remaining,
      resetMs,
      retryAfterMs,
    });
    expect(got.map(view)).toEqual(expected.map(view));
    expect(expected.filter((d) => !d.allowed).length).toBeGreaterThan(2); // the sequence refuses some
  });

  it('execute() rejects with a RateLimitedError carrying the headers fields', async () => {
    const { limiter } = policy({ limit: 1, windowMs: '1m' });
    await expect(limiter.execute(() => 'ok', { key: 'x' })).resolves.toBe('ok');
    const error = await limiter.execute(() => 'no', { key: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ limit: 1, remaining: 0, windowMs: 60_000 });
    within((error as RateLimitedError).retryAfterMs, 60_000, 1_000);
  });

  it('keys are fields of one hash per span, <prefix><name>:<span µs>:<n>, gone within three spans; cost 0 writes nothing', async () => {
    // 10 per second: a burst of 1 s plus a step of 100 ms, so the hashes span 2 s.
    const { prefix, limiter } = policy();
    await limiter.consume('who', 0);
    expect(await client.keys(`${prefix}*`)).toEqual([]);
    const before = await serverMicros(client);
    await limiter.consume('who', 3);
    const after = await serverMicros(client);
    const keys = await client.keys(`${prefix}*`);
    expect(keys).toHaveLength(1);
    const [hash] = keys as [string];
    const match = /^(.*):2000000:(\d+)$/.exec(hash);
    expect(match?.[1]).toBe(`${prefix}api`);
    // The span the call ran in, and its TAT 300 ms on, relative to the span's start.
    const start = Number(match?.[2]) * 2_000_000;
    expect(start).toBeLessThanOrEqual(after);
    expect(start).toBeGreaterThan(before - 2_000_000);
    const tat = Number(await client.hGet(hash, 'who')) + start;
    expect(tat - before).toBeGreaterThanOrEqual(300_000);
    expect(tat - after).toBeLessThanOrEqual(300_000);
    // Unlinked by the first write two spans on; if the policy goes quiet, it expires when the span
    // after next ends: at most 6 s on, at least 4 s.
    const ttl = await client.pTTL(hash);
    expect(ttl).toBeGreaterThan(3_900);
    expect(ttl).toBeLessThanOrEqual(6_000);
  });

  it('a key’s state carries over into the next span, and is written there', async () => {
    // 1 per 900 ms with no burst: the TAT is at most 900 ms ahead; the hashes span 2 s.
    const store = redisStore({ client, prefix: uniquePrefix('span') });
    const bound = store.bind({ name: 's', limit: 1, windowMs: 900, burst: 1, clock: systemClock });
    const msLeftInSpan = async () => 2_000 - (((await serverMicros(client)) / 1_000) % 2_000);
    // Take the unit in the last 400 ms of a span (server time); a stalled machine tries again.
    let key = '';
    let left = 0;
    for (let attempt = 0; attempt < 4; attempt++) {
      const untilLast300 = Math.max(0, (await msLeftInSpan()) - 300);
      await new Promise((r) => setTimeout(r, untilLast300));
      key = `k${attempt}`;
      expect((await bound.consume(key, 1)).allowed).toBe(true);
      left = await msLeftInSpan();
      if (left <= 400) break;
    }
    expect(left).toBeLessThanOrEqual(400);
    // In the next span the key is still refused: its state was found in the previous hash.
    await new Promise((r) => setTimeout(r, left + 50));
    const refused = await bound.consume(key, 1);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(900);
    await new Promise((r) => setTimeout(r, refused.retryAfterMs + 5));
    expect((await bound.consume(key, 1)).allowed).toBe(true);
    // Two spans' hashes hold it: the old one, and the one the last consume wrote it to.
    const hashes = (await client.keys(`${store.prefix}s:2000000:*`)).sort();
    const holding: string[] = [];
    for (const hash of hashes) if (Number(await client.hExists(hash, key)) === 1) holding.push(hash);
    expect(holding).toHaveLength(2);
  });

  it('a reservation further ahead than the hashes keep is a key of its own, read while it lasts', async () => {
    // 1 per second, burst 1: hashes span 2 s and keep TATs up to 4 s past their span's start.
    const store = redisStore({ client, prefix: uniquePrefix('far') });
    const bound = store.bind({ name: 'f', limit: 1, windowMs: 1_000, burst: 1, clock: systemClock });
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) waits.push((await bound.consume('k', 1, 10_000)).retryAfterMs);
    for (let i = 0; i < 7; i++) within(waits[i] ?? 0, i * 1_000);
    // The last TATs (6 and 7 s ahead) went to <base>:k:<key>, with <base> itself kept as long.
    const far = `${store.prefix}f:k:k`;
    const ttl = await client.pTTL(far);
    expect(ttl).toBeGreaterThan(6_500);
    expect(ttl).toBeLessThanOrEqual(7_001);
    expect(await client.pTTL(`${store.prefix}f`)).toBeGreaterThanOrEqual(ttl - 5);
    // Read back: the next reservation queues behind it, another key is not affected.
    within((await bound.consume('k', 1, 10_000)).retryAfterMs, 7_000);
    expect((await bound.consume('other', 1)).allowed).toBe(true);
  });

  it('policies sharing one store keep their keys apart by name', async () => {
    const store = redisStore({ client, prefix: uniquePrefix('names') });
    const a = rateLimit({ limit: 1, windowMs: '1m', name: 'a', store });
    const b = rateLimit({ limit: 1, windowMs: '1m', name: 'b', store });
    expect((await a.consume('k')).allowed).toBe(true);
    expect((await a.consume('k')).allowed).toBe(false);
    expect((await b.consume('k')).allowed).toBe(true);
  });

  it('throttle reserves slots ahead in Redis and runs each at its time', async () => {
    const paced = throttle({
      limit: 20,
      windowMs: 1_000,
      burst: 1,
      name: 'paced',
      store: redisStore({ client, prefix: uniquePrefix('throttle') }),
    });
    const start = Date.now();
    const runs = await Promise.all(Array.from({ length: 5 }, () => paced.execute(() => Date.now() - start)));
    // Slots 50 ms apart on the server clock: the runs come in order and span at least 4 slots
    // (the first may itself run late by its round trip, so only the span is asserted).
    for (let i = 1; i < runs.length; i++) expect(runs[i]).toBeGreaterThanOrEqual(runs[i - 1] ?? 0);
    expect((runs[4] ?? 0) - (runs[0] ?? 0)).toBeGreaterThanOrEqual(4 * 50 - 60);
  });

  it('refund gives back the last reservation only (the token must still be the key state)', async () => {
    const store = redisStore({ client, prefix: uniquePrefix('refund') });
    // One unit per second: slots 1 s apart, so server time passing between calls cannot blur them.
    const bound = store.bind({ name: 'r', limit: 1, windowMs: 1_000, burst: 1, clock: systemClock });
    const first = await bound.consume('k', 1, 10_000);
    const second = await bound.consume('k', 1, 10_000);
    const third = await bound.consume('k', 1, 10_000);
    within(third.retryAfterMs, 2_000);
    await bound.refund?.('k', 1, second); // not the tail: no effect
    within((await bound.consume('k', 1, 10_000)).retryAfterMs, 3_000);
    const tail = await bound.consume('k', 1, 10_000);
    within(tail.retryAfterMs, 4_000);
    await bound.refund?.('k', 1, tail); // the tail: undone
    within((await bound.consume('k', 1, 10_000)).retryAfterMs, 4_000);
    expect(first.allowed).toBe(true);
    // The same for a TAT kept in the span's hash (10 per second: the hashes keep 4 s ahead).
    const near = store.bind({ name: 'n', limit: 10, windowMs: 1_000, burst: 1, clock: systemClock });
    await near.consume('k', 1, 1_000);
    const last = await near.consume('k', 1, 1_000);
    within(last.retryAfterMs, 100, 60);
    await near.refund?.('k', 1, last);
    within((await near.consume('k', 1, 1_000)).retryAfterMs, 100, 60); // 200 had it not been undone
    expect(await client.keys(`${store.prefix}n:k:*`)).toEqual([]);
  });

  it('works with an ioredis client as it is', async () => {
    const io = new Redis(REDIS_URL);
    try {
      const limiter = rateLimit({
        limit: 2,
        windowMs: '1m',
        store: redisStore({ client: io, prefix: uniquePrefix('ioredis') }),
      });
      expect((await limiter.consume('k')).allowed).toBe(true);
      expect((await limiter.consume('k')).allowed).toBe(true);
      expect(await limiter.consume('k')).toMatchObject({ allowed: false, remaining: 0 });
    } finally {
      io.disconnect();
    }
  });

  it('a caller abort during the round trip rejects at once with its reason', async () => {
    const { limiter } = policy();
    const controller = new AbortController();
    const reason = new Error('client went away');
    const p = limiter.execute(() => 'ran', { signal: controller.signal });
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
  });
});

/** A client of each kind the store takes, connected to `url`: the store itself, a script flush, a quit. */
const CLIENTS: Record<
  string,
  (url: string) => Promise<{ store: RedisClient | IORedisClient; flush(): Promise<unknown>; quit(): Promise<unknown> }>
> = {
  'node-redis 5': async (url) => {
    const client = createClient({ url });
    client.on('error', () => {});
    await client.connect();
    return { store: client, flush: () => client.scriptFlush(), quit: () => client.quit() };
  },
  'node-redis 4': async (url) => {
    const client = createClient4({ url });
    client.on('error', () => {});
    await client.connect();
    return { store: client, flush: () => client.scriptFlush(), quit: () => client.quit() };
  },
  ioredis: async (url) => {
    const client = new Redis(url);
    client.on('error', () => {});
    return { store: client, flush: () => client.script('FLUSH'), quit: () => client.quit() };
  },
};

describeRedis('redisStore() script loading', () => {
  it.each(Object.keys(CLIENTS))(
    '%s: loads the script on the first NOSCRIPT, and again after the script cache is flushed',
    async (kind) => {
      const server = await ownRedis();
      const { store, flush, quit } = await (CLIENTS[kind] as (typeof CLIENTS)[string])(server.url);
      try {
        const events: ResilienceEvent[] = [];
        const limiter = rateLimit({
          limit: 3,
          windowMs: '1m',
          store: redisStore({ client: store }),
          onEvent: (e) => events.push(e),
        });
        expect((await limiter.consume('k')).allowed).toBe(true);
        await flush();
        expect((await limiter.consume('k')).allowed).toBe(true);
        await flush();
        const [a, b] = await Promise.all([limiter.consume('k'), limiter.consume('k')]);
        expect([a.allowed, b.allowed].sort()).toEqual([false, true]);
        expect(events.filter((e) => e.type === 'ratelimit.store-error')).toEqual([]);
      } finally {
        await quit();
        await server.kill();
      }
    },
  );
});
