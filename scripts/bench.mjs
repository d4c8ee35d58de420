// npm run bench [name...]: runs bench/*.ts (or the named ones) one after another, each in its own
// process (with --expose-gc, for the heap numbers), echoes their tables and writes them all to
// bench/RESULTS.md with the machine and the versions of palisade and every peer measured. With
// names, only their sections of bench/RESULTS.md are replaced (or added), each saying when and
// where it was re-run, so that one bench can be re-measured without re-running them all.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';

const wanted = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

const version = (name) => {
  try {
    return JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')).version;
  } catch {
    return 'not installed';
  }
};
const peers = Object.keys(JSON.parse(readFileSync('bench/package.json', 'utf8')).devDependencies ?? {});
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
    'Each table: median of alternating rounds; "× bare" is the ratio to the bare call measured in the same run.',
    '',
    `palisade ${version('@palisade/core')}; peers: ${peers.map((p) => `${p} ${version(p)}`).join(', ')}.`,
    '',
  ].join('\n');
  writeFileSync('bench/RESULTS.md', `${header}\n${sections.map((x) => x.text).join('\n')}`);
  process.stdout.write('\nwrote bench/RESULTS.md\n');
}
process.exit(failed > 0 ? 1 : 0);
