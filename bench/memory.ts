// Memory (issue 12): (1) the heap after 1e6 calls through each policy, which must stay flat once
// warm; (2) bytes per key of every keyed state at 100k keys (breakers, limiter buckets, hedge
// latency histograms) against the peers' in the same run. Heap numbers are taken after a full GC
// (npm run bench passes --expose-gc; a plain `npx tsx` run gets gc() at run time instead).
import { bulkhead, concurrencyLimit } from '@palisade/bulkhead';
import { circuitBreaker, keyed } from '@palisade/circuit-breaker';
import { type Clock, fallback, pipeline, systemClock } from '@palisade/core';
import { hedge } from '@palisade/hedge';
import { memoryStore, rateLimit, throttle } from '@palisade/rate-limit';
import { retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';
import { ConsecutiveBreaker, circuitBreaker as cockatielBreaker, handleAll } from 'cockatiel';
import { LRUCache } from 'lru-cache';
import CircuitBreaker from 'opossum';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { bytesPerKey, heapAfterGc } from './_harness.js';

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

// ---- 1. heap after 1e6 calls ------------------------------------------------------------------

async function run(call: () => unknown, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = call();
    if (r instanceof Promise) await r;
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
  }
}

interface FlatCase {
  name: string;
  /** Builds the policy (before the baseline) and returns one call through it. */
  make: () => () => unknown;
}

// The adaptive delay's floor keeps it far above these calls' latency: every call settles first.
const adaptive = { percentile: 95, minMs: 1_000, maxMs: 2_000 };
const unlimited = { limit: 1_000_000_000, windowMs: 1_000 };

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

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(3);
const flatLines = [
  `### heap after ${e(CALLS)} calls through each policy`,
  '',
  `Calls one after another on an always-resolving function, the event loop turning every ${YIELD_EVERY.toLocaleString('en')} calls. Heap = JS heap plus array buffers after full GCs (repeated until the reading settles), before the first call, after ${e(FIRST)} and after ${e(CALLS)} calls; the first ${e(FIRST)} include warm-up (compiled code, lazily built state). **Flat** when the growth from ${e(FIRST)} to ${e(CALLS)} calls is under ${FLAT_BYTES_PER_CALL} byte per call (${((CALLS - FIRST) * FLAT_BYTES_PER_CALL) / 1000} kB in all): a call that leaves anything behind (a promise, a listener, a timer entry) would cost tens of bytes per call.`,
  '',
  `| policy | heap before (MiB) | after ${e(FIRST)} (MiB) | after ${e(CALLS)} (MiB) | B/call, first ${e(FIRST)} | B/call, ${e(FIRST)} → ${e(CALLS)} | verdict |`,
  '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
];
for (const c of flatCases) {
  let call: (() => unknown) | undefined = c.make();
  const h0 = heapAfterGc();
  await run(call, FIRST);
  const h1 = heapAfterGc();
  await run(call, CALLS - FIRST);
  const h2 = heapAfterGc();
  call = undefined; // the policy may go before the next case's baseline
  const first = (h1 - h0) / FIRST;
  const later = (h2 - h1) / (CALLS - FIRST);
  const verdict = later < FLAT_BYTES_PER_CALL ? 'flat' : `**grows** (${((h2 - h1) / 1024).toFixed(0)} KiB)`;
  flatLines.push(
    `| ${c.name} | ${mb(h0)} | ${mb(h1)} | ${mb(h2)} | ${first.toFixed(2)} | ${later.toFixed(3)} | ${verdict} |`,
  );
}
write(flatLines);

// ---- 2. bytes per key at 100k keys ----------------------------------------------------------

interface KeyRow {
  state: string;
  keys: number;
  bytes: number;
  goal?: number;
}
const rows: KeyRow[] = [];
const perKey = async (state: string, build: Parameters<typeof bytesPerKey>[1], goal?: number, keys = KEYS) => {
  rows.push({ state, keys, bytes: await bytesPerKey(keys, build), goal });
};

// Breakers: one options object shared by every key (validated once), as keyed()'s docs advise.
const breakerOptions = { failureRateThreshold: 0.5, minimumCalls: 20 };
const timeWindow = { ...breakerOptions, window: { kind: 'time', ms: '10s' } } as const;
const keyedOptions = { maxKeys: KEYS, idleMs: '10m' } as const;
const checkSize = (policy: { size: number }) => {
  if (policy.size !== KEYS) throw new Error(`expected ${KEYS} keys, got ${policy.size}`);
};

await perKey(
  'palisade keyed(circuitBreaker), count window, 1 success per key',
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
const cockatiel = new Map<string, ReturnType<typeof cockatielBreaker>>();
await perKey('cockatiel circuitBreaker(ConsecutiveBreaker(5)) per key (Map), 1 success', () => (i) => {
  const key = host(i);
  let b = cockatiel.get(key);
  if (!b)
    cockatiel.set(
      key,
      (b = cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) })),
    );
  return b.execute(ok);
});
cockatiel.clear();
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
);
for (const b of opossum.values()) b.shutdown();
opossum.clear();

// Limiter buckets: a realistic rule (100 per minute), so that no key is already back to a full burst.
const perMinute = { limit: 100, windowMs: 60_000 };
await perKey(
  'palisade rateLimit, memoryStore({ maxKeys: 100k }), 1 call per key',
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
await perKey('rate-limiter-flexible RateLimiterMemory, 1 consume per key', () => {
  const p = new RateLimiterMemory({ points: 100, duration: 60 });
  return (i) => p.consume(ip(i));
});
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

write([
  `### bytes per key, ${KEYS / 1000}k keys`,
  '',
  `Growth of the JS heap plus array buffers (after full GCs) while ${KEYS / 1000}k keys get their state, per key. Each structure is built after the baseline, so what it allocates up front for ${KEYS / 1000}k keys counts; each key's own string (\`host-<i>.example.com\` or \`10.x.y.z\`) counts too. Goals (issue 12): ≤ ${GOAL_BREAKER} B per keyed breaker, ≤ ${GOAL_LIMITER} B per limiter key.`,
  '',
  '| state | keys | bytes / key | goal |',
  '| --- | ---: | ---: | --- |',
  ...rows.map((r) => {
    const goal = r.goal === undefined ? '' : `${r.bytes <= r.goal ? '✓' : '✗'} ≤ ${r.goal}`;
    return `| ${r.state} | ${r.keys.toLocaleString('en')} | ${r.bytes.toFixed(0)} | ${goal} |`;
  }),
]);
// rate-limiter-flexible leaves an unref'd timer per key; nothing else should be pending.
process.exit(0);
