import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CONSUME_SCRIPT, CONSUME_SHA, REFUND_SCRIPT, REFUND_SHA } from '../src/script.js';

const sha1 = (source: string) => createHash('sha1').update(source).digest('hex');

describe('the Lua scripts', () => {
  it('are filed under the SHA1s the store sends with EVALSHA', () => {
    expect(sha1(CONSUME_SCRIPT)).toBe(CONSUME_SHA);
    expect(sha1(REFUND_SCRIPT)).toBe(REFUND_SHA);
  });

  it('use Redis server time and expire their keys', () => {
    for (const script of [CONSUME_SCRIPT, REFUND_SCRIPT]) {
      expect(script).toContain("redis.call('TIME')");
      expect(script).toContain("'PXAT'");
    }
  });
});
