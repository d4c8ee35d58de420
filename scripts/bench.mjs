// npm run bench [name...]: runs bench/*.ts (or the named ones) one after another.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const wanted = process.argv.slice(2);
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
for (const file of files) {
  process.stdout.write(`\n## ${file}\n`);
  execFileSync('npx', ['tsx', '--conditions=@palisade/source', `bench/${file}`], { stdio: 'inherit' });
}
