/**
 * Child processes of the local stack. Each runs in its own process group (spawned with `detached: true`) so that
 * stopping it stops everything it started too (java, esbuild, workers), and so that a Ctrl-C in the terminal reaches
 * only the orchestrator, which then stops the groups in order.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { sleep } from '#lib/shared/time.ts';

export interface ManagedChild {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the group leader exits. */
  readonly exited: Promise<number | string | null>;
  /** Last few KB of stdout+stderr, for error messages. */
  tail(): string;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when no process of the group is left. */
  stop(graceMs?: number): Promise<void>;
}

const TAIL_BYTES = 8_192;

/** Process groups started through manage() and not yet stopped: what an emergency stop must kill. */
const started = new Set<number>();

/** Process groups started through manage() that have not been stopped yet. */
export function startedGroups(): number[] {
  return [...started];
}

/** Stops every group started through manage() (for shutdowns that interrupt a start-up half way). */
export async function stopAllGroups(graceMs = 5_000): Promise<void> {
  await Promise.all([...started].map((pgid) => stopGroup(pgid, graceMs)));
}

/**
 * Wraps a child spawned with `detached: true`. Output is kept in a small ring buffer and, when `onLine` is given,
 * passed on line by line (consumed either way, so a full pipe never blocks the child).
 */
export function manage(name: string, child: ChildProcess, onLine?: (line: string, stream: 'stdout' | 'stderr') => void): ManagedChild {
  if (child.pid === undefined) throw new Error(`${name} did not start (no pid)`);
  const pid = child.pid;
  started.add(pid);
  let tail = '';
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.once('error', () => resolve(null));
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    let pending = '';
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-TAIL_BYTES);
      if (!onLine) return;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line, stream);
    });
    child[stream]?.on('end', () => {
      if (onLine && pending) onLine(pending, stream);
      pending = '';
    });
  }
  return {
    name,
    pid,
    child,
    exited,
    tail: () => tail,
    stop: (graceMs = 5_000) => stopGroup(pid, graceMs),
  };
}

/** True while any process of the group `pgid` exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() > until) return false;
    await sleep(25);
  }
  return true;
}

export async function stopGroup(pgid: number, graceMs = 5_000): Promise<void> {
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    started.delete(pgid);
    return; // no process left in the group
  }
  if (!(await waitGroupGone(pgid, graceMs))) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    if (!(await waitGroupGone(pgid, 2_000))) throw new Error(`process group ${pgid} survived SIGKILL`);
  }
  started.delete(pgid);
}

/** A port the OS says is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Throws a clear error when something already listens on the port (so we never talk to a stranger's server). */
export function assertPortFree(port: number, what: string, envName?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      const hint = envName ? ` Stop it or choose another port with ${envName}=<port>.` : '';
      reject(error.code === 'EADDRINUSE' ? new Error(`Port ${port} (${what}) is already in use.${hint}`) : error);
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** Starts a server on 127.0.0.1 (`port` 0: a free one) and gives the port it got; a taken port rejects. */
export async function listenOnLoopback(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
