import { RateLimitedError } from '@palisade/core';
import { fromBottleneck } from '@palisade/rate-limit';
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { REDIS_URL, describeRedis } from './helpers/redis.js';

describeRedis('fromBottleneck() with a bottleneck limiter clustered on Redis', () => {
  it('two clustered limiters (two "processes") share maxConcurrent; a full cluster drops into RateLimitedError', async () => {
    const id = `palisade-test-${process.pid}-${Date.now()}`;
    const { hostname, port } = new URL(REDIS_URL);
    const make = () =>
      new Bottleneck({
        id,
        datastore: 'ioredis',
        Redis,
        clientOptions: { host: hostname, port: Number(port || 6379) },
        maxConcurrent: 1,
        highWater: 0,
        strategy: Bottleneck.strategy.OVERFLOW,
        timeout: 10_000,
      });
    const a = make();
    await a.ready();
    const b = make();
    await b.ready();
    try {
      const policyA = fromBottleneck(a, { name: 'cluster-a' });
      const policyB = fromBottleneck(b, { name: 'cluster-b' });
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started!: () => void;
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const first = policyA.execute(async () => {
        started();
        await held;
        return 'a';
      });
      await running;
      // The cluster's one slot is taken in A: B's job cannot queue (highWater 0) and is dropped.
      await expect(policyB.execute(() => 'b')).rejects.toBeInstanceOf(RateLimitedError);
      release();
      await expect(first).resolves.toBe('a');
      await expect(policyB.execute(() => 'b')).resolves.toBe('b');
    } finally {
      await Promise.all([a.disconnect(), b.disconnect()]);
    }
  }, 30_000);
});
