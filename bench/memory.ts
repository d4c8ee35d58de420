// Memory (issue 12): (1) the heap after 1e6 calls through each policy, which must stay flat once
// warm: on the success path, on the failure and rejection paths a caller meets under faults, and
// through createFetch against a local server (fewer calls); (2) bytes per key of every keyed state
// at 100k keys (breakers, limiter buckets, hedge latency histograms) against the peers' in the
// same run. Heap numbers are taken after a full GC
// (npm run bench passes --expose-gc; a plain `npx tsx` run gets gc() at run time instead).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { bulkhead, concurrencyLimit } from '@palisade/bulkhead';
import { circuitBreaker, keyed } from '@palisade/circuit-breaker';
import { type Clock, fallback, isResilienceError, pipeline, systemClock } from '@palisade/core';
import { FakeClock } from '@palisade/core/testing';
import { createFetch } from '@palisade/fetch';
import { hedge } from '@palisade/hedge';
import { memoryStore, rateLimit, throttle } from '@palisade/rate-limit';
import { constant, retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';
import { LRUCache } from 'lru-cache';
import CircuitBreaker from 'opossum';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { cockatielPerKey } from './_cockatiel.js';
import { type PeerMark, bytesPerKey, heapAfterGc, peerCells, peerHeader } from './_harness.js';

const FIRST = 100_000;
const CALLS = 1_000_000;
/** Growth per call between 1e5 and 1e6 calls below which the heap counts as flat, in bytes. */
const FLAT_BYTES_PER_CALL = 1;
/** Calls between two turns of the event loop (timers that clean up get to run, as in a server). */
const YIELD_EVERY = 1_000;
const KEYS = 100_000;
const GOAL_BREAKER = 400;
const GOAL_LIMITER = 150;

const ok = async () => 1;
const fail = async () => {
  throw new Error('down');
};
const host = (i: number) => `host-${i}.example.com`;
const ip = (i: number) => `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
/** 100000 → `1e5`. */
const e = (n: number) => n.toExponential().replace('+', '');
const write = (lines: string[]) => process.stdout.write(`${lines.join('\n')}\n\n`);
/** One options object for every keyed breaker (validated once), as keyed()'s docs advise. */
const breakerOptions = { failureRateThreshold: 0.5, minimumCalls: 20 };
/** Key strings made once, for the rows where a key's own string is not what is measured. */
const hosts = Array.from({ length: 2_000 }, (_, i) => host(i));

// ---- 1. heap after 1e6 calls ------------------------------------------------------------------

/** Runs `n` policy calls, `batch` at a time (the event loop turning every YIELD_EVERY calls). */
async function run(call: () => unknown, n: number, batch: number): Promise<void> {
  for (let i = 0; i < n; i += batch) {
    const r = call();
    if (r instanceof Promise) await r;
    if ((i + batch) % YIELD_EVERY < batch) await new Promise((resolve) => setImmediate(resolve));
  }
}

interface FlatCase {
  name: string;
  /** Builds the policy (before the baseline) and returns one call through it: `batch` policy calls. */
  make: () => (() => unknown) | Promise<() => unknown>;
  /**
   * Policy calls made by one call of what `make` returns: calls started together and settled by
   * one advance of a FakeClock, so that its cost per advance is shared. @default 1
   */
  batch?: number;
  /** Policy calls in all (@default CALLS), of which the first `first` warm up (@default FIRST). */
  calls?: number;
  first?: number;
}

// The adaptive delay's floor keeps it far above these calls' latency: every call settles first.
const adaptive = { percentile: 95, minMs: 1_000, maxMs: 2_000 };
const unlimited = { limit: 1_000_000_000, windowMs: 1_000 };
const noBackoff = constant({ ms: 0 });
const ignore = () => {};
/** An attempt that settles only when its signal aborts (a call the timeout or a hedge must stop). */
const untilAborted = (ctx: { signal: AbortSignal }) =>
  new Promise<never>((_, reject) => {
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });
/** `batch` calls of `call` started together, then `clock` moved on by `ms`, then all settled. */
const advancing = (clock: FakeClock, ms: number, batch: number, call: () => Promise<unknown>) => async () => {
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < batch; i++) pending.push(call().catch(ignore));
  await clock.advance(ms);
  await Promise.all(pending);
};
/** Checks that `call` is refused with the palisade error `code` (the path the row means to measure). */
const expectRefused = async (call: () => Promise<unknown>, code: string) => {
  const outcome = await call().then(
    () => 'a value',
    (error: unknown) => (isResilienceError(error) ? error.code : String(error)),
  );
  if (outcome !== code) throw new Error(`expected ${code}, got ${outcome}`);
};

const flatCases: FlatCase[] = [
  { name: 'bare await fn() (the noise of the method)', make: () => ok },
  {
    name: 'timeout({ ms: 10_000 })',
    make: () => {
      const p = timeout({ ms: 10_000 });
      return () => p.execute(ok);
    },
  },
  {
    name: 'retry() (default budget)',
    make: () => {
      const p = retry();
      return () => p.execute(ok);
    },
  },
  {
    name: 'circuitBreaker() (count window)',
    make: () => {
      const p = circuitBreaker();
      return () => p.execute(ok);
    },
  },
  {
    name: "circuitBreaker({ window: { kind: 'time', ms: '10s' } })",
    make: () => {
      const p = circuitBreaker({ window: { kind: 'time', ms: '10s' } });
      return () => p.execute(ok);
    },
  },
  {
    name: 'bulkhead({ maxConcurrent: 10, maxQueue: 10 })',
    make: () => {
      const p = bulkhead({ maxConcurrent: 10, maxQueue: 10 });
      return () => p.execute(ok);
    },
  },
  {
    name: 'concurrencyLimit() (gradient)',
    make: () => {
      const p = concurrencyLimit();
      return () => p.execute(ok);
    },
  },
  {
    name: 'rateLimit (memoryStore, one key, under the limit)',
    make: () => {
      const p = rateLimit(unlimited);
      return () => p.execute(ok, { key: 'client' });
    },
  },
  {
    name: 'throttle (memoryStore, under its limit)',
    make: () => {
      const p = throttle(unlimited);
      return () => p.execute(ok);
    },
  },
  {
    name: 'hedge (adaptive delay, calls settle before it)',
    make: () => {
      const p = hedge({ delayMs: adaptive });
      return () => p.execute(ok);
    },
  },
  {
    name: 'fallback (call succeeds)',
    make: () => {
      const p = fallback({ handler: () => 0 });
      return () => p.execute(ok);
    },
  },
  {
    name: 'fallback (call fails, handler answers)',
    make: () => {
      const p = fallback({ handler: () => 0 });
      return () => p.execute(fail);
    },
  },
  {
    name: 'pipeline(fallback, rateLimit, bulkhead, timeout, retry, hedge, circuitBreaker, timeout)',
    make: () => {
      const p = pipeline(
        fallback({ handler: () => 0 }),
        rateLimit(unlimited),
        bulkhead({ maxConcurrent: 10, maxQueue: 10 }),
        timeout({ ms: 10_000 }),
        retry(),
        hedge({ delayMs: adaptive }),
        circuitBreaker(),
        timeout({ ms: 5_000 }),
      );
      return () => p.execute(ok);
    },
  },
];

/** What a caller meets under faults: failures retried, circuits open, slots and quotas taken, timeouts firing. */
const FAKE_BATCH = 100;
/**
 * Calls of the fault rows that cost over ~12 µs each (several failed attempts, each building an
 * Error and its stack, or a FakeClock advance shared by few calls): 1e6 of them would take 15-30 s
 * a row, so they make as many as fit in ~10 s. The row prints its µs per call.
 */
const SLOW = { calls: 400_000, first: 50_000 };
const faultCases: FlatCase[] = [
  {
    name: 'retry({ backoff: constant({ ms: 0 }), budget: false }), fn always fails: 3 attempts, then its error',
    ...SLOW,
    make: () => {
      const p = retry({ backoff: noBackoff, budget: false });
      return () => p.execute(fail).catch(ignore);
    },
  },
  {
    name: 'retry({ backoff: constant({ ms: 0 }) }) (default budget), fn always fails: the budget soon stops the retries',
    make: () => {
      const p = retry({ backoff: noBackoff });
      return () => p.execute(fail).catch(ignore);
    },
  },
  {
    name: "circuitBreaker({ openMs: '1h' }) open, rejecting every call",
    make: async () => {
      const p = circuitBreaker({ openMs: '1h' });
      for (let i = 0; i < 100; i++) await p.execute(fail).catch(ignore); // minimumCalls, all failed
      await expectRefused(() => p.execute(ok), 'PALISADE_BROKEN_CIRCUIT');
      return () => p.execute(ok).catch(ignore);
    },
  },
  {
    name: 'bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: Infinity }) full (one call running, one queued), rejecting every call',
    make: async () => {
      // No queue timeout: the queued call must hold its place for the whole row (after the default
      // 1 s it would leave, and every later call would queue behind the stalled one for 1 s).
      const p = bulkhead({ maxConcurrent: 1, maxQueue: 1, queueTimeoutMs: Number.POSITIVE_INFINITY });
      const stalled = new Promise<never>(() => {});
      p.execute(() => stalled).catch(ignore);
      p.execute(() => stalled).catch(ignore);
      await expectRefused(() => p.execute(ok), 'PALISADE_BULKHEAD_REJECTED');
      return () => p.execute(ok).catch(ignore);
    },
  },
  {
    name: "rateLimit({ limit: 1, windowMs: '1h' }), one key, refusing every call",
    make: async () => {
      const p = rateLimit({ limit: 1, windowMs: '1h' });
      await p.execute(ok, { key: 'client' });
      await expectRefused(() => p.execute(ok, { key: 'client' }), 'PALISADE_RATE_LIMITED');
      return () => p.execute(ok, { key: 'client' }).catch(ignore);
    },
  },
  {
    name: "throttle({ limit: 1, windowMs: '1h', maxWaitMs: 0 }), refusing every call",
    make: async () => {
      const p = throttle({ limit: 1, windowMs: '1h', maxWaitMs: 0 });
      await p.execute(ok);
      await expectRefused(() => p.execute(ok), 'PALISADE_RATE_LIMITED');
      return () => p.execute(ok).catch(ignore);
    },
  },
  {
    name: `timeout({ ms: 1_000 }) firing (FakeClock, ${FAKE_BATCH} calls per advance), fn stops on abort`,
    ...SLOW,
    batch: FAKE_BATCH,
    make: () => {
      const clock = new FakeClock();
      const p = timeout({ ms: 1_000, clock });
      return advancing(clock, 1_000, FAKE_BATCH, () => p.execute(untilAborted));
    },
  },
  {
    name: `timeout({ ms: 1_000, strategy: 'aggressive' }) firing (FakeClock, ${FAKE_BATCH} calls per advance), fn never settles`,
    batch: FAKE_BATCH,
    make: () => {
      const clock = new FakeClock();
      const p = timeout({ ms: 1_000, strategy: 'aggressive', clock });
      return advancing(clock, 1_000, FAKE_BATCH, () => p.execute(() => new Promise<never>(() => {})));
    },
  },
  {
    name: `hedge({ delayMs: 10, budgetPercent: 100 }) firing (FakeClock, ${FAKE_BATCH} calls per advance): attempt 1 takes 20 ms, the hedge answers first`,
    ...SLOW,
    batch: FAKE_BATCH,
    make: () => {
      const clock = new FakeClock();
      const p = hedge({ delayMs: 10, budgetPercent: 100, clock });
      // Attempt 1 answers by itself at 20 ms when no hedge is sent (the budget can still refuse a
      // few), so that every batch settles within the advance; otherwise the hedge wins at 10 ms and
      // aborts it.
      const slowFirst = (ctx: { attempt: number; signal: AbortSignal }) =>
        ctx.attempt === 1 ? clock.sleep(20, ctx.signal).then(() => 1) : ok();
      return advancing(clock, 20, FAKE_BATCH, () => p.execute(slowFirst));
    },
  },
  {
    name: "pipeline(fallback, retry({ backoff: constant({ ms: 0 }) }), circuitBreaker({ openMs: '1h' })), fn always fails: retried, then the breaker opens, fallback answers",
    ...SLOW,
    make: () => {
      const p = pipeline(
        fallback({ handler: () => 0 }),
        retry({ backoff: noBackoff }),
        circuitBreaker({ openMs: '1h' }),
      );
      return () => p.execute(fail);
    },
  },
  {
    name: 'keyed(circuitBreaker, { maxKeys: 1_000 }), 1 000 keys in turn, calls succeed',
    make: () => {
      const p = keyed(() => circuitBreaker(breakerOptions), { maxKeys: 1_000 });
      let i = 0;
      return () => p.execute(ok, { key: hosts[i++ % 1_000] });
    },
  },
  {
    name: "keyed(circuitBreaker({ openMs: '1h' }), { maxKeys: 1_000 }), 1 000 keys in turn, calls fail: every breaker opens and rejects",
    make: () => {
      const options = { ...breakerOptions, openMs: '1h' } as const;
      const p = keyed(() => circuitBreaker(options), { maxKeys: 1_000 });
      let i = 0;
      return () => p.execute(fail, { key: hosts[i++ % 1_000] }).catch(ignore);
    },
  },
  {
    name: 'keyed(circuitBreaker, { maxKeys: 1_000 }), 2 000 keys in turn: every call evicts a breaker and builds one',
    make: () => {
      const p = keyed(() => circuitBreaker(breakerOptions), { maxKeys: 1_000 });
      let i = 0;
      return () => p.execute(ok, { key: hosts[i++ % 2_000] });
    },
  },
];

/**
 * createFetch against a local node:http server in a child process (so the server's heap is not
 * counted): ~10k requests/s at best here, so fewer calls than the rows above (stated in the row).
 */
const FETCH_CALLS = 40_000;
const FETCH_FIRST = 10_000;
/** Requests in flight at once (as in bench/fetch.ts): ~3-5k requests/s here, one at a time ~2k. */
const FETCH_BATCH = 16;
/** `FETCH_BATCH` requests of `one` at once, each read to the end. */
const inFlight = (one: () => Promise<unknown>) => () => {
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < FETCH_BATCH; i++) all.push(one());
  return Promise.all(all);
};
const SERVER = `
  const http = require('node:http');
  const server = http.createServer((req, res) => {
    const status = req.url === '/down' ? 503 : 200;
    res.writeHead(status, { 'content-length': '2' });
    res.end('ok');
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
`;
const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const [portLine] = (await once(createInterface({ input: server.stdout }), 'line')) as [string];
const origin = `http://127.0.0.1:${portLine.split(' ')[1]}`;
const fetchPolicy = {
  timeout: '10s',
  retry: { maxAttempts: 3, backoff: { type: 'constant', ms: 0 } },
  circuitBreaker: { openMs: '1h' },
} as const;
const fetchCases: FlatCase[] = [
  {
    name: 'plain fetch, server answers 200 (the floor: what createFetch runs on)',
    calls: FETCH_CALLS,
    first: FETCH_FIRST,
    batch: FETCH_BATCH,
    make: () => inFlight(() => fetch(`${origin}/ok`).then((r) => r.text())),
  },
  {
    name: 'createFetch({ policy: { timeout, retry, circuitBreaker } }), server answers 200',
    calls: FETCH_CALLS,
    first: FETCH_FIRST,
    batch: FETCH_BATCH,
    make: () => {
      const f = createFetch({ policy: fetchPolicy });
      return inFlight(() => f(`${origin}/ok`).then((r) => r.text()));
    },
  },
  {
    name: 'createFetch, same policy, server answers 503: retried, then the breaker opens and rejects',
    calls: FETCH_CALLS,
    first: FETCH_FIRST,
    batch: FETCH_BATCH,
    make: () => {
      const f = createFetch({ policy: fetchPolicy });
      return inFlight(() => f(`${origin}/down`).then((r) => r.text(), ignore));
    },
  },
];

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(3);
/** Heap readings after the warm-up, from which a row's growth per call is fitted. */
const READINGS = 10;
/** Least-squares slope of y over x. */
function slope(points: [x: number, y: number][]): number {
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return num / den;
}

/**
 * Measures each case and prints the table. With `floor`, the first case is what every other one
 * runs on (plain fetch under createFetch): its own growth is subtracted before the verdict.
 */
async function flatTable(title: string, intro: string, cases: FlatCase[], floor = false): Promise<void> {
  let floorSlope: number | undefined;
  const lines = [
    `### ${title}`,
    '',
    intro,
    '',
    '| policy | calls (warm-up) | heap before (MiB) | after warm-up (MiB) | after all (MiB) | B/call, warm-up | delta after warm-up (KiB) | B/call after warm-up (fitted) | flat |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const c of cases) {
    const calls = c.calls ?? CALLS;
    const first = c.first ?? FIRST;
    const batch = c.batch ?? 1;
    let call: (() => unknown) | undefined = await c.make();
    const start = process.hrtime.bigint();
    const h0 = heapAfterGc();
    await run(call, first, batch);
    const h1 = heapAfterGc();
    // READINGS readings after the warm-up, the growth per call their least-squares slope: a single
    // difference of two readings carries the swing of whatever the heap holds at that instant
    // (fetch's rows swing by ±200 KiB with no trend), a slope over many does not.
    const points: [calls: number, heap: number][] = [[0, h1]];
    const step = Math.ceil((calls - first) / READINGS / batch) * batch;
    for (let done = 0; done < calls - first; done += step) {
      await run(call, Math.min(step, calls - first - done), batch);
      points.push([Math.min(done + step, calls - first), heapAfterGc()]);
    }
    const h2 = (points[points.length - 1] as [number, number])[1];
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    call = undefined; // the policy may go before the next case's baseline
    const later = slope(points);
    let verdict = later < FLAT_BYTES_PER_CALL ? 'yes' : '**no**';
    if (floor && floorSlope === undefined) {
      floorSlope = later;
      verdict = '(the floor)';
    } else if (floorSlope !== undefined) {
      const over = later - floorSlope;
      verdict = `${over < FLAT_BYTES_PER_CALL ? 'yes' : '**no**'} (${over.toFixed(3)} over the floor)`;
    }
    lines.push(
      `| ${c.name} | ${e(calls)} (${e(first)})${calls < CALLS ? `, ${((seconds / calls) * 1e6).toFixed(0)} µs/call here` : ''} | ${mb(h0)} | ${mb(h1)} | ${mb(h2)} | ${((h1 - h0) / first).toFixed(2)} | ${((h2 - h1) / 1024).toFixed(1)} | ${later.toFixed(3)} | ${verdict} |`,
    );
  }
  write(lines);
}

const method = `Heap = JS heap plus array buffers after full GCs (repeated until the reading settles), before the first call, after the warm-up calls and ${READINGS} times more until all are made; the warm-up includes compiled code and lazily built state. **Flat** when the growth after the warm-up, fitted as the least-squares slope of those ${READINGS + 1} readings, is under ${FLAT_BYTES_PER_CALL} byte per call (${((CALLS - FIRST) * FLAT_BYTES_PER_CALL) / 1000} kB over ${e(CALLS - FIRST)} calls): a call that leaves anything behind (a promise, a listener, a timer entry) would cost tens of bytes per call. One run per row (a heap reading, not a timing): no rounds.`;
await flatTable(
  `heap after ${e(CALLS)} calls through each policy`,
  `Calls one after another on an always-resolving function, the event loop turning every ${YIELD_EVERY.toLocaleString('en')} calls. ${method}`,
  flatCases,
);
await flatTable(
  `heap after ${e(CALLS)} calls on the failure and rejection paths`,
  `What a caller meets under faults, on the same method. Waits that would take real time (a timeout firing, a hedge delay) run on a FakeClock from \`@palisade/core/testing\`: ${FAKE_BATCH} calls are started, the clock is moved past the delay, and all ${FAKE_BATCH} settle. Retries use \`constant({ ms: 0 })\` backoff, which sleeps not at all. Rows with fewer calls than ${e(CALLS)} are those whose calls cost over ~12 µs each (several failed attempts, each building an Error and its stack, or a FakeClock advance per few calls): they make ${e(SLOW.calls)}, about 10 s, and print their µs per call.`,
  faultCases,
);
await flatTable(
  'heap after fetches through createFetch',
  `Requests to a node:http server in a child process (keep-alive, a 2-byte body, read to the end), ${FETCH_BATCH} at once, plain fetch first. ${e(FETCH_CALLS)} requests, not ${e(CALLS)}: at the few thousand requests/s of this loop, ${e(CALLS)} would take minutes per row. Plain fetch (undici) itself keeps growing by a few bytes per request over this span, so it is the floor: a createFetch row is flat when it grows less than ${FLAT_BYTES_PER_CALL} byte per request more than plain fetch did, fitted the same way.`,
  fetchCases,
  true,
);
server.kill();

// ---- 2. bytes per key at 100k keys ----------------------------------------------------------

type KeyRow = {
  name: string;
  keys: number;
  bytes: number;
  goal?: number;
} & PeerMark;
const rows: KeyRow[] = [];
const perKey = async (
  name: string,
  build: Parameters<typeof bytesPerKey>[1],
  goal?: number,
  keys = KEYS,
  mark: PeerMark = {},
) => {
  rows.push({ ...mark, name, keys, bytes: await bytesPerKey(keys, build), goal });
};
const BREAKER_ROW = 'palisade keyed(circuitBreaker), count window, 1 success per key';
const LIMITER_ROW = 'palisade rateLimit, memoryStore({ maxKeys: 100k }), 1 call per key';

const timeWindow = { ...breakerOptions, window: { kind: 'time', ms: '10s' } } as const;
const keyedOptions = { maxKeys: KEYS, idleMs: '10m' } as const;
const checkSize = (policy: { size: number }) => {
  if (policy.size !== KEYS) throw new Error(`expected ${KEYS} keys, got ${policy.size}`);
};

await perKey(
  BREAKER_ROW,
  () => {
    const p = keyed(() => circuitBreaker(breakerOptions), keyedOptions);
    return async (i) => {
      await p.execute(ok, { key: host(i) });
      if (i === KEYS - 1) checkSize(p);
    };
  },
  GOAL_BREAKER,
);
await perKey(
  'palisade keyed(circuitBreaker), count window, 1 failure per key',
  () => {
    const p = keyed(() => circuitBreaker(breakerOptions), keyedOptions);
    return (i) => p.execute(fail, { key: host(i) }).catch(() => {});
  },
  GOAL_BREAKER,
);
await perKey(
  'palisade keyed(circuitBreaker), time window (10 s, 10 buckets), 1 success per key',
  () => {
    const p = keyed(() => circuitBreaker(timeWindow), keyedOptions);
    return (i) => p.execute(ok, { key: host(i) });
  },
  GOAL_BREAKER,
);
await perKey(
  'palisade keyed(circuitBreaker), time window, 1 success in each of 3 buckets per key',
  async () => {
    // The real clock, moved 1 s (one bucket) ahead between passes over every key.
    let shift = 0;
    const clock: Clock = {
      now: () => Date.now() + shift,
      sleep: (ms, signal) => systemClock.sleep(ms, signal),
    };
    const options = { ...timeWindow, clock }; // hoisted: one options object for every key
    const p = keyed(() => circuitBreaker(options), { ...keyedOptions, clock });
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < KEYS; i++) await p.execute(ok, { key: host(i) });
      shift += 1_000;
    }
    return (i) => p.execute(ok, { key: host(i) });
  },
  GOAL_BREAKER,
);
const cockatiel = cockatielPerKey();
await perKey(
  'cockatiel circuitBreaker(ConsecutiveBreaker(5)) per key (Map), 1 success',
  () => (i) => cockatiel.get(host(i)).execute(ok),
  undefined,
  KEYS,
  { peer: 'cockatiel', versus: BREAKER_ROW },
);
cockatiel.breakers.clear();
// opossum: two interval timers per breaker; 100k of them keep a core busy, so measure 10k.
const OPOSSUM = 10_000;
const opossum = new Map<string, CircuitBreaker>();
await perKey(
  'opossum CircuitBreaker({ timeout: false }) per key (Map), 1 fire',
  () => (i) => {
    const key = host(i);
    let b = opossum.get(key);
    if (!b) opossum.set(key, (b = new CircuitBreaker(ok, { timeout: false })));
    return b.fire();
  },
  undefined,
  OPOSSUM,
  { peer: 'opossum', versus: BREAKER_ROW },
);
for (const b of opossum.values()) b.shutdown();
opossum.clear();

// Limiter buckets: a realistic rule (100 per minute), so that no key is already back to a full burst.
const perMinute = { limit: 100, windowMs: 60_000 };
await perKey(
  LIMITER_ROW,
  () => {
    const p = rateLimit({ ...perMinute, store: memoryStore({ maxKeys: KEYS }) });
    return (i) => p.execute(ok, { key: ip(i) });
  },
  GOAL_LIMITER,
);
await perKey(
  'palisade throttle, memoryStore({ maxKeys: 100k }), 1 call per key',
  () => {
    const p = throttle({ ...perMinute, store: memoryStore({ maxKeys: KEYS }) });
    return (i) => p.execute(ok, { key: ip(i) });
  },
  GOAL_LIMITER,
);
await perKey(
  'rate-limiter-flexible RateLimiterMemory, 1 consume per key',
  () => {
    const p = new RateLimiterMemory({ points: 100, duration: 60 });
    return (i) => p.consume(ip(i));
  },
  undefined,
  KEYS,
  { peer: 'rate-limiter-flexible', versus: LIMITER_ROW },
);
await perKey('bare lru-cache entry (string → number, max 100k)', () => {
  const lru = new LRUCache<string, number>({ max: KEYS });
  return (i) => lru.set(ip(i), Date.now() + 0.5);
});
await perKey('lru-cache({ max: 100k }) alone, no key set (in the memoryStore, hedge and bare lru-cache rows)', () => {
  const lru = new LRUCache<string, number>({ max: KEYS });
  return () => lru;
});
await perKey('lru-cache({ max: 100k, ttl }) alone, no key set (in the keyed() rows)', () => {
  const lru = new LRUCache<string, number>({ max: KEYS, ttl: 600_000, ttlAutopurge: false });
  return () => lru;
});

// Hedge: one latency histogram per key (adaptive delay only).
await perKey('palisade hedge (adaptive delay, maxKeys 100k), 1 call per key', () => {
  const p = hedge({ delayMs: adaptive, maxKeys: KEYS });
  return (i) => p.execute(ok, { key: host(i) });
});

const keyCells = peerCells(rows, (r) => r.bytes, 'bytes');
write([
  `### bytes per key, ${KEYS / 1000}k keys`,
  '',
  `Growth of the JS heap plus array buffers (after full GCs) while ${KEYS / 1000}k keys get their state, per key. Each structure is built after the baseline, so what it allocates up front for ${KEYS / 1000}k keys counts; each key's own string (\`host-<i>.example.com\` or \`10.x.y.z\`) counts too. Goals (issue 12): ≤ ${GOAL_BREAKER} B per keyed breaker, ≤ ${GOAL_LIMITER} B per limiter key. One measurement per row (a heap reading, not a timing): no rounds.`,
  '',
  `| state | keys | bytes / key | goal | ${peerHeader('bytes')} |`,
  '| --- | ---: | ---: | --- | ---: |',
  ...rows.map((r, i) => {
    const goal = r.goal === undefined ? '' : `${r.bytes <= r.goal ? '✓' : '✗'} ≤ ${r.goal}`;
    return `| ${r.name} | ${r.keys.toLocaleString('en')} | ${r.bytes.toFixed(0)} | ${goal} | ${keyCells[i]} |`;
  }),
]);
// rate-limiter-flexible leaves an unref'd timer per key; nothing else should be pending.
process.exit(0);
