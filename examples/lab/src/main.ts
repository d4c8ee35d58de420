// palisade lab: runs each scenario with and without palisade on real processes (a fault-injecting
// upstream, Express and Hono services, a load generator) and prints what users would have seen.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, redisAnswers } from './processes.js';
import { LEGEND, fmtNines, fmtPct, fmtRecovery, renderReport } from './report.js';
import {
  type Mode,
  type Rig,
  type RunResult,
  runScenario,
  startRig,
  startServices,
  stopRig,
  stopServices,
} from './run.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { type RunFacts, type RunSummary, summarize } from './stats.js';

const HELP = `palisade lab — availability under faults, with and without palisade

Usage: npm run demo -- [options]

  --quick              shorter runs (25% of each scenario's nominal length instead of 40%),
                       for tests and a first look
  --scenario <names>   comma-separated subset: ${SCENARIOS.map((s) => s.name).join(', ')}
  --report <path>      where to write the HTML report (default: artifacts/lab-report.html)
  --json <path>        also write the summaries as JSON
  --help               this text

Each scenario runs twice on 127.0.0.1: "baseline" (plain fetch, no protection) and "palisade"
(createFetch with per-route policies, inbound middleware), each time with an Express and a Hono
service (the fleet: 3 services) taking reads (GET /api/items/:id) and 20% orders (POST /api/orders).
The fleet scenario needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and is skipped with a
note when it does not answer PING.`;

const MODES: readonly Mode[] = ['baseline', 'palisade'];

export interface ScenarioOutcome {
  scenario: string;
  skipped?: string;
  baseline?: RunSummary;
  palisade?: RunSummary;
}

function summaryOf(run: RunResult): RunSummary {
  const facts: RunFacts = {
    upstreamCalls: run.upstreamCalls,
    upstreamOrders: run.upstreamOrders,
    frameworks: run.frameworks,
  };
  if (run.outage) facts.outage = { ...run.outage, upstreamDuring: run.upstreamDuringOutage ?? 0 };
  return summarize(run.samples, facts);
}

function printTable(scenario: Scenario, summaries: Record<string, RunSummary>): void {
  const header = [
    'run',
    'served',
    'fresh',
    'stale',
    'nines',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'upstream calls',
    'in outage',
    'recovered',
  ];
  const rows = (['baseline', 'palisade'] as const).map((mode) => {
    const s = summaries[mode] as RunSummary;
    return [
      mode,
      fmtPct(s.successRate),
      fmtPct(s.freshRate),
      String(s.stale),
      fmtNines(s),
      s.p50.toFixed(0),
      s.p99.toFixed(0),
      s.p999.toFixed(0),
      `${s.upstreamCalls} (${s.amplification.toFixed(2)}x)`,
      s.upstreamDuringOutage === undefined ? '–' : String(s.upstreamDuringOutage),
      fmtRecovery(s.recoverMs),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  process.stdout.write(`\n${scenario.title} — ${scenario.story}\n`);
  process.stdout.write(`${line(header)}\n${rows.map(line).join('\n')}\n`);
}

export async function main(argv = process.argv.slice(2)): Promise<ScenarioOutcome[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string' },
      report: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return [];
  }
  const wanted = values.scenario?.split(',').map((s) => s.trim());
  const unknown = wanted?.filter((w) => !SCENARIOS.some((s) => s.name === w));
  if (unknown?.length)
    throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const scenarios = SCENARIOS.filter((s) => !wanted || wanted.includes(s.name));
  // The default run is 40% of the scenarios' nominal length: the whole lab in about a minute.
  const scale = values.quick ? 0.25 : 0.4;
  const firstServicePort = await freePort();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisAt = (() => {
    const u = new URL(redisUrl);
    return `${u.hostname}:${u.port || 6379}`;
  })();
  const redisUp = scenarios.some((s) => s.redis) && (await redisAnswers(redisUrl));
  const tty = process.stdout.isTTY;

  process.stdout.write(
    `palisade lab: ${scenarios.length} scenario(s), each run without and with palisade${values.quick ? ' (quick)' : ''}\n`,
  );
  process.stdout.write(
    `live dashboard while palisade runs: http://127.0.0.1:${firstServicePort}/__palisade/dashboard\n`,
  );

  const outcomes: ScenarioOutcome[] = [];
  const entries: Parameters<typeof renderReport>[0] = [];
  // One upstream and one load generator serve every run (each run resets and reseeds the
  // upstream); each scenario starts both runs' services, each run stops its own.
  let rig: Rig | undefined;
  try {
    for (const scenario of scenarios) {
      if (scenario.redis && !redisUp) {
        process.stdout.write(
          `\n${scenario.title}: skipped — Redis does not answer PING at ${redisAt} (set REDIS_URL)\n`,
        );
        outcomes.push({ scenario: scenario.name, skipped: 'redis unavailable' });
        continue;
      }
      const runs: RunResult[] = [];
      const summaries: Record<string, RunSummary> = {};
      const shared = (rig ??= await startRig());
      // Both runs' services start together, before the first run measures anything.
      const started = await Promise.allSettled(
        MODES.map((mode) => startServices(scenario, mode, shared, firstServicePort)),
      );
      const sets = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      try {
        const failed = started.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
        for (const services of sets) {
          const label = `${scenario.name} / ${services.mode}`;
          const run = await runScenario(scenario, services.mode, {
            scale,
            firstServicePort,
            rig: shared,
            services,
            onProgress: (f) => {
              if (tty)
                process.stdout.write(
                  `\r  ${label.padEnd(24)} [${'#'.repeat(Math.round(f * 30)).padEnd(30)}] ${Math.round(f * 100)}%`,
                );
            },
          });
          await stopServices(services);
          if (tty) process.stdout.write('\r'.padEnd(80) + '\r');
          else process.stdout.write(`  ${label}: ${run.samples.length} requests\n`);
          runs.push(run);
          summaries[services.mode] = summaryOf(run);
        }
      } finally {
        await Promise.all(sets.map(stopServices));
      }
      printTable(scenario, summaries);
      outcomes.push({ scenario: scenario.name, baseline: summaries.baseline, palisade: summaries.palisade });
      entries.push({ scenario, runs, summaries });
    }
  } finally {
    await stopRig(rig);
  }

  if (entries.length) process.stdout.write(`\n${LEGEND.map((l) => `  ${l}`).join('\n')}\n`);

  const reportPath = resolve(values.report ?? 'artifacts/lab-report.html');
  mkdirSync(resolve(reportPath, '..'), { recursive: true });
  const meta = `${new Date().toISOString()} · ${os.cpus().length} cores · Node ${process.version}${values.quick ? ' · quick mode' : ''}`;
  writeFileSync(reportPath, renderReport(entries, meta));
  process.stdout.write(`\nreport: ${reportPath}\n`);
  if (values.json) writeFileSync(resolve(values.json), JSON.stringify(outcomes, null, 2));
  return outcomes;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
