// npm run check: publint and @arethetypeswrong/cli on every built package, then each of its
// entry points loaded as an app would (`import` and `require`, not the TypeScript sources the tests
// run): both must load and export the same names, and every package their files import must be
// declared in package.json. Fails on any problem.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packagesInOrder } from './workspace.mjs';

/** The package a bare specifier names (`lru-cache`, `@palisade/core`), or undefined for a path. */
function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/**
 * Packages that `pkg`'s built files import but its package.json does not declare. In this
 * workspace every package resolves from the root node_modules, so only this check sees a
 * dependency an installed copy would not find.
 */
function undeclaredImports(pkg) {
  const declared = new Set([
    pkg.name,
    ...Object.keys(pkg.json.dependencies ?? {}),
    ...Object.keys(pkg.json.peerDependencies ?? {}),
    ...builtinModules,
  ]);
  const missing = new Set();
  const files = readdirSync(join(pkg.dir, 'dist'), { recursive: true }).filter((f) => /\.c?js$/.test(f));
  for (const file of files) {
    const text = readFileSync(join(pkg.dir, 'dist', file), 'utf8');
    for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)) {
      const name = packageOf((match[1] ?? '').replace(/^node:/, ''));
      if (name !== undefined && !declared.has(name)) missing.add(`${name} (in dist/${file})`);
    }
  }
  return [...missing].map((what) => `imports ${what} without declaring it`);
}

/** Loads every entry point of `pkg` both ways; what is wrong with it, or nothing. */
async function loadProblems(pkg) {
  const problems = undeclaredImports(pkg);
  const require = createRequire(join(pkg.dir, 'package.json'));
  for (const [subpath, target] of Object.entries(pkg.json.exports ?? {})) {
    if (typeof target !== 'object' || target === null) continue;
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    let esm;
    let cjs;
    try {
      esm = Object.keys(await import(pathToFileURL(join(pkg.dir, target.import.default)).href)).sort();
    } catch (error) {
      problems.push(`import('${specifier}'): ${error.message}`);
    }
    try {
      cjs = Object.keys(require(specifier)).sort();
    } catch (error) {
      problems.push(`require('${specifier}'): ${error.message}`);
    }
    if (esm && cjs) {
      if (esm.length === 0) problems.push(`${specifier} exports nothing`);
      const onlyEsm = esm.filter((name) => !cjs.includes(name));
      const onlyCjs = cjs.filter((name) => !esm.includes(name) && name !== 'default');
      if (onlyEsm.length + onlyCjs.length > 0) {
        problems.push(
          `${specifier}: import has [${onlyEsm.join(', ')}], require has [${onlyCjs.join(', ')}] the other lacks`,
        );
      }
    }
  }
  return problems;
}

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
  const problems = await loadProblems(pkg);
  if (problems.length === 0)
    process.stdout.write(`ok   load ${pkg.name} (import and require, every import declared)\n`);
  else {
    failed++;
    process.stdout.write(`FAIL load ${pkg.name}\n${problems.map((p) => `  ${p}\n`).join('')}`);
  }
}
if (failed > 0) {
  process.stderr.write(`${failed} check(s) failed\n`);
  process.exit(1);
}
