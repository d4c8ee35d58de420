// npm run check: publint and @arethetypeswrong/cli on every built package; fails on any problem.
import { execFileSync } from 'node:child_process';
import { packagesInOrder } from './workspace.mjs';

let failed = 0;
for (const pkg of packagesInOrder()) {
  for (const [tool, args] of [
    ['publint', ['publint', '--strict', '--level', 'suggestion']],
    ['attw', ['attw', '--pack', '.', '--profile', 'node16', '--format', 'table-flipped']],
  ]) {
    try {
      const out = execFileSync('npx', args, { cwd: pkg.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      process.stdout.write(`ok   ${tool} ${pkg.name}\n`);
      if (process.env.VERBOSE) process.stdout.write(out);
    } catch (error) {
      failed++;
      process.stdout.write(`FAIL ${tool} ${pkg.name}\n${error.stdout ?? ''}${error.stderr ?? ''}\n`);
    }
  }
}
if (failed > 0) {
  process.stderr.write(`${failed} check(s) failed\n`);
  process.exit(1);
}
