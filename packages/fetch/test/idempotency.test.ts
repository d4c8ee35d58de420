import { describe, expect, it } from 'vitest';
import { hasHeader, isIdempotent } from '../src/idempotency.js';

describe('isIdempotent()', () => {
  it.each(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])('%s is idempotent', (method) => {
    expect(isIdempotent(method, undefined)).toBe(true);
  });

  it.each(['POST', 'PATCH', 'CONNECT', 'PURGE'])('%s is not, unless it carries an Idempotency-Key', (method) => {
    expect(isIdempotent(method, undefined)).toBe(false);
    expect(isIdempotent(method, { 'content-type': 'text/plain' })).toBe(false);
    expect(isIdempotent(method, { 'Idempotency-Key': 'k1' })).toBe(true);
    expect(isIdempotent(method, [['IDEMPOTENCY-KEY', 'k1']])).toBe(true);
    expect(isIdempotent(method, new Headers({ 'idempotency-key': 'k1' }))).toBe(true);
  });
});

describe('hasHeader()', () => {
  it('finds a header in any HeadersInit shape, case-insensitively', () => {
    expect(hasHeader(undefined, 'x')).toBe(false);
    expect(hasHeader({ X: '1' }, 'x')).toBe(true);
    expect(hasHeader([['y', '1']], 'x')).toBe(false);
    expect(hasHeader(new Headers(), 'x')).toBe(false);
  });
});
