// Starting and stopping the service processes: each is a real Node process running
// src/service.ts through tsx, with the workspace packages resolved to their sources.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServiceProcess {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

const SCRIPT = fileURLToPath(new URL('./service.ts', import.meta.url));

/** Starts one service process and waits (up to 30 s) until it listens and Redis has answered it. */
export function startService(name: string, env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@palisade/source', SCRIPT], {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, ...env, SERVICE_NAME: name },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-10_000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within 30 s\n${stderr}`));
    }, 30_000);
    child.once('message', (message: { ready?: boolean; port?: number }) => {
      clearTimeout(timer);
      if (message.ready && child.pid !== undefined) {
        resolve({ name, process: child, pid: child.pid, url: `http://127.0.0.1:${message.port}` });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready\n${stderr}`));
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export function stopService(service: ServiceProcess): Promise<void> {
  const child = service.process;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
