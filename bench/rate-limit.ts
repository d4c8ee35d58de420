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
import {
  type BenchRow,
  type PeerMark,
  bytesPerKey,
  compare,
  formatTable,
  machine,
  median,
  peerCells,
  peerHeader,
  saveResults,
  timeBatch,
} from './_harness.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const out: string[] = [`Machine: ${machine()}`, ''];
/** Keeps a compare() table (already printed) for bench/results/rate-limit.md. */
const table = (title: string, rows: BenchRow[]) => {
  out.push(...formatTable(title, rows), '');
};
/** Prints a table built here, under `note` (how it was measured), and keeps it for the results file. */
const lines = (title: string, note: string, header: string, rows: string[]) => {
  const text = [`### ${title}`, '', note, '', header, header.replace(/[^|]+/g, ' --- '), ...rows, ''];
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
const PALISADE_RL = 'palisade rateLimit (memoryStore)';
let a = 0;
let b = 0;
table(
  'rate limit in memory, one key, always allowed',
  await compare('rate limit in memory, one key, always allowed', [
    { name: 'bare await fn()', fn },
    { name: PALISADE_RL, fn: () => oneKey.execute(fn, { key: 'client' }) },
    { name: 'palisade rateLimit.consume() only', fn: () => oneKey.consume('client') },
    {
      name: 'rate-limiter-flexible memory consume() + fn',
      fn: async () => {
        await rlfOne.consume('client');
        return fn();
      },
      peer: 'rate-limiter-flexible',
      versus: PALISADE_RL,
    },
  ]),
);
table(
  'rate limit in memory, 100 000 keys in turn, always allowed',
  await compare('rate limit in memory, 100 000 keys in turn, always allowed', [
    { name: 'bare await fn()', fn },
    { name: PALISADE_RL, fn: () => manyKeys.execute(fn, { key: keys[a++ % KEYS] }) },
    {
      name: 'rate-limiter-flexible memory consume() + fn',
      fn: async () => {
        await rlfMany.consume(keys[b++ % KEYS] as string);
        return fn();
      },
      peer: 'rate-limiter-flexible',
      versus: PALISADE_RL,
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
const memRows: ({ name: string; bytes: number } & PeerMark)[] = [
  { name: 'palisade memoryStore', bytes: pBytes },
  {
    name: 'rate-limiter-flexible RateLimiterMemory',
    bytes: rlfBytes,
    peer: 'rate-limiter-flexible',
    versus: 'palisade memoryStore',
  },
  {
    name: 'express-rate-limit MemoryStore',
    bytes: ersBytes,
    peer: 'express-rate-limit',
    versus: 'palisade memoryStore',
  },
  { name: 'bare lru-cache entry (string → number)', bytes: lruBytes },
];
const memCells = peerCells(memRows, (r) => r.bytes, 'bytes');
lines(
  'bytes per key in memory (100 000 keys, heap after GC)',
  'One measurement per store (heap after full GCs, not a timing): no rounds.',
  `| store | bytes/key | ${peerHeader('bytes')} |`,
  memRows.map((r, i) => `| ${r.name} | ${r.bytes.toFixed(0)} | ${memCells[i]} |`),
);

// ---- throttle under its limit, in memory ------------------------------------------------------
const paced = throttle(unlimited);
const throttleRows = await compare('throttle in memory, under its limit', [
  { name: 'bare await fn()', fn },
  { name: 'palisade throttle (memoryStore)', fn: () => paced.execute(fn) },
]);
table('throttle in memory, under its limit', throttleRows);

// bottleneck takes milliseconds per job where palisade takes nanoseconds, so one batch size cannot
// fit both (compare() times every case over the same count): each round times the bare call and
// palisade's throttle over many calls and bottleneck over a few jobs, in alternating order; a
// job's added cost is its time less the bare call's of the same round.
const bottleneck = new Bottleneck();
const JOB_ROUNDS = 5;
const FAST_JOBS = 20_000;
const BN_JOBS = 100;
const jobCases = [
  { name: 'bare await fn()', jobs: FAST_JOBS, run: fn },
  { name: 'palisade throttle', jobs: FAST_JOBS, run: () => paced.execute(fn) },
  { name: 'bottleneck schedule() (no limits set)', jobs: BN_JOBS, run: () => bottleneck.schedule(fn) },
];
for (const c of jobCases) await timeBatch(c.run, Math.min(c.jobs, 1_000)); // warm up
const jobNs = jobCases.map(() => [] as number[]);
for (let round = 0; round < JOB_ROUNDS; round++) {
  for (let i = 0; i < jobCases.length; i++) {
    const index = round % 2 === 0 ? i : jobCases.length - 1 - i;
    const c = jobCases[index] as (typeof jobCases)[number];
    jobNs[index]?.push(await timeBatch(c.run, c.jobs));
  }
}
const bareNs = jobNs[0] as number[];
const added = (index: number) => (jobNs[index] as number[]).map((ns, round) => ns - (bareNs[round] as number));
const jobRows: ({ name: string; added: number[] } & PeerMark)[] = [
  { name: 'palisade throttle', added: added(1) },
  { name: 'bottleneck schedule() (no limits set)', added: added(2), peer: 'bottleneck', versus: 'palisade throttle' },
];
const jobCells = peerCells(jobRows, (r) => r.added, 'time');
const duration = (ns: number) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${ns.toFixed(0)} ns`);
lines(
  'added per job, in memory, under the limit',
  `Median of ${JOB_ROUNDS} alternating rounds; each round times ${FAST_JOBS.toLocaleString('en-US')} bare calls, ${FAST_JOBS.toLocaleString('en-US')} palisade jobs and ${BN_JOBS} bottleneck jobs (one after another), and a job's added cost is its time less the bare call's in that round.`,
  `| limiter | added per job | ${peerHeader('time')} |`,
  jobRows.map((r, i) => `| ${r.name} | ${duration(median(r.added))} | ${jobCells[i]} |`),
);
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
  lines('Redis', 'Not measured.', '| note |', [`| no Redis at ${REDIS_URL}: Redis sections skipped |`]);
} else {
  const io = new Redis(REDIS_URL);
  const nodeRedis = createClient({ url: REDIS_URL });
  await nodeRedis.connect();
  const prefix = `palisade:bench:${process.pid}:`;
  const redisVersion = /^redis_version:(\S+)/m.exec(await io.info('server'))?.[1] ?? 'unknown';
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
  const cases: ({ name: string; client: Client; op: (i: number) => Promise<unknown> } & PeerMark)[] = [];
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
      {
        name: `rate-limiter-flexible RateLimiterRedis (${client})`,
        client,
        op: (i) => rlf.consume(key1k(i)),
        // Its keys live (1 s) between a client's calls: the like-for-like row is palisade's with live keys.
        peer: 'rate-limiter-flexible',
        versus: `palisade redisStore (${client}), keys live`,
      },
      {
        name: `palisade redisStore (${client}), one key`,
        client,
        op: () => palisade.consume('one') as Promise<unknown>,
      },
      {
        name: `rate-limiter-flexible (${client}), one key`,
        client,
        op: () => rlf.consume('one'),
        peer: 'rate-limiter-flexible',
        versus: `palisade redisStore (${client}), one key`,
      },
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
  const sampleOf = (c: (typeof cases)[number]) => samples[cases.indexOf(c)] as (typeof samples)[number];
  const rateCells = peerCells(cases, (c) => sampleOf(c).opsPerSec, 'rate');
  const cpuCells = peerCells(cases, (c) => sampleOf(c).redisUs, 'cpu');
  lines(
    `Redis, ${IN_FLIGHT} in flight`,
    `Redis ${redisVersion} at ${REDIS_URL}. Median of ${ROUNDS} alternating rounds of ${OPS.toLocaleString('en-US')} ops per case; the peer columns are the median over rounds of the same-round ratio (ops/s, then Redis CPU per op).`,
    `| case | ops/s | × raw INCR (same client) | Redis CPU µs/op | ${peerHeader('rate')} | ${peerHeader('cpu')} |`,
    cases.map(({ name, client }, i) => {
      const ops = median(samples[i]?.opsPerSec as number[]);
      const baseOps = median(samples[cases.findIndex((c) => c.client === client)]?.opsPerSec as number[]);
      return `| ${name} | ${ops.toFixed(0)} | ${(ops / baseOps).toFixed(2)} | ${median(samples[i]?.redisUs as number[]).toFixed(2)} | ${rateCells[i]} | ${cpuCells[i]} |`;
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
  const palisadeRedis = `palisade redisStore (10 000 keys in ${memHashes.length} hash${memHashes.length === 1 ? '' : 'es'})`;
  const redisBytes: ({ name: string; bytes: number } & PeerMark)[] = [
    { name: palisadeRedis, bytes: memBytes / memKeys.length },
    {
      name: 'rate-limiter-flexible RateLimiterRedis',
      bytes: Number(await io.memory('USAGE', rlfKey)),
      peer: 'rate-limiter-flexible',
      versus: palisadeRedis,
    },
  ];
  const redisByteCells = peerCells(redisBytes, (r) => r.bytes, 'bytes');
  lines(
    'bytes per key in Redis (MEMORY USAGE)',
    'One reading of MEMORY USAGE per store (exact, not a timing): no rounds.',
    `| store | bytes | ${peerHeader('bytes')} |`,
    redisBytes.map((r, i) => `| ${r.name} | ${r.bytes.toFixed(0)} | ${redisByteCells[i]} |`),
  );

  // ---- throttle fleet-wide over Redis: 3 processes ------------------------------------------
  // Both fleets are started once and kept: each round runs palisade's and bottleneck's in turn
  // (the order alternating), each for the same window of wall-clock time, the other fleet idle.
  const child = fileURLToPath(new URL('./_rate-limit-fleet-child.ts', import.meta.url));
  type Result = { jobs: number; errors: number; elapsedMs: number };
  const FLEET = 3;
  const FLEET_IN_FLIGHT = 64;
  const FLEET_ROUNDS = 5;
  const WINDOW_MS = 2_000;
  const startFleet = async (kind: 'palisade' | 'bottleneck') => {
    const children = Array.from({ length: FLEET }, () =>
      fork(child, [kind, REDIS_URL, `${prefix}${kind}`, String(FLEET_IN_FLIGHT)], {
        execArgv: ['--import', 'tsx', '--conditions=@palisade/source'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    await Promise.all(children.map((c) => new Promise((r) => c.once('message', r))));
    return children;
  };
  const fleets = { palisade: await startFleet('palisade'), bottleneck: await startFleet('bottleneck') };
  const all = [...fleets.palisade, ...fleets.bottleneck];
  // A child that hangs must not hang the bench: kill every fleet after its time and a minute.
  const guard = setTimeout(
    () => {
      for (const c of all) c.kill('SIGKILL');
    },
    FLEET_ROUNDS * 2 * (WINDOW_MS + 1_000) + 60_000,
  );
  /** One window: every child of `kind` runs jobs until the same wall-clock end; jobs/s of the fleet. */
  const runWindow = async (kind: 'palisade' | 'bottleneck') => {
    const startAt = Date.now() + 200;
    const results = await Promise.all(
      fleets[kind].map(
        (c) =>
          new Promise<Result>((resolve) => {
            c.once('message', (m) => resolve(m as Result));
            c.send({ startAt, endAt: startAt + WINDOW_MS });
          }),
      ),
    );
    return {
      perSec: results.reduce((n, r) => n + r.jobs / (r.elapsedMs / 1_000), 0),
      errors: results.reduce((n, r) => n + r.errors, 0),
    };
  };
  const fleetRows: ({ name: string; kind: 'palisade' | 'bottleneck'; perSec: number[]; errors: number } & PeerMark)[] =
    [
      { name: 'palisade throttle + redisStore', kind: 'palisade', perSec: [], errors: 0 },
      {
        name: 'bottleneck clustered (ioredis)',
        kind: 'bottleneck',
        perSec: [],
        errors: 0,
        peer: 'bottleneck',
        versus: 'palisade throttle + redisStore',
      },
    ];
  for (let round = 0; round < FLEET_ROUNDS; round++) {
    for (const row of round % 2 === 0 ? fleetRows : [...fleetRows].reverse()) {
      const { perSec, errors } = await runWindow(row.kind);
      row.perSec.push(perSec);
      row.errors += errors;
    }
  }
  clearTimeout(guard);
  await Promise.all(
    all.map((c) => {
      const exited = new Promise((r) => c.once('exit', r));
      c.send('close');
      return exited;
    }),
  );
  const fleetCells = peerCells(fleetRows, (r) => r.perSec, 'rate');
  lines(
    `throttle fleet-wide over Redis, ${FLEET} processes × ${FLEET_IN_FLIGHT} in flight, under the limit`,
    `Median of ${FLEET_ROUNDS} alternating rounds of a ${WINDOW_MS / 1_000} s window per fleet; the peer column is the median over rounds of the same-round ratio.`,
    `| limiter | jobs/s (fleet) | ${peerHeader('rate')} |`,
    fleetRows.map(
      (r, i) =>
        `| ${r.name} | ${median(r.perSec).toFixed(0)}${r.errors ? ` (${r.errors} failed)` : ''} | ${fleetCells[i]} |`,
    ),
  );
  const leftovers = await io.keys(`${prefix}*`);
  if (leftovers.length > 0) await io.del(...leftovers);
  io.disconnect();
  await nodeRedis.quit();
}

saveResults('rate-limit', `${out.join('\n')}\n`);
process.exit(0);
