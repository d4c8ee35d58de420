import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('memoryStore memory', () => {
  it('1e6 distinct keys with maxKeys 10 000: the map stays at 10 000 keys and the heap stays flat', () => {
    const script = fileURLToPath(new URL('./fixtures/memory-flood.ts', import.meta.url));
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--conditions=@palisade/source', script, '1000000', '10000'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(child.status, child.stderr).toBe(0);
    const samples = JSON.parse(child.stdout.trim()) as { keys: number; heap: number; size: number }[];
    const full = samples.find((s) => s.keys === 10_000);
    const last = samples.at(-1);
    expect(full && last).toBeTruthy();
    expect(last?.keys).toBe(1_000_000);
    for (const s of samples) expect(s.size).toBeLessThanOrEqual(10_000);
    // Unbounded, 1e6 keys would take ~110 MB. Once full, 990 000 more keys may move the heap by
    // allocator noise only (the key map's hash table settling after its first evictions): < 2 MB
    // overall, and < 0.5 MB between 100 000 and 1 000 000 keys.
    const growth = (last?.heap ?? 0) - (full?.heap ?? 0);
    expect(growth).toBeLessThan(2_000_000);
    const later = samples.filter((s) => s.keys >= 100_000).map((s) => s.heap);
    expect(Math.max(...later) - Math.min(...later)).toBeLessThan(500_000);
  }, 150_000);
});
