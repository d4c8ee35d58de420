import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { REDIS_URL, describeRedis, uniquePrefix } from './helpers/redis.js';

interface Result {
  admitted: number;
  inWindow: number;
  refused: number;
  errors: number;
}

const script = fileURLToPath(new URL('./fixtures/hammer.ts', import.meta.url));

/** Starts `n` children, waits until all are connected, then gives them common start/end times. */
async function fleet(n: number, args: string[], warmMs: number, measureMs: number) {
  const children: ChildProcess[] = Array.from({ length: n }, () =>
    fork(script, args, {
      execArgv: ['--import', 'tsx', '--conditions=@palisade/source'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  try {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve, reject) => {
            child.once('message', () => resolve());
            child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
          }),
      ),
    );
    const warmAt = Date.now() + 300;
    const times = { warmAt, startAt: warmAt + warmMs, endAt: warmAt + warmMs + measureMs };
    const results = await Promise.all(
      children.map(
        (child) =>
          new Promise<Result>((resolve, reject) => {
            child.once('message', (m) => resolve(m as Result));
            child.once('exit', (code) => reject(new Error(`child exited without a result (${code})`)));
            child.send(times);
          }),
      ),
    );
    return { results, times };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

const sum = (results: Result[], field: keyof Result) => results.reduce((n, r) => n + r[field], 0);

describeRedis('a fleet of processes sharing one redisStore', () => {
  it('4 processes hammering one key with limit 1000 per 2 s: a 2 s window admits ≤ 1000 (+1%) and ≥ 95% of it', async () => {
    // Warm for 1 s first: the 1000-unit burst goes at once, then the steady rate (500/s) is what
    // a 2 s window measures. The +1%: windows are cut by each child's send time while Redis
    // decides on its own clock a round trip later, so a handful of admissions may straddle an edge.
    const { results, times } = await fleet(
      4,
      ['rate-limit', REDIS_URL, uniquePrefix('fleet'), '1000', '2000', '16'],
      1_000,
      2_000,
    );
    const inWindow = sum(results, 'inWindow');
    const admitted = sum(results, 'admitted');
    console.info(
      `rate-limit fleet: ${inWindow} admitted in the 2 s window, ${admitted} over ${times.endAt - times.warmAt} ms, ${sum(results, 'refused')} refused`,
    );
    expect(sum(results, 'errors')).toBe(0);
    expect(results.every((r) => r.admitted > 0)).toBe(true);
    expect(inWindow).toBeLessThanOrEqual(1_010);
    expect(inWindow).toBeGreaterThanOrEqual(950);
    // Over the whole run GCRA's bound holds too: burst + elapsed / interval.
    expect(admitted).toBeLessThanOrEqual((1_000 + (times.endAt - times.warmAt) / 2) * 1.01);
  }, 60_000);

  it('throttle across 3 processes keeps the fleet rate within 5% of the limit', async () => {
    const { results } = await fleet(
      3,
      ['throttle', REDIS_URL, uniquePrefix('fleet-throttle'), '500', '1000', '8'],
      1_000,
      2_000,
    );
    const inWindow = sum(results, 'inWindow');
    console.info(
      `throttle fleet: ${inWindow} runs in 2 s at a limit of 500/s (${results.map((r) => r.inWindow).join(' + ')})`,
    );
    expect(sum(results, 'errors')).toBe(0);
    expect(results.every((r) => r.inWindow > 0)).toBe(true);
    expect(inWindow).toBeGreaterThanOrEqual(950);
    expect(inWindow).toBeLessThanOrEqual(1_050);
  }, 60_000);
});
