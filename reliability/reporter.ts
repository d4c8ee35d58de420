// Records every test's outcome in artifacts/reliability/tests.json, so that the summary table shows
// a failing property or check (and a suite that crashed before writing its own artifact) rather
// than leaving it to vitest's exit code.
import { basename } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { writeArtifact } from './harness.js';

/** One test as the summary reads it. */
export interface TestOutcome {
  /** The file's name without `.test.ts`: `soak`, `faults`, `fuzz`. */
  suite: string;
  name: string;
  state: 'passed' | 'failed' | 'skipped' | 'pending';
  /** The first line of each error (a fast-check counterexample, a failed expectation). */
  errors: string[];
}

const firstLine = (message: string | undefined): string => (message ?? '').split('\n')[0]?.slice(0, 300) ?? '';

export class ArtifactReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<{ message?: string }>): void {
    const tests: TestOutcome[] = [];
    for (const module of testModules) {
      const suite = basename(module.moduleId).replace(/\.test\.ts$/, '');
      for (const test of module.children.allTests()) {
        const result = test.result();
        const errors = result.state === 'failed' ? result.errors.map((e) => firstLine(e.message)) : [];
        tests.push({ suite, name: test.fullName, state: result.state, errors });
      }
      // An import or hook that failed outside any test.
      const errors = module.errors();
      if (errors.length > 0) {
        tests.push({
          suite,
          name: '(the file itself)',
          state: 'failed',
          errors: errors.map((e) => firstLine(e.message)),
        });
      }
    }
    for (const error of unhandledErrors) {
      tests.push({ suite: '(run)', name: 'unhandled error', state: 'failed', errors: [firstLine(error.message)] });
    }
    writeArtifact('tests', { tests });
  }
}
