// @palisade/metrics: what attaching the metrics sink costs a policy's hot path. Each policy is
// measured without a listener, with an empty listener (the policy's own cost of timing the call
// and building and stamping its events: clock reads dominate) and with `metrics.onEvent`; the goal
// is "with metrics ≤ 1.5× without". `fn` is `async () => 1` (the worst case: nothing to hide the
// cost behind), then one event-loop turn (the least a call doing I/O costs). Informational rows:
// keyed calls (per-key LRU touch), and the OpenTelemetry histogram on top.
//
// Two ratios per policy: with metrics ÷ without (the goal) and with metrics ÷ empty listener (the
// sink's own share, the part @palisade/metrics controls). A listener makes a policy time its calls:
// at least two clock reads per call (start, end), whose cost is measured in the same run and
// printed as the floor any listener pays: `(without + 2 clock reads per timed policy) ÷ without`
// (the pipeline times two: retry and the breaker; a timeout reads the clock with or without one).
import { type EventListener, pipeline } from '@palisade/core';
import { circuitBreaker } from '@palisade/circuit-breaker';
import { createMetrics } from '@palisade/metrics';
import { retry } from '@palisade/retry';
import { timeout } from '@palisade/timeout';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { type BenchRow, compare, machine, saveResults } from './_harness.js';

/**
 * CPU time per operation (user + system), median of alternating rounds. On a shared, loaded
 * machine wall time mostly measures the other processes; CPU time is what the call costs.
 */
async function cpuCompare(cases: { name: string; fn: () => unknown }[], iterations: number, rounds: number) {
  const samples = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < cases.length; j++) {
      const i = r % 2 === 0 ? j : cases.length - 1 - j;
      const { fn } = cases[i] as { fn: () => unknown };
      const start = process.cpuUsage();
      for (let n = 0; n < iterations; n++) {
        const result = fn();
        if (result instanceof Promise) await result;
      }
      const used = process.cpuUsage(start);
      samples[i]?.push(((used.user + used.system) * 1_000) / iterations);
    }
  }
  return cases.map((c, i) => {
    const sorted = (samples[i] as number[]).sort((a, b) => a - b);
    return { name: c.name, nsPerOp: sorted[Math.floor(sorted.length / 2)] as number };
  });
}

const ITERATIONS = 100_000;
const ROUNDS = 7;
/** Alternating rounds of the CPU-time comparison. */
const CPU_ROUNDS = 5;
const ok = async () => 1;
const empty = () => {};
const KEYS = Array.from({ length: 50 }, (_, i) => ({ key: `host-${i}.example.com` }));
let k = 0;
const keyed = () => KEYS[k++ % KEYS.length];

interface Policy {
  execute(fn: typeof ok, options?: { key?: string }): Promise<number>;
}
type Build = (onEvent?: EventListener) => Policy;

/** Title, factory, and how many of its policies time a call once they have a listener. */
const builds: [string, Build, number][] = [
  ['circuitBreaker()', (onEvent) => circuitBreaker({ onEvent }), 1],
  ['retry()', (onEvent) => retry({ onEvent }), 1],
  [
    'pipeline(timeout, retry, circuitBreaker)',
    (onEvent) => pipeline(timeout({ ms: '5s', onEvent }), retry({ onEvent }), circuitBreaker({ onEvent })),
    2,
  ],
];

// One clock read (what `systemClock.now()` costs here): timing a call takes two.
const clockRows = await compare(
  'clock read',
  [
    { name: 'empty function', fn: () => empty() },
    { name: 'Date.now()', fn: () => Date.now() },
  ],
  { iterations: ITERATIONS * 5, rounds: ROUNDS },
);
const clockNs = Math.max(0, (clockRows[1] as BenchRow).nsPerOp - (clockRows[0] as BenchRow).nsPerOp);
const floor = (without: number, timed: number) => `${((without + 2 * timed * clockNs) / without).toFixed(2)}×`;

