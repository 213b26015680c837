/**
 * Runs `serverless offline` (HTTP events, schedules and the Lambda invoke API) as a child in its own process group.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { manage, type ManagedChild } from './processes.ts';
import { projectRoot } from './serverless-config.ts';

export interface OfflineOptions {
  httpPort: number;
  lambdaPort: number;
  /** The complete environment of the child (PATH etc. are added when missing). */
  env: Record<string, string>;
  stage?: string;
  host?: string;
  cwd?: string;
  /** Called with each output line; without it output is only kept for error messages. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Default 180 s: the first start bundles every function with esbuild. */
  readyTimeoutMs?: number;
}

export interface Offline {
  /** http://127.0.0.1:<httpPort> */
  url: string;
  /** http://127.0.0.1:<lambdaPort>, the Lambda invoke API */
  lambdaUrl: string;
  process: ManagedChild;
  stop(): Promise<void>;
}

/** Starts serverless-offline and resolves once it prints "Server ready" (on stderr). */
export async function startOffline(options: OfflineOptions): Promise<Offline> {
  const host = options.host ?? '127.0.0.1';
  const cwd = options.cwd ?? projectRoot();
  const bin = join(cwd, 'node_modules', '.bin', 'serverless');
  const args = [
    'offline',
    'start',
    '--stage', options.stage ?? 'local',
    '--host', host,
    '--httpPort', String(options.httpPort),
    '--lambdaPort', String(options.lambdaPort),
    '--noPrependStageInUrl',
    '--noSponsor',
  ];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? cwd,
    ...options.env,
    FORCE_COLOR: options.env.FORCE_COLOR ?? '0',
  };
  const child = spawn(bin, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((r) => (resolveReady = r));
  const managed = manage('serverless-offline', child, (line, stream) => {
    if (stream === 'stderr' && line.includes('Server ready')) resolveReady();
    options.onLine?.(line, stream);
  });
  const timeoutMs = options.readyTimeoutMs ?? 180_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    managed.exited.then((code) => `exited (${String(code)})`),
    new Promise<string>((r) => (timer = setTimeout(() => r(`not ready after ${timeoutMs} ms`), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    await managed.stop();
    throw new Error(`serverless offline ${outcome}. Last output:\n${managed.tail()}`);
  }
  return {
    url: `http://${host}:${options.httpPort}`,
    lambdaUrl: `http://${host}:${options.lambdaPort}`,
    process: managed,
    stop: () => managed.stop(10_000),
  };
}
