// @palisade/circuit-breaker: closed-state overhead on an always-resolving call against the bare
// await, cockatiel's breaker and opossum's fire() in one run; then memory and timers of 100k keyed
// breakers (in a child process with --expose-gc, so that heap numbers are exact).
import { createHook } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { circuitBreaker, keyed } from '@palisade/circuit-breaker';
import CircuitBreaker from 'opossum';
import { cockatielBreaker, cockatielPerKey } from './_cockatiel.js';
import { type PeerMark, bytesPerKey, compare, heapAfterGc, peerCells, peerHeader, runAlone } from './_harness.js';

const KEYS = 100_000;

// Every timer alive (ref'd or not), counted from its creation to its destruction. Enabled for the
// memory part only: an async hook slows every promise down and would distort the timings.
const liveTimers = new Set<number>();
const timerHook = createHook({
  init(id, type) {
    if (type === 'Timeout') liveTimers.add(id);
  },
  destroy(id) {
    liveTimers.delete(id);
  },
});
const timers = (): number => liveTimers.size;

type MemoryRow = {
  name: string;
  bytesPerBreaker: number;
  liveTimers: number;
  idleCpuPercent: number;
} & PeerMark;

/** CPU used by this process while it sits idle for `ms` (timers of idle breakers show up here). */
async function idleCpu(ms: number): Promise<number> {
  heapAfterGc(); // collect first, so that GC work is not counted as idle cost
  await new Promise((resolve) => setTimeout(resolve, 100));
  const start = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const cpu = process.cpuUsage(start);
  return ((cpu.user + cpu.system) / 1_000 / ms) * 100;
}

async function measure(
  name: string,
  count: number,
  build: () => (i: number) => Promise<unknown>,
  mark: PeerMark = {},
): Promise<MemoryRow> {
  const timersBefore = timers();
  // Every build below keeps its breakers in a variable of memory(), so they outlive this call.
  const bytesPerBreaker = await bytesPerKey(count, build);
  return {
    ...mark,
    name,
    bytesPerBreaker,
    liveTimers: timers() - timersBefore,
    idleCpuPercent: await idleCpu(2_000),
  };
}

async function memory(): Promise<void> {
  timerHook.enable();
  const rows: MemoryRow[] = [];
  const ok = async () => 1;
  const fail = async () => {
    throw new Error('down');
  };

  const ONE_SUCCESS = 'palisade keyed(circuitBreaker), 1 success per key';
  // One options object shared by every key: validated once, so a key costs only its own state.
  const options = { failureRateThreshold: 0.5, minimumCalls: 20 };
  const timeOptions = { ...options, window: { kind: 'time', ms: '10s' } } as const;
  const perKey = keyed(() => circuitBreaker(options), { maxKeys: KEYS, idleMs: '10m' });
  rows.push(
    await measure(ONE_SUCCESS, KEYS, () => {
      return (i) => perKey.execute(ok, { key: `host-${i}.example.com` });
    }),
  );
  if (perKey.size !== KEYS) throw new Error(`expected ${KEYS} keys, got ${perKey.size}`);

  const perKeyFailed = keyed(() => circuitBreaker(options), { maxKeys: KEYS, idleMs: '10m' });
  rows.push(
    await measure('palisade keyed(circuitBreaker), 1 failure per key', KEYS, () => {
      return (i) => perKeyFailed.execute(fail, { key: `host-${i}.example.com` }).catch(() => {});
    }),
  );

  const perKeyTime = keyed(() => circuitBreaker(timeOptions), { maxKeys: KEYS, idleMs: '10m' });
  rows.push(
    await measure('palisade keyed(circuitBreaker), time window (10 buckets), 1 success per key', KEYS, () => {
      return (i) => perKeyTime.execute(ok, { key: `host-${i}.example.com` });
    }),
  );

  const perKeyOwnOptions = keyed(() => circuitBreaker({ failureRateThreshold: 0.5, minimumCalls: 20 }), {
    maxKeys: KEYS,
    idleMs: '10m',
  });
  rows.push(
    await measure('palisade keyed(circuitBreaker), a new options object per key (validated per key)', KEYS, () => {
      return (i) => perKeyOwnOptions.execute(ok, { key: `host-${i}.example.com` });
    }),
  );

  const cockatiel = cockatielPerKey();
  rows.push(
    await measure(
      'cockatiel circuitBreaker per key (Map), 1 success',
      KEYS,
      () => {
        return (i) => cockatiel.get(`host-${i}.example.com`).execute(ok);
      },
      { peer: 'cockatiel', versus: ONE_SUCCESS },
    ),
  );

  // opossum: two interval timers per breaker; 100k of them keep a core busy, so measure 10k.
  const OPOSSUM = 10_000;
  const opossum = new Map<string, CircuitBreaker>();
  rows.push(
    await measure(
      `opossum CircuitBreaker per key (Map, ${OPOSSUM / 1000}k), 1 fire`,
      OPOSSUM,
      () => {
        return (i) => {
          const key = `host-${i}.example.com`;
          let b = opossum.get(key);
          if (!b) opossum.set(key, (b = new CircuitBreaker(ok, { timeout: false })));
          return b.fire();
        };
      },
      { peer: 'opossum', versus: ONE_SUCCESS },
    ),
  );
  for (const b of opossum.values()) b.shutdown();
  opossum.clear();

  const cells = peerCells(rows, (r) => r.bytesPerBreaker, 'bytes');
  const lines = [
    `### memory and timers of ${KEYS / 1000}k keyed breakers`,
    '',
    'One measurement per row (heap after full GCs, not a timing): no rounds.',
    '',
    `| case | bytes / breaker | live timers added | CPU while idle (2 s) | ${peerHeader('bytes')} |`,
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r, i) =>
        `| ${r.name} | ${Math.round(r.bytesPerBreaker)} | ${Math.max(0, r.liveTimers)} | ${r.idleCpuPercent.toFixed(1)} % | ${cells[i]} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n\n`);
  // Keep the policies alive until here.
  if (perKey.size + perKeyFailed.size + perKeyTime.size + perKeyOwnOptions.size + cockatiel.breakers.size < 0)
    throw new Error('unreachable');
}

