import { rmSync } from 'node:fs';
import { ARTIFACTS } from './harness.js';

/** Each run starts from no artifacts, so the summary never shows an earlier run's figures. */
export default function setup(): void {
  rmSync(ARTIFACTS, { recursive: true, force: true });
}
