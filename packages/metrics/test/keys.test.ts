import { seededRandom } from '@palisade/core/testing';
import { describe, expect, it } from 'vitest';
import { KeyTable } from '../src/keys.js';
import { Series } from '../src/series.js';

const bounds = Float64Array.from([1, 10]);
const keysOf = (table: KeyTable) => [...table.entries()].map(([key]) => key);

describe('KeyTable', () => {
  it('lists keys most recently seen first and evicts the least recently seen past max', () => {
    const table = new KeyTable(3, () => new Series(bounds));
    for (const key of ['a', 'b', 'c']) table.touch(key);
    expect(keysOf(table)).toEqual(['c', 'b', 'a']);
    table.touch('a'); // the oldest becomes the newest
    expect(keysOf(table)).toEqual(['a', 'c', 'b']);
    table.touch('c'); // one from the middle
    expect(keysOf(table)).toEqual(['c', 'a', 'b']);
    table.touch('c'); // already the newest
    expect(keysOf(table)).toEqual(['c', 'a', 'b']);
    table.touch('d'); // evicts b, the least recently seen
    expect(keysOf(table)).toEqual(['d', 'c', 'a']);
    expect({ size: table.size, evicted: table.evicted }).toEqual({ size: 3, evicted: 1 });
    table.touch('e');
    table.touch('f');
    expect(keysOf(table)).toEqual(['f', 'e', 'd']);
    expect(table.evicted).toBe(3);
  });

  it('keeps a key its series while it stays tracked, and starts a new one after its eviction', () => {
    const table = new KeyTable(2, () => new Series(bounds));
    const a = table.touch('a');
    table.touch('b');
    expect(table.touch('a')).toBe(a);
    table.touch('c'); // evicts b
    table.touch('d'); // evicts a
    expect(table.touch('a')).not.toBe(a);
  });

  it('matches a reference LRU over random touches', () => {
    const random = seededRandom(7);
    const table = new KeyTable(5, () => new Series(bounds));
    let reference: string[] = []; // most recent first
    let evicted = 0;
    for (let i = 0; i < 2_000; i++) {
      const key = `k${Math.floor(random() * 9)}`;
      table.touch(key);
      if (!reference.includes(key) && reference.length === 5) {
        reference.pop();
        evicted++;
      }
      reference = [key, ...reference.filter((k) => k !== key)];
      expect(keysOf(table)).toEqual(reference);
    }
    expect(table.evicted).toBe(evicted);
  });
});
