import { describe, expect, it } from 'vitest';
import { QueueNode, WaiterQueue } from '../src/queue.js';

class Item extends QueueNode {
  constructor(readonly id: number) {
    super();
  }
}

const ids = (q: WaiterQueue<Item>) => {
  const out: number[] = [];
  for (let n = q.head; n; n = n.next) out.push(n.id);
  return out;
};

describe('WaiterQueue', () => {
  it('is FIFO', () => {
    const q = new WaiterQueue<Item>();
    for (let i = 0; i < 5; i++) q.push(new Item(i));
    expect(q.size).toBe(5);
    expect([q.shift()?.id, q.shift()?.id]).toEqual([0, 1]);
    expect(ids(q)).toEqual([2, 3, 4]);
    expect(q.size).toBe(3);
  });

  it('removes a waiter from the head, the middle or the tail in O(1), keeping the order of the rest', () => {
    const q = new WaiterQueue<Item>();
    const items = Array.from({ length: 5 }, (_, i) => new Item(i));
    for (const item of items) q.push(item);
    expect(q.remove(items[2] as Item)).toBe(true);
    expect(ids(q)).toEqual([0, 1, 3, 4]);
    expect(q.remove(items[0] as Item)).toBe(true);
    expect(q.remove(items[4] as Item)).toBe(true);
    expect(ids(q)).toEqual([1, 3]);
    expect(q.size).toBe(2);
    q.push(new Item(9));
    expect(ids(q)).toEqual([1, 3, 9]);
  });

  it('tells a removal of a waiter no longer queued, and unlinks removed nodes', () => {
    const q = new WaiterQueue<Item>();
    const a = new Item(1);
    q.push(a);
    expect(q.shift()).toBe(a);
    expect(a).toMatchObject({ queued: false, prev: undefined, next: undefined });
    expect(q.remove(a)).toBe(false);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
    expect(q.head).toBeUndefined();
  });

  it('can re-queue a node after it left', () => {
    const q = new WaiterQueue<Item>();
    const a = new Item(1);
    const b = new Item(2);
    q.push(a);
    q.push(b);
    q.remove(a);
    q.push(a);
    expect(ids(q)).toEqual([2, 1]);
  });
});
