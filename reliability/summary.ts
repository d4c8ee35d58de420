// Prints the reliability suite's summary table from the JSON the tests wrote under
// artifacts/reliability/ (and writes it there as SUMMARY.md). Every cell is something measured:
// faults count as survived only when the fault was seen, every request answered and the service
// answered 200 afterwards; a failed check or test (tests.json, written by reporter.ts) shows in its
// row; lost or leaked is the count itself. Exits 1 when a suite left no results, a test or check
// failed, or anything was lost or leaked.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS } from './harness.js';
import type { TestOutcome } from './reporter.js';

interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}
interface Soak {
  durationMs: number;
  rps: number;
  redis: string;
  phases: {
    name: string;
    applied: boolean;
    seen: boolean;
    seenBy: string;
    answeredDuring: boolean;
    answeredAfter: boolean;
    byStatus: Record<string, number>;
  }[];
  requests: number;
  byStatus: Record<string, number>;
  successPercent: number;
  eventLoop: { p99Ms: number; maxMs: number; machineP99Ms: number };
  heap: { firstThirdBytes: number; lastThirdBytes: number };
  cpu: { msPerRequest: number; shareOfCore: number; machineLoad1m: number[]; cores: number };
  checks: CheckResult[];
  lost: number;
  leaked: number;
}
interface Faults {
  faults: {
    name: string;
    injected: string;
    seen: boolean;
    seenBy: string;
    answeredAfter: boolean;
    survived: boolean;
    requests: number;
    byStatus: Record<string, number>;
    checks: CheckResult[];
    lost: number;
    leaked: number;
  }[];
}
interface Fuzz {
  properties: Record<string, number>;
  accepted: Record<string, number>;
  total: number;
  prototypesIntact: boolean;
}

