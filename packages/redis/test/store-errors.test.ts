import { type ResilienceEvent, RateLimitedError, TimeoutError } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { rateLimit, throttle } from '@palisade/rate-limit';
import { describe, expect, it } from 'vitest';
import { type RedisClient, redisStore } from '../src/index.js';

/** A client the test drives by hand: every call waits until answered (or never, for a hung Redis). */
function fakeClient(isReady = true) {
  const calls: { args: string[]; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  const loads: string[] = [];
  const client: RedisClient & { isReady: boolean } = {
    isReady,
    sendCommand: (args: string[]) => {
      if (args[0] === 'SCRIPT') {
        loads.push(args[2] as string);
        return Promise.resolve('sha');
      }
      return new Promise((resolve, reject) => calls.push({ args, resolve, reject }));
    },
  };
  return { client, calls, loads };
}

// One consume: allowed, the key's TAT 600 ms ahead (one unit of the default 100 per minute);
// then Redis's time (µs).
const reply = [600_000, 1_699_999_999_500_000];

/** Lets the tick end: the consumes issued in it are sent then, together. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('redisStore() failures (fake client, FakeClock)', () => {
  it('a hung Redis: the call is decided by onStoreError when timeoutMs elapses (fail-open)', async () => {
    const clock = new FakeClock();
    const { client, calls } = fakeClient();
    const events: ResilienceEvent[] = [];
    const limiter = rateLimit({ store: redisStore({ client, timeoutMs: 200 }), clock, onEvent: (e) => events.push(e) });
    let settled = false;
    const p = limiter
      .execute(() => 'ran', { key: 'k' })
      .finally(() => {
        settled = true;
      });
    await clock.advance(199);
    expect(settled).toBe(false);
    await clock.advance(1);
    await expect(p).resolves.toBe('ran');
    expect(events).toMatchObject([{ type: 'ratelimit.store-error', key: 'k', mode: 'fail-open' }]);
    expect((events[0] as { error: unknown }).error).toBeInstanceOf(TimeoutError);
    calls[0]?.resolve([0, 0]); // the late answer is ignored
    expect(clock.pending).toBe(0);
  });

  it('a hung Redis with fail-closed rejects with RateLimitedError (cause: the timeout)', async () => {
    const clock = new FakeClock();
    const { client } = fakeClient();
    const limiter = rateLimit({ store: redisStore({ client, timeoutMs: '50ms', onStoreError: 'fail-closed' }), clock });
    expect(limiter.onStoreError).toBe('fail-closed');
    const caught = limiter.execute(() => 'ran').catch((e: unknown) => e);
    await clock.advance(50);
    const error = await caught;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).cause).toBeInstanceOf(TimeoutError);
  });

  it('a connection that is down fails at once, without queueing a command', async () => {
    const clock = new FakeClock();
    const { client, calls } = fakeClient(false);
    const events: ResilienceEvent[] = [];
    const limiter = rateLimit({ store: redisStore({ client }), clock, onEvent: (e) => events.push(e) });
    await expect(limiter.execute(() => 'ran')).resolves.toBe('ran');
    expect(calls).toHaveLength(0);
    expect(String((events[0] as { error: Error }).error.message)).toMatch(/client is not ready/);
    client.isReady = true;
    const p = limiter.consume('k');
    await tick();
    calls[0]?.resolve(reply);
    await expect(p).resolves.toMatchObject({ allowed: true, remaining: 99, resetMs: 600, retryAfterMs: 0 });
  });

  it('an ioredis client that is reconnecting fails at once; one that is connecting queues as usual', async () => {
    const clock = new FakeClock();
    const sent: unknown[][] = [];
    const io = {
      status: 'reconnecting',
      call: (...args: unknown[]) => {
        sent.push(args);
        return Promise.resolve(reply);
      },
    };
    const limiter = rateLimit({ store: redisStore({ client: io as never }), clock });
    await expect(limiter.consume('k')).resolves.toMatchObject({ storeError: expect.any(Error) });
    expect(sent).toHaveLength(0);
    io.status = 'connecting';
    await expect(limiter.consume('k')).resolves.toMatchObject({ allowed: true, remaining: 99 });
    expect(sent[0]?.slice(0, 1)).toEqual(['EVALSHA']);
    expect(sent[0]?.slice(3)).toEqual(['palisade:rl:rate-limit', '64000000', '600000', '60000000', '1', 'k', '1', '0']);
  });

  it('an error reply is a store error; the next call tries Redis again (recovery needs nothing)', async () => {
    const clock = new FakeClock();
    const { client, calls } = fakeClient();
    const limiter = throttle({ store: redisStore({ client }), clock });
    const failed = limiter.execute(() => 'ran');
    await tick();
    calls[0]?.reject(new Error("READONLY You can't write against a read only replica."));
    await expect(failed).rejects.toBeInstanceOf(RateLimitedError); // throttle: fail-closed by default
    const ok = limiter.execute(() => 'ran');
    await tick();
    calls[1]?.resolve(reply);
    await expect(ok).resolves.toBe('ran');
  });

  it('NOSCRIPT: loads the script once for all the calls that hit it, then runs EVALSHA again', async () => {
    const clock = new FakeClock();
    const { client, calls, loads } = fakeClient();
    const limiter = rateLimit({ store: redisStore({ client }), clock });
    const a = limiter.consume('a');
    await tick(); // two calls: 'b' is issued in a later tick
    const b = limiter.consume('b');
    await tick();
    calls[0]?.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    calls[1]?.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    await clock.flush();
    expect(loads).toHaveLength(1);
    expect(calls).toHaveLength(4);
    expect(calls[2]?.args.slice(7, 9)).toEqual(['1', 'a']);
    calls[2]?.resolve(reply);
    calls[3]?.resolve(reply);
    await expect(Promise.all([a, b])).resolves.toHaveLength(2);
  });

  it('sends the GCRA rule and cost as script arguments, with the policy’s keys under <prefix><name>', async () => {
    const clock = new FakeClock();
    const { client, calls } = fakeClient();
    const paced = throttle({
      limit: 4,
      windowMs: '1s',
      burst: 2,
      maxWaitMs: 5_000,
      name: 'api',
      store: redisStore({ client, prefix: 'app:' }),
      clock,
    });
    const p = paced.execute(() => 'ran', { key: 'user:1' });
    await tick();
    expect(calls[0]?.args).toEqual([
      'EVALSHA',
      expect.any(String),
      '1',
      'app:api',
      '1000000', // the span of its hashes: 1 s, past the burst (500 ms) and one step (250 ms)
      '250000',
      '500000',
      '1',
      'user:1',
      '1',
      '5000000',
    ]);
    calls[0]?.resolve([250_000, 1_700_000_000_000_000]); // allowed now
    await expect(p).resolves.toBe('ran');
  });

  it('a client that throws synchronously is a store error, and leaves no timer behind', async () => {
    const clock = new FakeClock();
    const client: RedisClient = {
      sendCommand: () => {
        throw new Error('The client is closed');
      },
    };
    const limiter = rateLimit({ store: redisStore({ client }), clock });
    await expect(limiter.consume('k')).resolves.toMatchObject({ allowed: true, storeError: expect.any(Error) });
    await clock.advance(1_000);
  });

  it('a failing refund is ignored', async () => {
    const clock = new FakeClock();
    const { client, calls } = fakeClient();
    const paced = throttle({ store: redisStore({ client }), clock });
    const controller = new AbortController();
    const p = paced.execute(() => 'ran', { signal: controller.signal });
    await tick();
    calls[0]?.resolve([60_400_000, 1_699_999_940_100_000]); // reserved 400 ms ahead
    await clock.advance(10);
    controller.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(calls[1]?.args.slice(3)).toEqual(['palisade:rl:throttle', '64000000', '*', '1700000000500000', '600000']);
    calls[1]?.reject(new Error('connection lost'));
    await clock.advance(1_000);
  });
});
