// @palisade/rate-limit and @palisade/redis against the bare await and their peers, in one run:
// rate-limiter-flexible (memory and Redis), express-rate-limit's store and a bare lru-cache entry
// for bytes per key, a raw INCR round trip for Redis, and bottleneck for throttle().
// Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) for the Redis sections.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { memoryStore, rateLimit, throttle } from '@palisade/rate-limit';
import { redisStore } from '@palisade/redis';
import Bottleneck from 'bottleneck';
import { MemoryStore as ExpressMemoryStore } from 'express-rate-limit';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { createClient } from 'redis';
import { type BenchRow, bytesPerKey, compare, machine, saveResults } from './_harness.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const out: string[] = [`Machine: ${machine()}`, ''];
const table = (title: string, rows: BenchRow[]) => {
  out.push(`### ${title}`, '', '| case | ns/op | × bare |', '| --- | ---: | ---: |');
  for (const r of rows) out.push(`| ${r.name} | ${r.nsPerOp.toFixed(1)} | ${r.ratioToBare.toFixed(2)} |`);
  out.push('');
};
const lines = (title: string, header: string, rows: string[]) => {
  const text = [`### ${title}`, '', header, header.replace(/[^|]+/g, ' --- '), ...rows, ''];
  process.stdout.write(`${text.join('\n')}\n`);
  out.push(...text);
};

