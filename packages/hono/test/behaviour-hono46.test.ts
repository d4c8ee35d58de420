// The inbound behaviour suite again, on Hono 4.6: the peer range promises it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { hono46Harness } from './harness.js';
import { behaviourSuite } from '../../express/test/suite.js';

it('runs on Hono 4.6', () => {
  // Hono exports no ./package.json: read it beside the resolved entry point.
  const entry = createRequire(import.meta.url).resolve('hono46');
  const root = entry.slice(0, entry.lastIndexOf('/node_modules/hono46/') + '/node_modules/hono46/'.length);
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  expect(version).toMatch(/^4\.6\./);
});

behaviourSuite(hono46Harness);
