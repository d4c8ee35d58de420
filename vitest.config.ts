import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const dirs = (parent: string) =>
  readdirSync(new URL(`./${parent}/`, import.meta.url), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${parent}/${entry.name}`);

export default defineConfig({
  resolve: { conditions: ['@palisade/source'] },
  ssr: { resolve: { conditions: ['@palisade/source'] } },
  test: {
    projects: [...dirs('packages'), ...dirs('examples'), 'docs'].map((root) => ({
      extends: true,
      test: {
        name: root.split('/')[1] ?? root,
        root,
        include: ['test/**/*.test.ts'],
        // The lab measures real processes under load: run it alone, after everything else, so
        // other test files do not compete with it for the CPU.
        sequence: { groupOrder: root === 'examples/lab' ? 1 : 0 },
      },
    })),
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
