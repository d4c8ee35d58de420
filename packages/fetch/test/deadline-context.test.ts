import * as core from '@palisade/core/deadline';
import { describe, expect, it } from 'vitest';
import { currentDeadline, runWithDeadline } from '../src/index.js';

// The behaviour of runWithDeadline()/currentDeadline() is tested where it lives, in
// packages/core/test/deadline.test.ts. What this package adds is the re-export: it must be core's
// own functions, so a deadline set by the Express or Hono adapter (through @palisade/core/deadline)
// is the one createFetch reads, and the other way round.
describe('runWithDeadline() / currentDeadline() re-exported by @palisade/fetch', () => {
  it("are @palisade/core/deadline's own functions", () => {
    expect(runWithDeadline).toBe(core.runWithDeadline);
    expect(currentDeadline).toBe(core.currentDeadline);
  });

  it('share one ambient deadline with @palisade/core/deadline, through async continuations', async () => {
    const seen = await core.runWithDeadline(5_000, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return currentDeadline();
    });
    expect(seen).toBe(5_000);
    expect(runWithDeadline(1_000, core.currentDeadline)).toBe(1_000);
    expect(currentDeadline()).toBeUndefined();
  });
});
