import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REDIS_URL, INBOUND, OUTBOUND } from '../src/config.js';
import { type FleetRun, LOAD, run } from '../src/main.js';
import { deleteKeys, redisAnswers } from '../src/redis.js';

// The same rule as packages/redis's tests: without Redis the suite is skipped, loudly — except
// under CI, where it fails.
const REDIS_URL = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
const available = await redisAnswers(REDIS_URL);
if (!available && !process.env.CI) {
  const line = '!'.repeat(100);
  console.warn(
    `\n${line}\n!! examples/redis-fleet: no Redis answers at ${REDIS_URL} — the fleet test is SKIPPED.\n` +
      `!! Start one (redis-server) or set REDIS_URL. Under CI=true it fails instead.\n${line}\n`,
  );
}

function describeRedis(name: string, body: () => void): void {
  if (available) describe(name, body);
  else if (process.env.CI) {
    describe(name, () => {
      it(`needs Redis at ${REDIS_URL}`, () => {
        throw new Error(`Redis does not answer at ${REDIS_URL} (required under CI)`);
      });
    });
  } else describe.skip(name, body);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describeRedis('redis-fleet example: 3 processes sharing limits through Redis', () => {
  let result: FleetRun | undefined;

  beforeAll(async () => {
    const outcome = await run({ redisUrl: REDIS_URL });
    if (outcome.skipped !== undefined) throw new Error(outcome.skipped);
    result = outcome;
  }, 180_000);

  afterAll(async () => {
    // run() deletes its keys itself; this only matters if it failed half-way.
    if (result) await deleteKeys(REDIS_URL, result.prefix);
  });

  it('Redis answered every decision in time and every response was a 200 or a 429', () => {
    // A store error would fail open (rateLimit) and spoil the counts below: say so first.
    expect(result?.fleet.storeErrors).toBe(0);
    expect(result?.fleet.other).toBe(0);
  });

  it('admits alice at most her limit across the fleet (+1%), and at least 90% of it', () => {
    const admitted = result?.fleet.admitted.alice ?? 0;
    // She sent twice her limit, spread over 3 processes: each could admit 200 on its own.
    // The +1%: GCRA gives one unit back every windowMs / limit = 18 s, so a run shorter than
    // 36 s (this one takes about 10 s) can admit at most 2 more than the limit — 1% of 200.
    expect(admitted).toBeLessThanOrEqual(INBOUND.limit * 1.01);
    expect(admitted).toBeGreaterThanOrEqual(INBOUND.limit * 0.9);
    expect((result?.fleet.admitted.alice ?? 0) + (result?.fleet.refused.alice ?? 0)).toBe(LOAD.alice);
  });

  it('leaves bob, under his limit, untouched by alice: every one of his requests is admitted', () => {
    expect(result?.fleet.admitted.bob).toBe(LOAD.bob);
    expect(result?.fleet.refused.bob).toBe(0);
  });

  it('spread the load: every process admitted and refused alice, and called the pricing API', () => {
    expect(result?.services).toHaveLength(3);
    for (const service of result?.services ?? []) {
      expect(service.admitted.alice, service.name).toBeGreaterThan(0);
      expect(service.refused.alice, service.name).toBeGreaterThan(0);
      expect(service.pricingCalls, service.name).toBeGreaterThan(0);
    }
  });

  it('keeps the whole fleet within the pricing quota at every moment, and uses it', () => {
    const pricing = result?.pricing;
    // One pricing call per admitted request: none was refused for waiting too long.
    expect(pricing?.calls).toBe((result?.fleet.admitted.alice ?? 0) + (result?.fleet.admitted.bob ?? 0));
    // Never ahead: by every arrival, the fleet's calls so far were at most what the quota allowed
    // since the load started (1 + elapsed / 25 ms). Each call leaves at its slot on Redis's clock
    // or later, never earlier, so a loaded machine only lowers this; the +1% covers Node timers
    // firing up to a millisecond early. Three processes pacing on their own would reach 300%.
    expect(pricing?.peakShare).toBeLessThanOrEqual(1.01);
    // Uses it: 40/s on a quiet machine. How close it gets depends on how fast the load reaches the
    // services (a slot nobody asks for in time is lost), not on Redis: at a load average of 10 on
    // 2 cores we saw 28–36/s, so this only asserts the fleet was not held far below its quota.
    expect(pricing?.perSecond).toBeGreaterThanOrEqual(OUTBOUND.limit * 0.5);
  });

  it('leaves no process and no Redis key behind', async () => {
    expect(result?.keysDeleted).toBeGreaterThan(0); // the keys were there during the run…
    expect(await deleteKeys(REDIS_URL, result?.prefix ?? 'none')).toBe(0); // …and are gone now
    for (const service of result?.services ?? [])
      expect(alive(service.pid), `${service.name} (${service.pid})`).toBe(false);
  });
});
