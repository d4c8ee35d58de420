import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { currentDeadline, runWithDeadline } from '../src/deadline/index.js';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

describe('@palisade/core/deadline: runWithDeadline() / currentDeadline()', () => {
  it('holds the deadline through async continuations, and only inside', async () => {
    expect(currentDeadline()).toBeUndefined();
    const seen = await runWithDeadline(5_000, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return currentDeadline();
    });
    expect(seen).toBe(5_000);
    expect(currentDeadline()).toBeUndefined();
  });

  it('keeps an outer deadline that ends sooner; an inner sooner one wins', () => {
    runWithDeadline(1_000, () => {
      expect(runWithDeadline(2_000, currentDeadline)).toBe(1_000);
      expect(runWithDeadline(500, currentDeadline)).toBe(500);
      expect(runWithDeadline(undefined, currentDeadline)).toBe(1_000);
    });
  });

  it('refuses a deadline that is not a number, naming it', () => {
    expect(() => runWithDeadline(Number.NaN, () => 0)).toThrow(
      /@palisade\/core: "deadline" must be epoch milliseconds \(got NaN\)/,
    );
    expect(() => runWithDeadline('soon' as never, () => 0)).toThrow(TypeError);
  });

  it("is not reachable from core's main entry, which stays free of Node-only modules", () => {
    const seen = new Set<string>();
    const offenders: string[] = [];
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const m of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
        const spec = m[1] as string;
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        else if (spec.startsWith('node:') || spec === 'async_hooks') offenders.push(`${file}: ${spec}`);
      }
    };
    visit(resolve(src, 'index.ts'));
    expect(seen.size).toBeGreaterThan(10);
    expect([...seen].some((file) => file.includes(`${src}/deadline/`))).toBe(false);
    expect(offenders).toEqual([]);
  });
});
