import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

describe('quick start', () => {
  it('gets every user from a server that fails and hangs', async () => {
    const users = await main();
    expect(users).toHaveLength(10);
    expect(users[0]).toEqual({ id: '1', name: 'Ada' });
  });
});
