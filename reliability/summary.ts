// Prints the reliability suite's summary table from the JSON the tests wrote under
// artifacts/reliability/ (and writes it there as SUMMARY.md). Exits 1 when a suite left no
// results, a check failed, or anything was lost or leaked.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS } from './harness.js';

interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}
interface Soak {
  durationMs: number;
  rps: number;
  phases: string[];
  faults: string[];
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
let bad = 0;
const rows: string[][] = [];
const notes: string[] = [];

if (soak) {
  const answered = soak.requests - (soak.byStatus[0] ?? 0);
  const failed = soak.checks.filter((c) => !c.ok);
  bad += failed.length + soak.lost + soak.leaked;
  rows.push([
    `soak (${soak.durationMs / 1_000} s at ${soak.rps}/s)`,
    `${n(soak.requests)} requests, ${pct(answered, soak.requests)} answered, ${soak.successPercent.toFixed(1)}% 200`,
    failed.length === 0
      ? `${soak.faults.length}/${soak.faults.length} upstream faults (${soak.faults.join(', ')})`
      : `FAILED ${failed.length} checks`,
    '—',
    String(soak.lost + soak.leaked),
  ]);
  notes.push(
    `soak: event-loop delay p99 ${soak.eventLoop.p99Ms.toFixed(1)} ms (max ${soak.eventLoop.maxMs.toFixed(0)} ms; an idle process on the machine: ${soak.eventLoop.machineP99Ms.toFixed(1)} ms); heap after GC ${mb(soak.heap.firstThirdBytes)} (first third) → ${mb(soak.heap.lastThirdBytes)} (last third); service CPU ${soak.cpu.msPerRequest.toFixed(1)} ms/request (${(100 * soak.cpu.shareOfCore).toFixed(0)}% of a core), machine load ${soak.cpu.machineLoad1m.map((l) => l.toFixed(1)).join(' → ')} on ${soak.cpu.cores} cores; ${soak.checks.length} invariants checked; phases: ${soak.phases.join(', ')}`,
  );
  for (const c of failed) notes.push(`soak FAILED: ${c.name} (${c.detail})`);
} else {
  bad++;
  rows.push(['soak', 'no results (did not run or crashed)', '—', '—', '?']);
}

if (faults) {
  const survived = faults.faults.filter((f) => f.survived).length;
  const requests = faults.faults.reduce((s, f) => s + f.requests, 0);
  const unanswered = faults.faults.reduce((s, f) => s + (f.byStatus[0] ?? 0), 0);
  const lostOrLeaked = faults.faults.reduce((s, f) => s + f.lost + f.leaked, 0);
  bad += faults.faults.length - survived + lostOrLeaked;
  rows.push([
    'faults',
    `${n(requests)} requests, ${pct(requests - unanswered, requests)} answered`,
    `${survived}/${faults.faults.length}`,
    '—',
    String(lostOrLeaked),
  ]);
  for (const f of faults.faults) {
    notes.push(`faults: ${f.survived ? 'survived' : 'FAILED'} — ${f.name} (${f.checks.length} checks)`);
    for (const c of f.checks.filter((c) => !c.ok)) notes.push(`  FAILED: ${c.name} (${c.detail})`);
  }
} else {
  bad++;
  rows.push(['faults', 'no results (did not run or crashed)', '?', '—', '?']);
}

if (fuzz) {
  const leaked = fuzz.prototypesIntact ? 0 : 1;
  bad += leaked;
  rows.push([
    'fuzz',
    '—',
    '—',
    `${n(fuzz.total)} (${Object.keys(fuzz.properties).length} parsers and keyed states)`,
    String(leaked),
  ]);
  notes.push(
    `fuzz: ${Object.entries(fuzz.properties)
      .map(([name, runs]) => `${name} ${n(runs)}${fuzz.accepted[name] ? ` (${n(fuzz.accepted[name])} accepted)` : ''}`)
      .join(', ')}; prototypes ${fuzz.prototypesIntact ? 'intact' : 'POLLUTED'}`,
  );
} else {
  bad++;
  rows.push(['fuzz', '—', '—', 'no results (did not run or crashed)', '?']);
}

const header = ['suite', 'load held', 'faults survived', 'bad inputs tried', 'lost or leaked'];
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
].join('\n');
process.stdout.write(`\n${text}`);
if (existsSync(ARTIFACTS)) writeFileSync(join(ARTIFACTS, 'SUMMARY.md'), text);
process.exitCode = bad === 0 ? 0 : 1;
