// The inbound behaviour suite again, on Express 4: the peer range promises it.
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { express4Harness } from './harness.js';
import { behaviourSuite } from './suite.js';

it('runs on Express 4', () => {
  const { version } = createRequire(import.meta.url)('express4/package.json') as { version: string };
  expect(version).toMatch(/^4\.(2[1-9]|[3-9]\d)\./);
});

behaviourSuite(express4Harness);
