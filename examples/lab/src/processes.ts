// Starting and stopping the lab's processes: each is a real Node process on 127.0.0.1.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Child {
  process: ChildProcess;
  port: number;
}

/**
 * Starts `src/<file>` (or the script at an absolute path) in its own Node process (TypeScript
 * through tsx) and waits for `{ ready }`.
 */
export function startChild(file: string, env: Record<string, string>): Promise<Child> {
  const script = isAbsolute(file) ? file : fileURLToPath(new URL(`./${file}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@palisade/source', script], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not start within 20 s\n${stderr}`));
    }, 20_000);
    child.once('message', (message: { ready?: boolean; port?: number }) => {
      clearTimeout(timer);
      if (message.ready) resolve({ process: child, port: message.port ?? 0 });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code} before it was ready\n${stderr}`));
    });
  });
}

export function stopChild(child: Child | undefined): Promise<void> {
  // A child killed by a signal has a signalCode and no exitCode: it has exited all the same.
  if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.process.kill('SIGKILL'), 3_000);
    child.process.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.process.kill('SIGTERM');
  });
}

/** A port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something answers on host:port within `timeoutMs`. */
export function reachable(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    import('node:net').then(({ connect }) => {
      const socket = connect({ port, host });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  });
}

/**
 * Whether a Redis server answers PING at `url` (a `redis://` URL, password and all) within
 * `timeoutMs`. Never throws; leaves no connection or timer behind.
 */
export async function redisAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