const read = <T>(name: string): T | undefined => {
  const file = join(ARTIFACTS, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
};
const n = (value: number): string => Math.round(value).toLocaleString('en-US');
const pct = (part: number, whole: number): string => (whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)}%`);
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

const soak = read<Soak>('soak');
const faults = read<Faults>('faults');
const fuzz = read<Fuzz>('fuzz');
const tests = read<{ tests: TestOutcome[] }>('tests')?.tests;
let bad = 0;
const rows: string[][] = [];
const notes: string[] = [];

/** The suite's tests and checks: `12/12 tests, 86/86 checks`, or what failed. */
function outcome(suite: string, checks: CheckResult[]): string {
  const mine = tests?.filter((t) => t.suite === suite) ?? [];
  const failedTests = mine.filter((t) => t.state === 'failed');
  const ran = mine.filter((t) => t.state !== 'skipped');
  const skipped = mine.length - ran.length;
  const failedChecks = checks.filter((c) => !c.ok);
  bad += failedTests.length + failedChecks.length;
  for (const t of failedTests) notes.push(`${suite} FAILED test: ${t.name}${t.errors[0] ? ` — ${t.errors[0]}` : ''}`);
  for (const c of failedChecks) notes.push(`${suite} FAILED check: ${c.name} (${c.detail})`);
  for (const t of mine.filter((t) => t.state === 'skipped')) notes.push(`${suite} SKIPPED: ${t.name}`);
  const testPart =
    tests === undefined
      ? 'tests: no record'
      : `${ran.length - failedTests.length}/${ran.length} tests${skipped > 0 ? ` (${skipped} SKIPPED)` : ''}`;
  const checkPart = checks.length === 0 ? '' : `, ${checks.length - failedChecks.length}/${checks.length} checks`;
  if (tests !== undefined && ran.length === 0) return 'NOT RUN: no test recorded';
  const verdict = failedTests.length + failedChecks.length === 0 ? 'ok' : 'FAILED';
  return `${verdict}: ${testPart}${checkPart}`;
}
if (tests === undefined) bad++;

if (soak) {
  const answered = soak.requests - (soak.byStatus[0] ?? 0);
  const faultsRun = soak.phases.filter((p) => p.name !== 'healthy' && p.name !== 'recovered');
  const survived = faultsRun.filter((p) => p.applied && p.seen && p.answeredDuring && p.answeredAfter);
  bad += soak.lost + soak.leaked + (faultsRun.length - survived.length);
  const redis = soak.redis.startsWith('skipped') ? ', Redis SKIPPED' : ', throttle on Redis';
  rows.push([
    `soak (${soak.durationMs / 1_000} s at ${soak.rps}/s${redis})`,
    `${n(soak.requests)} requests, ${pct(answered, soak.requests)} answered, ${soak.successPercent.toFixed(1)}% 200`,
    `${survived.length}/${faultsRun.length} upstream faults`,
    '—',
    `${soak.lost} lost, ${soak.leaked} leaked`,
    outcome('soak', soak.checks),
  ]);
  for (const p of faultsRun) {
    const verdict = !p.applied
      ? 'NOT APPLIED'
      : !p.seen
        ? 'NOT SEEN'
        : !p.answeredDuring
          ? 'requests UNANSWERED'
          : !p.answeredAfter
            ? 'no 200 AFTER it'
            : 'survived';
    notes.push(`soak fault "${p.name}": ${verdict} (${p.seenBy}; answers ${JSON.stringify(p.byStatus)})`);
  }
  notes.push(
    `soak: event-loop delay p99 ${soak.eventLoop.p99Ms.toFixed(1)} ms (max ${soak.eventLoop.maxMs.toFixed(0)} ms; an idle process on the machine: ${soak.eventLoop.machineP99Ms.toFixed(1)} ms); heap after GC ${mb(soak.heap.firstThirdBytes)} (first third) → ${mb(soak.heap.lastThirdBytes)} (last third); service CPU ${soak.cpu.msPerRequest.toFixed(1)} ms/request (${(100 * soak.cpu.shareOfCore).toFixed(0)}% of a core), machine load ${soak.cpu.machineLoad1m.map((l) => l.toFixed(1)).join(' → ')} on ${soak.cpu.cores} cores; Redis: ${soak.redis}`,
  );
} else {
  bad++;
  rows.push(['soak', 'no results (did not run or crashed)', '?', '—', '?', outcome('soak', [])]);
}

if (faults) {
  const survived = faults.faults.filter((f) => f.survived && f.seen && f.answeredAfter).length;
  // A fault whose test threw before it reported is a fault not survived.
  const tried = Math.max(
    faults.faults.length,
    tests?.filter((t) => t.suite === 'faults' && t.state !== 'skipped').length ?? 0,
  );
  const requests = faults.faults.reduce((s, f) => s + f.requests, 0);
  const unanswered = faults.faults.reduce((s, f) => s + (f.byStatus[0] ?? 0), 0);
  const lost = faults.faults.reduce((s, f) => s + f.lost, 0);
  const leaked = faults.faults.reduce((s, f) => s + f.leaked, 0);
  bad += tried - survived + lost + leaked;
  rows.push([
    'faults',
    `${n(requests)} requests, ${n(requests - unanswered)} answered or cut by the client`,
    `${survived}/${tried}`,
    '—',
    `${lost} lost, ${leaked} leaked`,
    outcome(
      'faults',
      faults.faults.flatMap((f) => f.checks),
    ),
  ]);
  for (const f of faults.faults) {
    const verdict = f.survived && f.seen && f.answeredAfter ? 'survived' : !f.seen ? 'NOT SEEN' : 'FAILED';
    notes.push(
      `faults: ${verdict} — ${f.name}: ${f.injected}; seen: ${f.seenBy}; answered 200 after: ${f.answeredAfter ? 'yes' : 'NO'}; ${f.lost} lost, ${f.leaked} leaked`,
    );
  }
} else {
  bad++;
  rows.push(['faults', 'no results (did not run or crashed)', '?', '—', '?', outcome('faults', [])]);
}

if (fuzz) {
  const polluted = fuzz.prototypesIntact ? 0 : 1;
  bad += polluted;
  rows.push([
    'fuzz',
    '—',
    '—',
    `${n(fuzz.total)} (${Object.keys(fuzz.properties).length} parsers and keyed states)`,
    `${polluted} prototypes polluted`,
    outcome('fuzz', []),
  ]);
  notes.push(
    `fuzz: ${Object.entries(fuzz.properties)
      .map(([name, runs]) => `${name} ${n(runs)}${fuzz.accepted[name] ? ` (${n(fuzz.accepted[name])} accepted)` : ''}`)
      .join(', ')}; prototypes ${fuzz.prototypesIntact ? 'intact' : 'POLLUTED'}`,
  );
} else {
  bad++;
  rows.push(['fuzz', '—', '—', 'no results (did not run or crashed)', '?', outcome('fuzz', [])]);
}

const header = ['suite', 'load held', 'faults survived', 'bad inputs tried', 'lost or leaked', 'result'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
const table = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
const cpus = os.cpus();
const text = [
  `palisade reliability — node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${new Date().toISOString()}`,
  '',
  table,
  '',
  ...notes.map((note) => `- ${note}`),
  '',
  bad === 0 ? 'all held.' : `NOT ALL HELD: ${bad} failure(s) above.`,
  '',
].join('\n');
process.stdout.write(`\n${text}`);
if (existsSync(ARTIFACTS)) writeFileSync(join(ARTIFACTS, 'SUMMARY.md'), text);
process.exitCode = bad === 0 ? 0 : 1;
