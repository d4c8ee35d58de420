// npm run bench [name...]: runs bench/*.ts (or the named ones) one after another, each in its own
// process (with --expose-gc, for the heap numbers), echoes their tables and writes them all to
// bench/RESULTS.md with the machine and the versions of palisade and every peer measured. With
// names, only their sections of bench/RESULTS.md are replaced (or added), each saying when and
// where it was re-run, so that one bench can be re-measured without re-running them all.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';

// A name is a bench's file name or its start (`retry`, `rate`, `bench/retry.ts`).
const wanted = process.argv.slice(2).map((w) => w.replace(/^bench\//, '').replace(/\.ts$/, ''));
const benches = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .sort();
const unknown = wanted.filter((w) => !benches.some((f) => f.startsWith(w)));
if (unknown.length > 0) {
  process.stderr.write(
    `npm run bench: no bench matches ${unknown.map((w) => `"${w}"`).join(', ')}; the benches are: ${benches.map((f) => f.replace(/\.ts$/, '')).join(', ')}\n`,
  );
  process.exit(1);
}
const files = benches.filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)));

/** The libraries palisade is measured against (bench/_harness.ts's `Peer`); autocannon is a tool. */
const PEERS = [
  'cockatiel',
  'opossum',
  'p-retry',
  'p-limit',
  'bottleneck',
  'rate-limiter-flexible',
  'express-rate-limit',
  'hono-rate-limiter',
];
const TOOLS = ['autocannon', 'tsx'];

const version = (name) => {
  try {
    return JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')).version;
  } catch {
    return 'not installed';
  }
};
// What the benches run on besides palisade, its peers and the tools: frameworks, Redis clients,
// lru-cache, OpenTelemetry (their versions change the figures too).
const declared = Object.keys(JSON.parse(readFileSync('bench/package.json', 'utf8')).devDependencies ?? {});
const missing = PEERS.filter((p) => !declared.includes(p));
if (missing.length > 0) {
  process.stderr.write(`npm run bench: bench/package.json does not declare the peer(s) ${missing.join(', ')}\n`);
  process.exit(1);
}
const others = declared.filter(
  (d) => !PEERS.includes(d) && !TOOLS.includes(d) && !d.startsWith('@palisade/') && !d.startsWith('@types/'),
);
const list = (names) => names.map((p) => `${p} ${version(p)}`).join(', ');
const sections = [];
const today = new Date().toISOString().slice(0, 10);
const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
const where = `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
let failed = 0;
for (const file of files) {
  process.stdout.write(`\n## ${file}\n`);
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--conditions=@palisade/source', `bench/${file}`],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  process.stdout.write(run.stdout ?? '');
  if (run.status !== 0) failed++;
  const name = file.replace(/\.ts$/, '');
  const rerun = wanted.length === 0 ? '' : `_Re-run alone (\`npm run bench ${name}\`) on ${today}: ${where}._\n\n`;
  sections.push({
    name,
    text: `## ${name}\n\n${rerun}${(run.stdout ?? '').trim() || '_no output_'}${run.status === 0 ? '' : `\n\n**exited with ${run.status}**`}\n`,
  });
}

if (wanted.length > 0 && existsSync('bench/RESULTS.md')) {
  // Splice: the header and the other benches' sections stay as they are; sections stay sorted.
  const [header, ...parts] = readFileSync('bench/RESULTS.md', 'utf8').split(/^(?=## )/m);
  const byName = new Map(parts.map((part) => [part.slice(3, part.indexOf('\n')).trim(), part]));
  for (const section of sections) byName.set(section.name, `${section.text}\n`);
  const body = [...byName.keys()]
    .sort()
    .map((name) => byName.get(name))
    .join('');
  writeFileSync('bench/RESULTS.md', `${header}${body}`.trimEnd().concat('\n'));
  process.stdout.write(`\nupdated ${sections.map((x) => x.name).join(', ')} in bench/RESULTS.md\n`);
}

if (wanted.length === 0) {
  const header = [
    '# palisade benchmarks',
    '',
    `Written by \`npm run bench\` on ${today}: ${where}.`,
    'Timed tables: the median of an odd number of alternating rounds (each section says how many); "× bare" is the ratio to the bare call measured in the same run, and the peer column the ratio of each peer to the palisade row it names, measured in the same run, read so that > 1 means palisade does better.',
    '',
    `palisade ${version('@palisade/core')}; peers: ${list(PEERS)}.`,
    '',
    `Tools: ${list(TOOLS)}. Measured with: ${list(others)}.`,
    '',
  ].join('\n');
  writeFileSync('bench/RESULTS.md', `${header}\n${sections.map((x) => x.text).join('\n')}`);
  process.stdout.write('\nwrote bench/RESULTS.md\n');
}
process.exit(failed > 0 ? 1 : 0);
