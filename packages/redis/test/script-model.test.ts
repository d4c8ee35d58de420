import { seededRandom } from '@palisade/core/testing';
import { type RedisClientType, createClient } from 'redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONSUME_SCRIPT, REFUND_SCRIPT } from '../src/script.js';
import { REDIS_URL, describeRedis, serverMicros, uniquePrefix } from './helpers/redis.js';

// The consume and refund scripts against a model of GCRA that never forgets a key: whatever the
// layout does with its hashes (a new one each span, the previous one read for missing keys, keys
// of their own for reservations past what the hashes keep, everything expiring), every decision
// must be the model's. The spans here are 20 ms, so a few hundred ms of random calls cross many
// of them, expire hashes, and put far reservations in keys of their own.

const SPAN = 20_000; // µs
const INTERVAL = 7_000; // µs per unit
const TOLERANCE = 3 * INTERVAL; // a burst of 3

interface Consume {
  key: string;
  cost: number;
  maxWait: number; // µs
}

/** GCRA in whole µs, as the script computes it, on a map that keeps every key for ever. */
class Model {
  readonly tats = new Map<string, number>();

  consume(now: number, { key, cost, maxWait }: Consume): number {
    let tat = Math.max(this.tats.get(key) ?? now, now);
    const step = Math.ceil(cost * INTERVAL);
    if (tat - now + step - TOLERANCE > maxWait + 1) return now - tat - 1;
    if (step > 0) {
      tat += step;
      this.tats.set(key, tat);
    }
    return tat - now;
  }

  refund(now: number, key: string, token: number, cost: number): number {
    if (this.tats.get(key) !== token) return 0;
    this.tats.set(key, Math.max(token - cost * INTERVAL, now));
    return 1;
  }
}

describeRedis('the consume and refund scripts match a GCRA model that never forgets', () => {
  let client: RedisClientType;
  let consumeSha: string;
  let refundSha: string;
  beforeAll(async () => {
    client = createClient({ url: REDIS_URL });
    client.on('error', () => {});
    await client.connect();
    consumeSha = await client.scriptLoad(CONSUME_SCRIPT);
    refundSha = await client.scriptLoad(REFUND_SCRIPT);
  });
  afterAll(() => client.quit());

  it('over random batches, costs, waits and refunds across many spans', async () => {
    const random = seededRandom(7);
    const base = `${uniquePrefix('model')}m`;
    const model = new Model();
    const keys = ['a', 'b', 'c'];
    let decisions = 0;
    let far = 0;
    let refunds = 0;
    const lastAllowed = new Map<string, { token: number; cost: number }>();
    for (let round = 0; round <= 150; round++) {
      const batch: Consume[] =
        round < 150
          ? Array.from({ length: 1 + Math.floor(random() * 6) }, () => ({
              key: keys[Math.floor(random() * keys.length)] as string,
              cost: Math.floor(random() * 3),
              // Often no wait; else up to 6 spans ahead (past what the hashes keep).
              maxWait: random() < 0.4 ? 0 : Math.floor(random() * 6 * SPAN),
            }))
          : // Last, a backlog on a fresh key that surely reaches past the hashes, whatever the timing.
            Array.from({ length: 12 }, () => ({ key: 'z', cost: 1, maxWait: 6 * SPAN }));
      const shared = batch.every((c) => c.cost === batch[0]?.cost && c.maxWait === batch[0]?.maxWait);
      const args = shared
        ? [String(batch[0]?.cost), String(batch[0]?.maxWait)]
        : batch.flatMap((c) => [String(c.cost), String(c.maxWait)]);
      const reply = (await client.sendCommand([
        'EVALSHA',
        consumeSha,
        '1',
        base,
        String(SPAN),
        String(INTERVAL),
        String(TOLERANCE),
        String(batch.length),
        ...batch.map((c) => c.key),
        ...args,
      ])) as number[];
      const now = reply[batch.length] as number;
      const written = new Set<string>();
      batch.forEach((c, i) => {
        const expected = model.consume(now, c);
        expect(reply[i], `round ${round}, consume ${i} (${JSON.stringify(c)})`).toBe(expected);
        if (expected >= 0 && c.cost > 0) {
          lastAllowed.set(c.key, { token: now + expected, cost: c.cost });
          if (expected > 2 * SPAN) far++;
          written.add(c.key);
        }
        decisions++;
      });
      // A write to span n's hash unlinks span n - 2's (freed off Redis's main thread); at most the
      // hashes of three spans exist at any time (the oldest until the first write of a span).
      const gen = Math.floor(now / SPAN);
      // (A key is written once per call, with its last TAT: to this span's hash when that TAT is
      // surely within what the hash keeps.)
      const wroteHash = [...written].some((key) => (model.tats.get(key) as number) - now <= SPAN);
      if (wroteHash) expect(await client.exists(`${base}:${SPAN}:${gen - 2}`)).toBe(0);
      expect((await client.keys(`${base}:${SPAN}:*`)).length).toBeLessThanOrEqual(3);
      // Now and then, refund a key's last reservation (undone only while nothing was taken since).
      if (random() < 0.2) {
        const key = keys[Math.floor(random() * keys.length)] as string;
        const last = lastAllowed.get(key);
        if (last) {
          const done = (await client.sendCommand([
            'EVALSHA',
            refundSha,
            '1',
            base,
            String(SPAN),
            key,
            String(last.token),
            String(last.cost * INTERVAL),
          ])) as number;
          const after = await serverMicros(client);
          if (done === 1) {
            // Undone: the model agrees the reservation was still the key's last.
            expect(model.refund(after, key, last.token, last.cost)).toBe(1);
          } else {
            // Not undone: something was taken since, or the TAT had passed (then a refund changes
            // nothing: a TAT in the past equals no state, and a key of its own has expired).
            expect(model.tats.get(key) !== last.token || last.token <= after).toBe(true);
          }
          refunds += done;
          lastAllowed.delete(key);
        }
      }
      if (random() < 0.5) await new Promise((r) => setTimeout(r, Math.floor(random() * 30)));
    }
    expect(decisions).toBeGreaterThan(400);
    expect(far).toBeGreaterThan(5); // the keys-of-their-own path was taken
    expect(refunds).toBeGreaterThan(3);
    // Everything expires: nothing of this base is left once its last TAT and three spans have passed.
    const lastTat = Math.max(...model.tats.values());
    const wait = Math.max(0, lastTat - (await serverMicros(client))) / 1_000 + (3 * SPAN) / 1_000 + 20;
    await new Promise((r) => setTimeout(r, wait));
    expect(await client.keys(`${base}*`)).toEqual([]);
  });
});
