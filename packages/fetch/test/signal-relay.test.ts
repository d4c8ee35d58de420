// A long-lived caller signal (a shutdown signal passed to every call) keeps no trace of the calls
// made with it: one shared listener at most, and no AbortSignal.any, whose record of each call
// Node 20 keeps on the signal for as long as it lives. Before the relays of caller-signal.ts, the
// heap after a full collection grew by ~40 bytes a call on Node's fetch and ~160 on a fetch of the
// caller's own (2 and 8 MB over 50 000 calls); it moves by allocator noise only now (±3 MB here,
// too much for an assertion at this size).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('a long-lived caller signal', () => {
  it('gathers one listener at most over 12 000 calls, is never joined with AbortSignal.any, and still reaches a body', () => {
    const script = fileURLToPath(new URL('./fixtures/long-lived-signal.ts', import.meta.url));
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--conditions=@palisade/source', script, '2000'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(child.status, child.stderr).toBe(0);
    const out = JSON.parse(child.stdout.trim()) as Record<'node' | 'own', { listeners: number[]; anyCalls: number }> & {
      bodies: Record<'node' | 'own', string>;
    };
    for (const path of ['node', 'own'] as const) {
      // One shared listener at most, and only while a relay of a recent call is still reachable.
      for (const count of out[path].listeners) expect(count, path).toBeLessThanOrEqual(1);
      expect(out[path].anyCalls, path).toBe(0);
      // A body read after a full collection still stops when the caller aborts.
      expect(out.bodies[path], path).toBe('caller left');
    }
  }, 150_000);
});
