import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { ArtifactReporter } from './reporter.js';

// `npm run test:reliability`: the soak, fault and fuzz suites, one file after another (the soak
// measures event-loop delay, so nothing else may load the machine meanwhile).
export default defineConfig({
  resolve: { conditions: ['@palisade/source'] },
  ssr: { resolve: { conditions: ['@palisade/source'] } },
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['reliability/**/*.test.ts'],
    globalSetup: ['reliability/setup.ts'],
    fileParallelism: false,
    // Each test's outcome goes to artifacts/reliability/tests.json too, for the summary table.
    reporters: ['default', new ArtifactReporter()],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