const fn = async () => 1;
const ip = (i: number) => `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
const KEYS = 100_000;
const keys = Array.from({ length: KEYS }, (_, i) => ip(i));

// ---- in memory: one key, 100k keys ----------------------------------------------------------
const unlimited = { limit: 1_000_000_000, windowMs: 1_000 };
const oneKey = rateLimit(unlimited);
const manyKeys = rateLimit({ ...unlimited, store: memoryStore({ maxKeys: KEYS }) });
const rlfOne = new RateLimiterMemory({ points: 1_000_000_000, duration: 1 });
const rlfMany = new RateLimiterMemory({ points: 1_000_000_000, duration: 1 });
let a = 0;
let b = 0;
table(
  'rate limit in memory, one key, always allowed',
  await compare('rate limit in memory, one key, always allowed', [
    { name: 'bare await fn()', fn },
    { name: 'palisade rateLimit (memoryStore)', fn: () => oneKey.execute(fn, { key: 'client' }) },
    { name: 'palisade rateLimit.consume() only', fn: () => oneKey.consume('client') },
    {
      name: 'rate-limiter-flexible memory consume() + fn',
      fn: async () => {
        await rlfOne.consume('client');
        return fn();
      },
    },
  ]),
);
table(
  'rate limit in memory, 100 000 keys in turn, always allowed',
  await compare('rate limit in memory, 100 000 keys in turn, always allowed', [
    { name: 'bare await fn()', fn },
    { name: 'palisade rateLimit (memoryStore)', fn: () => manyKeys.execute(fn, { key: keys[a++ % KEYS] }) },
    {
      name: 'rate-limiter-flexible memory consume() + fn',
      fn: async () => {
        await rlfMany.consume(keys[b++ % KEYS] as string);
        return fn();
      },
    },
  ]),
);

// ---- bytes per key ----------------------------------------------------------------------------
// The stores are made before the baseline: this is the cost of an entry, not of the store's
// up-front allocation (bench/memory.ts counts both).
const perKey = (fill: (key: string) => unknown): Promise<number> => bytesPerKey(KEYS, () => (i) => fill(ip(i))); // fresh strings: each store owns its keys
const held: unknown[] = [];
const palisadeBinding = memoryStore({ maxKeys: KEYS }).bind({
  name: 'm',
  limit: 100,
  windowMs: 60_000,
  burst: 100,
  clock: { now: () => Date.now(), sleep: async () => {} },
});
held.push(palisadeBinding);
const pBytes = await perKey((k) => palisadeBinding.consume(k, 1));
const rlfMem = new RateLimiterMemory({ points: 100, duration: 60 });
held.push(rlfMem);
const rlfBytes = await perKey((k) => rlfMem.consume(k));
const ers = new ExpressMemoryStore();
ers.init({ windowMs: 60_000 } as never);
held.push(ers);
const ersBytes = await perKey((k) => ers.increment(k));
ers.shutdown();
const lru = new LRUCache<string, number>({ max: KEYS });
held.push(lru);
const lruBytes = await perKey((k) => lru.set(k, Date.now() + 0.5));
lines('bytes per key in memory (100 000 keys, heap after GC)', '| store | bytes/key |', [
  `| palisade memoryStore | ${pBytes.toFixed(0)} |`,
  `| rate-limiter-flexible RateLimiterMemory | ${rlfBytes.toFixed(0)} |`,
  `| express-rate-limit MemoryStore | ${ersBytes.toFixed(0)} |`,
  `| bare lru-cache entry (string → number) | ${lruBytes.toFixed(0)} |`,
]);

// ---- throttle under its limit, in memory ------------------------------------------------------
const paced = throttle(unlimited);
const throttleRows = await compare('throttle in memory, under its limit', [
  { name: 'bare await fn()', fn },
  { name: 'palisade throttle (memoryStore)', fn: () => paced.execute(fn) },
]);
table('throttle in memory, under its limit', throttleRows);
const bottleneck = new Bottleneck();
const bnJobs = 200;
for (let i = 0; i < 20; i++) await bottleneck.schedule(fn);
const bnStart = process.hrtime.bigint();
for (let i = 0; i < bnJobs; i++) await bottleneck.schedule(fn);
const bnNs = Number(process.hrtime.bigint() - bnStart) / bnJobs;
const bare = throttleRows[0]?.nsPerOp ?? 0;
lines('added per job, in memory, under the limit', '| limiter | added per job |', [
  `| palisade throttle | ${((throttleRows[1]?.nsPerOp ?? 0) - bare).toFixed(0)} ns |`,
  `| bottleneck schedule() (no limits set) | ${((bnNs - bare) / 1e6).toFixed(2)} ms |`,
]);
await bottleneck.stop();

// ---- Redis: 50 in flight ----------------------------------------------------------------------
const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
probe.on('error', () => {});
const redisUp = await probe.connect().then(
  () => true,
  () => false,
);
probe.disconnect();
if (!redisUp) {
  lines('Redis', '| note |', [`| no Redis at ${REDIS_URL}: Redis sections skipped |`]);
} else {
  const io = new Redis(REDIS_URL);
  const nodeRedis = createClient({ url: REDIS_URL });
  await nodeRedis.connect();
  const prefix = `palisade:bench:${process.pid}:`;
  const viaNode = rateLimit({ ...unlimited, store: redisStore({ client: nodeRedis, prefix, timeoutMs: 5_000 }) });
  const viaIo = rateLimit({ ...unlimited, store: redisStore({ client: io, prefix, timeoutMs: 5_000 }) });
  // A rule whose keys live between a client's calls, as a per-client limit's do while the client is
  // active: each consume moves the key's TAT 60 ms on, and each of the 1 000 keys comes back every
  // few ms. Never reached in the bench (a burst of 10⁶), so every decision is an allow.
  const living = { limit: 1_000_000, windowMs: 60_000 };
  const liveNode = rateLimit({
    ...living,
    store: redisStore({ client: nodeRedis, prefix: `${prefix}live:`, timeoutMs: 5_000 }),
  });
  const liveIo = rateLimit({
    ...living,
    store: redisStore({ client: io, prefix: `${prefix}live:`, timeoutMs: 5_000 }),
  });
  const rlfRedis = new RateLimiterRedis({
    storeClient: io,
    points: 1_000_000_000,
    duration: 1,
    keyPrefix: `${prefix}rlf`,
  });
  const OPS = 50_000;
  const IN_FLIGHT = 50;
  // Redis's own CPU time (all its threads), read around each run: what a decision costs Redis.
  const redisCpu = async () => {
    const info = await io.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    return field('used_cpu_sys') + field('used_cpu_user');
  };
  const throughput = async (op: (i: number) => Promise<unknown>) => {
    let next = 0;
    const cpuBefore = await redisCpu();
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < OPS) await op(next++);
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { opsPerSec: OPS / seconds, redisUs: (((await redisCpu()) - cpuBefore) * 1e6) / OPS };
  };
  const rlfNode = new RateLimiterRedis({
    storeClient: nodeRedis,
    useRedisPackage: true,
    points: 1_000_000_000,
    duration: 1,
    keyPrefix: `${prefix}rlfn`,
  });
  // Each palisade / rate-limiter-flexible row is compared with the raw INCR of its own client,
  // measured in the same rounds. 1 000 keys in turn (one limit per client IP), then all on one key
  // (a shared quota): consumes issued in the same tick share one script call, and on one key that
  // call also reads and writes the key once. Under the 10⁹/s rule a palisade key's state runs out
  // within a microsecond, so each of its decisions also creates and expires the key; the "keys
  // live" rows use a rule under which keys stay between calls, as rate-limiter-flexible's do here
  // (they live 1 s). Both cost Redis the same: the keys are fields of one hash per span, read with
  // one HMGET and written with one HSET per call, whether they are new or not.
  const key1k = (i: number) => keys[i % 1_000] as string;
  type Client = 'node-redis' | 'ioredis';
  const cases: { name: string; client: Client; op: (i: number) => Promise<unknown> }[] = [];
  for (const [client, incr, palisade, live, rlf] of [
    ['node-redis', () => nodeRedis.incr(`${prefix}incr`), viaNode, liveNode, rlfNode],
    ['ioredis', () => io.incr(`${prefix}incr`), viaIo, liveIo, rlfRedis],
  ] as const) {
    cases.push(
      { name: `${client} raw INCR`, client, op: incr },
      {
        name: `palisade redisStore (${client}), keys live`,
        client,
        op: (i) => live.consume(key1k(i)) as Promise<unknown>,
      },
      {
        name: `palisade redisStore (${client}), keys expire at once`,
        client,
        op: (i) => palisade.consume(key1k(i)) as Promise<unknown>,
      },
      { name: `rate-limiter-flexible RateLimiterRedis (${client})`, client, op: (i) => rlf.consume(key1k(i)) },
      {
        name: `palisade redisStore (${client}), one key`,
        client,
        op: () => palisade.consume('one') as Promise<unknown>,
      },
      { name: `rate-limiter-flexible (${client}), one key`, client, op: () => rlf.consume('one') },
    );
  }
  for (const { op } of cases) for (let i = 0; i < 2_000; i++) await op(i); // warm up, load scripts
  const ROUNDS = 7;
  const samples = cases.map(() => ({ opsPerSec: [] as number[], redisUs: [] as number[] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (let c = 0; c < cases.length; c++) {
      const index = round % 2 === 0 ? c : cases.length - 1 - c;
      const { opsPerSec, redisUs } = await throughput((cases[index] as (typeof cases)[number]).op);
      samples[index]?.opsPerSec.push(opsPerSec);
      samples[index]?.redisUs.push(redisUs);
    }
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  lines(
    `Redis, ${IN_FLIGHT} in flight (median of ${ROUNDS} rounds of ${OPS} ops)`,
    '| case | ops/s | × raw INCR (same client) | Redis CPU µs/op |',
    cases.map(({ name, client }, i) => {
      const ops = med(samples[i]?.opsPerSec as number[]);
      const baseOps = med(samples[cases.findIndex((c) => c.client === client)]?.opsPerSec as number[]);
      return `| ${name} | ${ops.toFixed(0)} | ${(ops / baseOps).toFixed(2)} | ${med(samples[i]?.redisUs as number[]).toFixed(2)} |`;
    }),
  );
  // A realistic rule (100 per minute), so the keys live long enough to be measured: 10 000 client
  // IPs. palisade keeps them as fields of one hash per span (MEMORY USAGE of the hash, every
  // field counted, ÷ 10 000); rate-limiter-flexible as a key each.
  const memKeys = Array.from({ length: 10_000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  const memLimiter = rateLimit({
    limit: 100,
    windowMs: 60_000,
    name: 'mem',
    store: redisStore({ client: nodeRedis, prefix }),
  });
  for (let i = 0; i < memKeys.length; i += 100) {
    await Promise.all(memKeys.slice(i, i + 100).map((k) => memLimiter.consume(k)));
  }
  await new RateLimiterRedis({
    storeClient: nodeRedis,
    useRedisPackage: true,
    points: 100,
    duration: 60,
    keyPrefix: `${prefix}rlf-mem`,
  }).consume('10.0.0.1');
  const memHashes = await io.keys(`${prefix}mem:*`);
  let memBytes = 0;
  for (const hash of memHashes) memBytes += Number(await io.call('MEMORY', 'USAGE', hash, 'SAMPLES', '0'));
  const rlfKey = `${prefix}rlf-mem:10.0.0.1`;
  lines('bytes per key in Redis (MEMORY USAGE)', '| store | bytes |', [
    `| palisade redisStore (10 000 keys in ${memHashes.length} hash${memHashes.length === 1 ? '' : 'es'}) | ${(memBytes / memKeys.length).toFixed(0)} |`,
    `| rate-limiter-flexible RateLimiterRedis | ${await io.memory('USAGE', rlfKey)} |`,
  ]);

  // ---- throttle fleet-wide over Redis: 3 processes ------------------------------------------
  const child = fileURLToPath(new URL('./_rate-limit-fleet-child.ts', import.meta.url));
  const fleet = async (kind: 'palisade' | 'bottleneck') => {
    const id = `${prefix}${kind}`;
    const children = Array.from({ length: 3 }, () =>
      fork(child, [kind, REDIS_URL, id, '64'], {
        execArgv: ['--import', 'tsx', '--conditions=@palisade/source'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    // A child that hangs must not hang the bench: kill the fleet after 60 s.
    const guard = setTimeout(() => {
      for (const c of children) c.kill('SIGKILL');
    }, 60_000);
    await Promise.all(children.map((c) => new Promise((r) => c.once('message', r))));
    const startAt = Date.now() + 200;
    const results = await Promise.all(
      children.map(
        (c) =>
          new Promise<{ jobs: number; errors: number; elapsedMs: number }>((resolve) => {
            c.once('message', (m) => resolve(m as { jobs: number; errors: number; elapsedMs: number }));
            c.send({ startAt, endAt: startAt + 3_000 });
          }),
      ),
    );
    clearTimeout(guard);
    const errors = results.reduce((n, r) => n + r.errors, 0);
    return `${results.reduce((n, r) => n + r.jobs / (r.elapsedMs / 1_000), 0).toFixed(0)}${errors ? ` (${errors} failed)` : ''}`;
  };
  const palisadeFleet = await fleet('palisade');
  const bottleneckFleet = await fleet('bottleneck');
  lines('throttle fleet-wide over Redis, 3 processes × 64 in flight, under the limit', '| limiter | jobs/s (fleet) |', [
    `| palisade throttle + redisStore | ${palisadeFleet} |`,
    `| bottleneck clustered (ioredis) | ${bottleneckFleet} |`,
  ]);
  const leftovers = await io.keys(`${prefix}*`);
  if (leftovers.length > 0) await io.del(...leftovers);
  io.disconnect();
  await nodeRedis.quit();
}

saveResults('rate-limit', `${out.join('\n')}\n`);
process.exit(0);
