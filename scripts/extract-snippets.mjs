// Extracts every ```ts / ```typescript block of the docs and READMEs into docs/.snippets/ so that
// `npm run typecheck` compiles them with the rest of the repo: docs cannot drift from the API.
// A block that is deliberately not code belongs in a ```text block; a block of another library's
// code, shown for comparison (docs/migrating.md), in a ```js block, which is not checked.
//
// It then checks that tsconfig.json's program holds every file it wrote: TypeScript leaves
// dot-directories out of an `include` directory entry, so docs/.snippets must be named by a glob
// (`docs/.snippets/*.ts`), and nothing else would notice if it were not.
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = process.cwd();
const out = join(root, 'docs', '.snippets');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.md')) files.push(path);
  }
};
walk(join(root, 'docs'));
for (const base of ['packages', 'examples']) {
  for (const name of readdirSync(join(root, base))) {
    const readme = join(root, base, name, 'README.md');
    try {
      statSync(readme);
      files.push(readme);
    } catch {}
  }
}
files.push(join(root, 'README.md'));

let count = 0;
const written = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue;
  }
  const re = /^```(ts|typescript)\s*\n([\s\S]*?)^```/gm;
  let match;
  let n = 0;
  while ((match = re.exec(text))) {
    n++;
    const line = text.slice(0, match.index).split('\n').length;
    const name = `${relative(root, file).replace(/[^a-zA-Z0-9]+/g, '_')}_${n}.ts`;
    written.push(join(out, name));
    writeFileSync(join(out, name), `// ${relative(root, file)}:${line}\n${match[2]}\nexport {};\n`);
    count++;
  }
}
process.stdout.write(`extracted ${count} TypeScript blocks from ${files.length} markdown files\n`);

const config = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
const compiled = new Set(config?.fileNames.map((f) => relative(root, f)));
const left = written.map((f) => relative(root, f)).filter((f) => !compiled.has(f));
if (left.length > 0) {
  process.stderr.write(`tsconfig.json does not compile ${left.length} extracted blocks, e.g. ${left[0]}\n`);
  process.exit(1);
}
