// npm run build: builds every package with tsup, dependencies first.
import { execFileSync } from 'node:child_process';
import { packagesInOrder } from './workspace.mjs';

for (const pkg of packagesInOrder()) {
  process.stdout.write(`build ${pkg.name}\n`);
  execFileSync('npx', ['tsup', '--silent'], { cwd: pkg.dir, stdio: 'inherit' });
}
