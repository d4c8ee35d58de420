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
    projects: [...dirs('packages'), ...dirs('examples')].map((root) => ({
      extends: true,
      test: {
        name: root.split('/')[1],
        root,
        include: ['test/**/*.test.ts'],
      },
    })),
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
