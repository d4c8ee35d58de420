import { type ResilienceEvent, RateLimitedError } from '@palisade/core';
import {
  type RateLimitPolicy,
  type StoreErrorMode,
  type ThrottlePolicy,
  rateLimit,
  throttle,
} from '@palisade/rate-limit';
import { type RedisClientType, createClient } from 'redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisStore } from '../src/index.js';
import { type OwnRedis, describeRedis, ownRedis } from './helpers/redis.js';

// Kills, freezes and restarts a private redis-server (never the shared one on 6379).

const TIMEOUT_MS = 200;
/** Generous real-time margin over the timeout on a loaded machine: "did not hang", not "was fast". */
const HANG_MS = TIMEOUT_MS + 3_000;

type Outcome = 'ran' | 'limited' | 'hung' | Error;

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  let guard: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    guard = setTimeout(() => resolve('hung'), HANG_MS);
  });
  try {
    return await Promise.race([
      p.then(
        () => 'ran' as const,
        (error: unknown) => (error instanceof RateLimitedError ? ('limited' as const) : (error as Error)),
      ),
      hung,
    ]);
  } finally {
    clearTimeout(guard);
  }
}

describeRedis('Redis dies and comes back (private redis-server)', () => {
  let server: OwnRedis;
  let client: RedisClientType;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  const events: ResilienceEvent[] = [];
  let policies: { mode: StoreErrorMode; kind: string; policy: RateLimitPolicy | ThrottlePolicy }[];

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = await ownRedis();
    client = createClient({ url: server.url, socket: { reconnectStrategy: () => 100 } });
    client.on('error', () => {});
    await client.connect();
    const store = redisStore({ client, timeoutMs: TIMEOUT_MS });
    const onEvent = (e: ResilienceEvent) => events.push(e);
    policies = (['fail-open', 'fail-closed'] as const).flatMap((mode) => [
      {
        mode,
        kind: 'rateLimit',
        policy: rateLimit({ name: `rl-${mode}`, limit: 2, windowMs: '1m', store, onStoreError: mode, onEvent }),
      },
      {
        mode,
        kind: 'throttle',
        policy: throttle({
          name: `th-${mode}`,
          limit: 2,
          windowMs: '1m',
          maxWaitMs: 0,
          store,
          onStoreError: mode,
          onEvent,
        }),
      },
    ]);
  });

  afterAll(async () => {
    client.destroy();
    await server.kill();
    process.off('unhandledRejection', onUnhandled);
  });

  const run = (p: { policy: RateLimitPolicy | ThrottlePolicy }) => outcome(p.policy.execute(() => 'ran', { key: 'k' }));

  it('while Redis is up, every mode limits', async () => {
    for (const p of policies) {
      expect([await run(p), await run(p), await run(p)], `${p.kind} ${p.mode}`).toEqual(['ran', 'ran', 'limited']);
    }
  });

  it('Redis frozen (hung, connections open): each mode follows onStoreError within its timeout', async () => {
    server.freeze();
    try {
      events.length = 0;
      const outcomes = await Promise.all(policies.map((p) => run(p)));
      expect(outcomes).toEqual(policies.map((p) => (p.mode === 'fail-open' ? 'ran' : 'limited')));
      const errors = events.filter((e) => e.type === 'ratelimit.store-error');
      expect(errors).toHaveLength(policies.length);
      expect(errors.map((e) => (e as { error: Error }).error.name)).toEqual(
        Array(policies.length).fill('TimeoutError'),
      );
    } finally {
      server.thaw();
    }
  });

  it('Redis killed: each mode follows onStoreError at once or within its timeout, and emits an event', async () => {
    await server.kill();
    events.length = 0;
    for (let round = 0; round < 3; round++) {
      const outcomes = await Promise.all(policies.map((p) => run(p)));
      expect(outcomes).toEqual(policies.map((p) => (p.mode === 'fail-open' ? 'ran' : 'limited')));
    }
    const errors = events.filter((e) => e.type === 'ratelimit.store-error');
    expect(errors).toHaveLength(3 * policies.length);
    expect(
      errors.every(
        (e) => e.type === 'ratelimit.store-error' && e.mode === (e.name.endsWith('open') ? 'fail-open' : 'fail-closed'),
      ),
    ).toBe(true);
  });

  it('Redis restarted (empty, no scripts): limiting is restored by itself, with no hung call and no unhandled rejection', async () => {
    await server.start();
    const deadline = Date.now() + 15_000;
    let restored = false;
    while (!restored && Date.now() < deadline) {
      const outcomes = await Promise.all(policies.map((p) => run(p)));
      expect(outcomes).not.toContain('hung');
      restored = outcomes.every((o) => o === 'limited');
      if (!restored) await new Promise((r) => setTimeout(r, 100));
    }
    expect(restored).toBe(true);
    // Limited by the store again, not by fail-closed: the last decisions carried no store error.
    events.length = 0;
    for (const p of policies) expect(await run(p)).toBe('limited');
    expect(events.filter((e) => e.type === 'ratelimit.store-error')).toEqual([]);
    await new Promise((r) => setTimeout(r, 500)); // let late replies of the frozen phase land
    expect(unhandled).toEqual([]);
  });
});
