/**
 * Runs `serverless offline` (HTTP events, schedules and the Lambda invoke API) as a child in its own process group.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { manage, type ManagedChild } from './processes.ts';
import { projectRoot } from './serverless-config.ts';

export interface OfflineOptions {
  httpPort: number;
  lambdaPort: number;
  /** The complete environment of the child (PATH etc. are added when missing). */
  env: Record<string, string>;
  stage?: string;
  /** Region the functions see in AWS_REGION (serverless-offline sets it from --region). Default us-east-1. */
  region?: string;
  host?: string;
  /** The project (default: this repository). */
  cwd?: string;
  /**
   * Run from a temporary copy of the project (node_modules linked), removed on stop, so that serverless-esbuild's
   * `.esbuild/` work folder is not shared with a running `npm start` or another test. Default false.
   */
  isolated?: boolean;
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
  const project = options.cwd ?? projectRoot();
  const bin = join(project, 'node_modules', '.bin', 'serverless');
  const copy = options.isolated ? isolatedCopy(project) : undefined;
  const cwd = copy ?? project;
  const removeCopy = () => {
    if (copy) rmSync(join(copy, '..'), { recursive: true, force: true });
  };
  const args = [
    'offline',
    'start',
    '--stage',
    options.stage ?? 'local',
    '--region',
    options.region ?? 'us-east-1',
    '--host',
    host,
    '--httpPort',
    String(options.httpPort),
    '--lambdaPort',
    String(options.lambdaPort),
    '--noPrependStageInUrl',
    '--noSponsor',
  ];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? cwd,
    ...options.env,
    FORCE_COLOR: options.env.FORCE_COLOR ?? '0',
  };
  let child;
  try {
    child = spawn(bin, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    removeCopy();
    throw error;
  }
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
  const stop = async () => {
    try {
      await managed.stop(10_000);
    } finally {
      removeCopy();
    }
  };
  if (outcome !== 'ready') {
    await stop();
    throw new Error(`serverless offline ${outcome}. Last output:\n${managed.tail()}`);
  }
  return {
    url: `http://${host}:${options.httpPort}`,
    lambdaUrl: `http://${host}:${options.lambdaPort}`,
    process: managed,
    stop,
  };
}

const NOT_COPIED = new Set([
  'node_modules',
  '.git',
  '.serverless',
  '.esbuild',
  '.serverless-offline',
  '.local',
  'coverage',
  '.vitest.json',
]);

/** Copies the project (without build output, data and node_modules, which is linked) to a new temporary dir. */
function isolatedCopy(project: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'koogallery-offline-')), 'project');
  cpSync(project, copy, {
    recursive: true,
    filter: (src) => {
      const rel = relative(project, src);
      return rel === '' || !NOT_COPIED.has(rel.split(/[\\/]/)[0] ?? '');
    },
  });
  symlinkSync(join(project, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}
