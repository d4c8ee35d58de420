import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('process exit', () => {
  it('leaves no timer keeping the process alive after the last call', async () => {
    const script = fileURLToPath(new URL('./fixtures/exit-script.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@palisade/source', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exitedAt = await new Promise<number>((resolve, reject) => {
      const guard = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('child still alive after 15 s'));
      }, 15_000);
      child.on('exit', (code) => {
        clearTimeout(guard);
        if (code !== 0) reject(new Error(`child exited with ${code}`));
        else resolve(Date.now());
      });
    });
    const lastCall = Number(/last-call (\d+)/.exec(out)?.[1]);
    expect(lastCall).toBeGreaterThan(0);
    // The policies hold 30 s and 60 s timers; the child must not wait for them.
    expect(exitedAt - lastCall).toBeLessThan(1_000);
  });
});
