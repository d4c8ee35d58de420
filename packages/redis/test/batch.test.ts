import { type ResilienceEvent, systemClock } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { type StoreErrorDecision, rateLimit } from '@palisade/rate-limit';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH } from '../src/batch.js';
import { type RedisClient, redisStore } from '../src/index.js';
import { CLUSTER_SHARDS, shardOf } from '../src/redis-store.js';

/** A client that records every command and leaves it waiting until the test answers it. */
function fakeClient(isCluster?: boolean) {
  const calls: { args: string[]; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  const client: RedisClient = {
    isReady: true,
    ...(isCluster === undefined ? {} : { isCluster }),
    sendCommand: (args: string[]) => new Promise((resolve, reject) => calls.push({ args, resolve, reject })),
  };
  return { client, calls };
}

/** Lets the tick end: the consumes issued in it are sent then, together. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

const NOW = 1_700_000_000_000_000; // Redis's time in a reply, µs
// The default rule: 100 per minute, so one unit is 600 ms (600 000 µs) and the burst 60 s; its
// hashes span 64 s (the power-of-two seconds past 60.6 s).
const RULE = ['64000000', '600000', '60000000'];

describe('redisStore() sends the consumes of one tick as one script call', () => {
  it('keys in the order issued, the shared cost and max wait once; each consume gets its own decision', async () => {
    const { client, calls } = fakeClient();
    const limiter = rateLimit({ store: redisStore({ client }), clock: new FakeClock() });
    const decisions = Promise.all([limiter.consume('a'), limiter.consume('b'), limiter.consume('a')]);
    expect(calls).toHaveLength(0);
    await tick();
    expect(calls).toHaveLength(1);
    const [, sha, ...rest] = calls[0]?.args ?? [];
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(rest).toEqual(['1', 'palisade:rl:rate-limit', ...RULE, '3', 'a', 'b', 'a', '1', '0']);
    // a: allowed, TAT 600 ms ahead · b: refused, TAT 60 s ahead · a: allowed, TAT 1.2 s ahead.
    calls[0]?.resolve([600_000, -60_000_001, 1_200_000, NOW]);
    const [a1, b, a2] = await decisions;
    expect(a1).toMatchObject({ allowed: true, remaining: 99, resetMs: 600, retryAfterMs: 0, tat: NOW + 600_000 });
    expect(b).toMatchObject({ allowed: false, remaining: 0, resetMs: 60_000, retryAfterMs: 600 });
    expect(a2).toMatchObject({ allowed: true, remaining: 98, resetMs: 1_200, retryAfterMs: 0, tat: NOW + 1_200_000 });
  });

  it('consumes with different costs or max waits send theirs each', async () => {
    const { client, calls } = fakeClient();
    const bound = redisStore({ client }).bind({
      name: 'r',
      limit: 100,
      windowMs: 60_000,
      burst: 100,
      clock: systemClock,
    });
    const decisions = Promise.all([bound.consume('a', 1), bound.consume('b', 3), bound.consume('c', 1, 2_000)]);
    await tick();
    expect(calls[0]?.args.slice(2)).toEqual([
      '1',
      'palisade:rl:r',
      ...RULE,
      '3',
      'a',
      'b',
      'c',
      '1',
      '0',
      '3',
      '0',
      '1',
      '2000000',
    ]);
    // b (cost 3) is refused with its TAT 59.5 s ahead: it fits again once 1.3 s have passed.
    calls[0]?.resolve([600_000, -59_500_001, 61_200_000, NOW]);
    const [, b, c] = await decisions;
    expect(b).toMatchObject({ allowed: false, retryAfterMs: 1_300 });
    expect(c).toMatchObject({ allowed: true, retryAfterMs: 1_200 }); // reserved ahead
  });

  it('a failed call is a store error for each of its consumes, decided by onStoreError', async () => {
    const { client, calls } = fakeClient();
    const events: ResilienceEvent[] = [];
    const limiter = rateLimit({
      store: redisStore({ client }),
      clock: new FakeClock(),
      onEvent: (e) => events.push(e),
    });
    const decisions = Promise.all(['a', 'b', 'c'].map((key) => limiter.consume(key)));
    await tick();
    calls[0]?.reject(new Error('READONLY'));
    const settled = await decisions;
    expect(settled.map((d) => [d.allowed, ((d as StoreErrorDecision).storeError as Error).message])).toEqual([
      [true, 'READONLY'],
      [true, 'READONLY'],
      [true, 'READONLY'],
    ]);
    expect(events.map((e) => e.type === 'ratelimit.store-error' && e.key)).toEqual(['a', 'b', 'c']);
  });

  it('a reply of the wrong shape is a store error, not a made-up decision', async () => {
    const { client, calls } = fakeClient();
    const limiter = rateLimit({ store: redisStore({ client }), clock: new FakeClock(), onStoreError: 'fail-closed' });
    const decisions = Promise.all([limiter.consume('a'), limiter.consume('b')]);
    await tick();
    calls[0]?.resolve([600_000, NOW]); // one value for two consumes
    for (const d of await decisions) {
      expect(d).toMatchObject({ allowed: false, storeError: expect.any(Error) });
      expect(String(((d as StoreErrorDecision).storeError as Error).message)).toMatch(/unexpected reply/);
    }
  });

  it(`at most ${MAX_BATCH} consumes per call; the rest follow in the next`, async () => {
    const { client, calls } = fakeClient();
    const limiter = rateLimit({ store: redisStore({ client }), clock: new FakeClock() });
    const decisions = Promise.all(Array.from({ length: MAX_BATCH + 2 }, (_, i) => limiter.consume(`k${i}`)));
    expect(calls).toHaveLength(1); // sent as soon as it is full
    await tick();
    expect(calls.map((c) => c.args[7])).toEqual([String(MAX_BATCH), '2']);
    expect(calls[1]?.args.slice(8, 10)).toEqual([`k${MAX_BATCH}`, `k${MAX_BATCH + 1}`]);
    calls[0]?.resolve([...Array.from({ length: MAX_BATCH }, () => 600_000), NOW]);
    calls[1]?.resolve([600_000, 600_000, NOW]);
    expect((await decisions).every((d) => d.allowed)).toBe(true);
  });

  it(`on Redis Cluster a policy's keys spread over ${CLUSTER_SHARDS} hash slots; only keys of one slot share a call`, async () => {
    const { client, calls } = fakeClient(true);
    const limiter = rateLimit({ store: redisStore({ client }), clock: new FakeClock() });
    // Three keys: two in one shard, one in another.
    const keys = Array.from({ length: 100 }, (_, i) => `user:${i}`);
    const [a, b] = keys as [string, string];
    const c = keys.find((k) => k !== a && shardOf(k) === shardOf(a)) as string;
    expect(shardOf(b)).not.toBe(shardOf(a));
    const decisions = Promise.all([a, b, c].map((key) => limiter.consume(key)));
    await tick();
    expect(calls.map((call) => call.args.slice(3, 4).concat(call.args.slice(7, -2)))).toEqual([
      [`palisade:rl:{rate-limit:${shardOf(a)}}`, '2', a, c],
      [`palisade:rl:{rate-limit:${shardOf(b)}}`, '1', b],
    ]);
    calls[0]?.resolve([600_000, 600_000, NOW]);
    calls[1]?.resolve([1_200_000, NOW]);
    expect((await decisions).map((d) => d.remaining)).toEqual([99, 98, 99]);
    // Every shard of the policy has a base of its own, each in a slot of its own (its hash tag).
    expect(new Set(Array.from({ length: 10_000 }, (_, i) => shardOf(`k${i}`))).size).toBe(CLUSTER_SHARDS);
  });

  it('an ioredis Cluster is told apart by its isCluster flag', async () => {
    const sent: string[][] = [];
    const cluster = {
      status: 'ready',
      isCluster: true,
      call: (...args: string[]) => {
        sent.push(args);
        return Promise.resolve([600_000, NOW]);
      },
    };
    const limiter = rateLimit({ store: redisStore({ client: cluster }), clock: new FakeClock() });
    await Promise.all([limiter.consume('a'), limiter.consume('b')]);
    expect(sent.map((args) => args[3])).toEqual([
      `palisade:rl:{rate-limit:${shardOf('a')}}`,
      `palisade:rl:{rate-limit:${shardOf('b')}}`,
    ]);
  });
});
