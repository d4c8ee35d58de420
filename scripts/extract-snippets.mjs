// Extracts every ```ts / ```typescript block of the docs and READMEs into docs/.snippets/ so that
// `npm run typecheck` compiles them with the rest of the repo: docs cannot drift from the API.
// A block that is deliberately not code belongs in a ```text block.
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

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
    writeFileSync(join(out, name), `// ${relative(root, file)}:${line}\n${match[2]}\nexport {};\n`);
    count++;
  }
}
process.stdout.write(`extracted ${count} TypeScript blocks from ${files.length} markdown files\n`);