const summary: string[] = [
  '| policy | without | empty listener | with metrics | sink (with − empty) | with metrics ÷ without | floor: clock reads | with metrics ÷ empty listener |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
const sections: string[] = [];
const cpuSummary: string[] = [
  '| policy | without | empty listener | with metrics | sink (with − empty) | with metrics ÷ without | with metrics ÷ empty listener |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
const row = (rows: BenchRow[], name: string) => rows.find((r) => r.name === name) as BenchRow;

for (const [title, build, timed] of builds) {
  const metrics = createMetrics();
  const bare = build();
  const listened = build(empty);
  const measured = build(metrics.onEvent);
  const keyedMetrics = createMetrics();
  const measuredKeyed = build(keyedMetrics.onEvent);
  const provider = new MeterProvider();
  const otelMetrics = createMetrics({ meter: provider.getMeter('bench') });
  const measuredOtel = build(otelMetrics.onEvent);
  const rows = await compare(
    title,
    [
      { name: 'bare call', fn: ok },
      { name: 'without metrics', fn: () => bare.execute(ok) },
      { name: 'empty listener', fn: () => listened.execute(ok) },
      { name: 'with metrics', fn: () => measured.execute(ok) },
      { name: 'with metrics, 50 keys', fn: () => measuredKeyed.execute(ok, keyed()) },
      { name: 'with metrics + OpenTelemetry', fn: () => measuredOtel.execute(ok) },
    ],
    { iterations: ITERATIONS, rounds: ROUNDS },
  );
  const without = row(rows, 'without metrics').nsPerOp;
  const ratio = row(rows, 'with metrics').nsPerOp / without;
  const emptyListener = row(rows, 'empty listener').nsPerOp;
  const withMetrics = row(rows, 'with metrics').nsPerOp;
  summary.push(
    `| ${title} | ${without.toFixed(0)} ns | ${emptyListener.toFixed(0)} ns | ${withMetrics.toFixed(0)} ns | ${(withMetrics - emptyListener).toFixed(0)} ns | ${ratio.toFixed(2)}× ${ratio <= 1.5 ? '✓' : '✗ (goal ≤ 1.5×)'} | ${floor(without, timed)} | ${(withMetrics / emptyListener).toFixed(2)}× |`,
  );
  sections.push(
    [`### ${title}`, '', '| case | ns/op | × bare | × without |', '| --- | ---: | ---: | ---: |']
      .concat(
        rows.map(
          (r) =>
            `| ${r.name} | ${r.nsPerOp.toFixed(1)} | ${r.ratioToBare.toFixed(2)} | ${(r.nsPerOp / without).toFixed(2)} |`,
        ),
      )
      .join('\n'),
  );
  const cpu = await cpuCompare(
    [
      { name: 'without metrics', fn: () => bare.execute(ok) },
      { name: 'empty listener', fn: () => listened.execute(ok) },
      { name: 'with metrics', fn: () => measured.execute(ok) },
    ],
    ITERATIONS,
    CPU_ROUNDS,
  );
  const [cpuWithout, cpuEmpty, cpuWith] = cpu.map((r) => r.nsPerOp) as [number, number, number];
  cpuSummary.push(
    `| ${title} | ${cpuWithout.toFixed(0)} ns | ${cpuEmpty.toFixed(0)} ns | ${cpuWith.toFixed(0)} ns | ${(cpuWith - cpuEmpty).toFixed(0)} ns | ${(cpuWith / cpuWithout).toFixed(2)}× ${cpuWith / cpuWithout <= 1.5 ? '✓' : '✗ (goal ≤ 1.5×)'} | ${(cpuWith / cpuEmpty).toFixed(2)}× |`,
  );
  await provider.shutdown();
}

// A call that does real I/O costs at least one event-loop turn: the same pipeline around such a call.
{
  const turn = () => new Promise<number>((resolve) => setImmediate(resolve, 1));
  const metrics = createMetrics();
  const [, build, timed] = builds[2] as [string, Build, number];
  const bare = build();
  const measured = build(metrics.onEvent);
  const title = 'pipeline(timeout, retry, circuitBreaker) around one event-loop turn';
  const rows = await compare(
    title,
    [
      { name: 'bare call', fn: turn },
      { name: 'without metrics', fn: () => bare.execute(turn) },
      { name: 'with metrics', fn: () => measured.execute(turn) },
    ],
    { iterations: ITERATIONS / 5, rounds: ROUNDS },
  );
  const without = row(rows, 'without metrics').nsPerOp;
  const ratio = row(rows, 'with metrics').nsPerOp / without;
  summary.push(
    `| ${title} | ${without.toFixed(0)} ns | – | ${row(rows, 'with metrics').nsPerOp.toFixed(0)} ns | – | ${ratio.toFixed(2)}× ${ratio <= 1.5 ? '✓' : '✗ (goal ≤ 1.5×)'} | ${floor(without, timed)} | – |`,
  );
}

// The sink alone: one pre-built event per call, no policy around it.
const sink = createMetrics();
const event = { policy: 'circuit-breaker', name: 'api', time: 0, type: 'success', durationMs: 12 } as const;
const keyedEvent = KEYS.map(({ key }) => ({ ...event, key }));
const sinkRows = await compare(
  'metrics.onEvent alone',
  [
    { name: 'empty function', fn: () => empty() },
    { name: 'onEvent(success)', fn: () => sink.onEvent({ ...event, time: k++ }) },
    { name: 'onEvent(success, 50 keys)', fn: () => sink.onEvent(keyedEvent[k++ % 50] as never) },
  ],
  { iterations: ITERATIONS * 5, rounds: ROUNDS },
);

const clockLine = `One clock read (\`Date.now()\`, what \`systemClock.now()\` does): ${clockNs.toFixed(1)} ns.`;
process.stdout.write(
  `Wall time (the medians of the tables above, ${ROUNDS} alternating rounds each):\n\n${summary.join('\n')}\n\n${clockLine}\n\n` +
    `CPU time (user + system) per call, the same cases: median of ${CPU_ROUNDS} alternating rounds of ${ITERATIONS.toLocaleString('en-US')} calls per case:\n\n${cpuSummary.join('\n')}\n`,
);
saveResults(
  'metrics',
  [
    '# @palisade/metrics overhead',
    '',
    machine(),
    '',
    'Wall time (the harness):',
    '',
    summary.join('\n'),
    '',
    clockLine,
    '',
    'CPU time (user + system) per call, the same cases:',
    '',
    cpuSummary.join('\n'),
    '',
    ...sections.flatMap((s) => [s, '']),
    '### metrics.onEvent alone',
    '',
    '| case | ns/op |',
    '| --- | ---: |',
    ...sinkRows.map((r) => `| ${r.name} | ${r.nsPerOp.toFixed(1)} |`),
    '',
  ].join('\n'),
);