async function speed(): Promise<void> {
  const fn = async () => 1;
  const defaults = circuitBreaker();
  const timed = circuitBreaker({ slowCallDurationMs: 60_000 });
  const timeWindow = circuitBreaker({ window: { kind: 'time', ms: '10s' } });
  const perHost = keyed(() => circuitBreaker(), { maxKeys: 100 });
  const cockatiel = cockatielBreaker();
  const opossum = new CircuitBreaker(fn);
  const opossumNoTimeout = new CircuitBreaker(fn, { timeout: false });
  const signal = new AbortController().signal;
  const DEFAULTS = 'palisade circuitBreaker() (defaults: count window, no clock read)';

  await compare('circuitBreaker() closed, on an always-resolving call', [
    { name: 'bare await fn()', fn },
    { name: DEFAULTS, fn: () => defaults.execute(fn) },
    { name: 'palisade circuitBreaker({ slowCallDurationMs: 60_000 }) (2 clock reads)', fn: () => timed.execute(fn) },
    { name: 'palisade circuitBreaker({ window: time 10 s }) (1 clock read)', fn: () => timeWindow.execute(fn) },
    { name: 'palisade circuitBreaker() + caller signal', fn: () => defaults.execute(fn, { signal }) },
    { name: 'palisade keyed(circuitBreaker) per host', fn: () => perHost.execute(fn, { key: 'api.example.com' }) },
    {
      name: 'cockatiel circuitBreaker(ConsecutiveBreaker(5))',
      fn: () => cockatiel.execute(fn),
      peer: 'cockatiel',
      versus: DEFAULTS,
    },
    // palisade's breaker has no timeout of its own: both of opossum's rows pair with its defaults.
    { name: 'opossum fire() (defaults: 10 s timeout)', fn: () => opossum.fire(), peer: 'opossum', versus: DEFAULTS },
    {
      name: 'opossum fire() ({ timeout: false })',
      fn: () => opossumNoTimeout.fire(),
      peer: 'opossum',
      versus: DEFAULTS,
    },
  ]);
  opossum.shutdown();
  opossumNoTimeout.shutdown();
}

/** The goal's pair alone, in a fresh process (see runAlone) and more rounds. */
async function goal(): Promise<void> {
  const fn = async () => 1;
  const defaults = circuitBreaker();
  await compare(
    'bare await vs circuitBreaker(), alone in a fresh process (goal: ≤ 2x)',
    [
      { name: 'bare await fn()', fn },
      { name: 'palisade circuitBreaker() (defaults)', fn: () => defaults.execute(fn) },
    ],
    { iterations: 100_000, rounds: 21 },
  );
}

if (process.argv.includes('--memory')) {
  await memory();
} else if (process.argv.includes('--goal')) {
  await goal();
} else if (process.argv.includes('--speed')) {
  await speed();
} else {
  await speed();
  runAlone(import.meta.url, '--goal');
  if ((globalThis as { gc?: unknown }).gc) await memory();
  else {
    // Heap numbers need --expose-gc: measure memory in a child that has it.
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--conditions=@palisade/source', fileURLToPath(import.meta.url), '--memory'],
      { stdio: 'inherit' },
    );
    if (child.status !== 0) process.exitCode = child.status ?? 1;
  }
}
