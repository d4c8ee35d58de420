// The publishable packages under packages/, in dependency order (dependencies first).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function packagesInOrder(root = process.cwd()) {
  const dir = join(root, 'packages');
  const pkgs = new Map();
  for (const name of readdirSync(dir)) {
    const file = join(dir, name, 'package.json');
    if (!existsSync(file) || !existsSync(join(dir, name, 'src', 'index.ts'))) continue;
    const json = JSON.parse(readFileSync(file, 'utf8'));
    pkgs.set(json.name, { name: json.name, dir: join(dir, name), json });
  }
  const order = [];
  const state = new Map();
  const visit = (pkg) => {
    if (state.get(pkg.name) === 'done') return;
    if (state.get(pkg.name) === 'visiting') throw new Error(`dependency cycle at ${pkg.name}`);
    state.set(pkg.name, 'visiting');
    const deps = { ...pkg.json.dependencies, ...pkg.json.peerDependencies };
    for (const dep of Object.keys(deps)) if (pkgs.has(dep)) visit(pkgs.get(dep));
    state.set(pkg.name, 'done');
    order.push(pkg);
  };
  for (const pkg of pkgs.values()) visit(pkg);
  return order;
}
