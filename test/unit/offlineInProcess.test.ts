/**
 * The serverless offline plugin of the local stack (scripts/local/offline-in-process.ts): every function's bundle
 * loaded once before the server starts, with the function's declared environment; nothing else of the shell's
 * environment visible to the functions; the new bundles after a rebuild.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import OfflineInProcess, {
  bundleFile,
  declaredEnvironment,
  isolateEnvironment,
  runsInProcess,
  type ServerlessLike,
} from '../../scripts/local/offline-in-process.ts';

/**
 * What the test bundles record when their top level runs: one entry per load, with GREETING as the environment the
 * plugin manages had it (the plugin is given its own environment object here, so the test's process.env is left alone).
 */
interface Loads {
  env: NodeJS.ProcessEnv;
  loads: { name: string; greeting: string | undefined; version: number }[];
}
const record = globalThis as unknown as { __offlineTestLoads?: Loads };

let project: string;
beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'offline-in-process-'));
  record.__offlineTestLoads = { env: {}, loads: [] };
});
afterEach(() => {
  rmSync(project, { recursive: true, force: true });
  delete record.__offlineTestLoads;
});

/** Writes a CommonJS bundle into the build folder that records each time its top level runs. */
function writeBundle(name: string, version = 1): void {
  const dir = join(project, '.esbuild', '.build', 'functions');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${name}.cjs`),
    `globalThis.__offlineTestLoads.loads.push({ name: ${JSON.stringify(name)}, greeting: globalThis.__offlineTestLoads.env.GREETING, version: ${version} });\n` +
      'exports.handler = async () => "ok";\n',
  );
}

function serverless(functions: NonNullable<ServerlessLike['service']['functions']>): ServerlessLike {
  return {
    config: { servicePath: project },
    service: {
      custom: { 'serverless-offline': { location: '.esbuild/.build', useInProcess: true } },
      provider: { environment: { GREETING: 'provider', MAIN_TABLE: 'main', RETRIES: 3, QUEUE: { Ref: 'Queue' } } },
      functions,
    },
  };
}

function plugin(sls: ServerlessLike, env: NodeJS.ProcessEnv, options: Record<string, unknown> = {}) {
  record.__offlineTestLoads!.env = env;
  const lines: string[] = [];
  const log = { notice: (line: string) => lines.push(line), warning: (line: string) => lines.push(`warning: ${line}`) };
  return { instance: new OfflineInProcess(sls, options, { log }, env), lines };
}

describe('declaredEnvironment', () => {
  it("merges the provider's and the function's environment as strings, the function's winning", () => {
    const sls = serverless({
      a: { handler: 'functions/a.handler', environment: { GREETING: 'a', NODE_OPTIONS: '--max-old-space-size=192' } },
    });
    expect(declaredEnvironment(sls.service, 'a')).toEqual({
      GREETING: 'a',
      MAIN_TABLE: 'main',
      RETRIES: '3',
      NODE_OPTIONS: '--max-old-space-size=192',
    });
    // A CloudFormation intrinsic has no local value: it is left out rather than passed as "[object Object]".
    expect(declaredEnvironment(sls.service, 'unknown')).not.toHaveProperty('QUEUE');
  });
});

describe('isolateEnvironment', () => {
  it('hides what no function declares, keeps the declared settings, AWS_* and what a process needs', () => {
    const env: NodeJS.ProcessEnv = {
      MAIN_TABLE: 'main',
      SHELL_SECRET: 'not-for-functions',
      npm_lifecycle_event: 'start',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      PATH: '/usr/bin',
      HOME: '/root',
      NODE_OPTIONS: '--enable-source-maps',
      SLS_TELEMETRY_DISABLED: '1',
    };
    const removed = isolateEnvironment(env, new Set(['MAIN_TABLE']));
    expect(removed.sort()).toEqual(['SHELL_SECRET', 'npm_lifecycle_event']);
    expect(Object.keys(env).sort()).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_REGION',
      'HOME',
      'MAIN_TABLE',
      'NODE_OPTIONS',
      'PATH',
      'SLS_TELEMETRY_DISABLED',
    ]);
  });
});

describe('bundleFile', () => {
  it('finds the CommonJS bundle of a handler, or nothing', () => {
    writeBundle('produce');
    const buildDir = join(project, '.esbuild', '.build');
    expect(bundleFile(buildDir, 'functions/produce.handler')).toBe(join(buildDir, 'functions', 'produce.cjs'));
    expect(bundleFile(buildDir, 'functions/missing.handler')).toBeUndefined();
  });
});

describe('runsInProcess', () => {
  it("follows serverless offline's command-line option, else serverless.yml", () => {
    const sls = serverless({});
    expect(runsInProcess(sls, {})).toBe(true);
    expect(runsInProcess(sls, { useInProcess: false })).toBe(false);
    sls.service.custom = {};
    expect(runsInProcess(sls, {})).toBe(false);
    expect(runsInProcess(sls, { useInProcess: true })).toBe(true);
  });
});

describe('the plugin', () => {
  it('does nothing when serverless offline runs the handlers in worker threads', () => {
    writeBundle('produce');
    const env: NodeJS.ProcessEnv = { SHELL_SECRET: 'x' };
    const { instance } = plugin(serverless({ produce: { handler: 'functions/produce.handler' } }), env, { useInProcess: false });
    expect(instance.hooks).toEqual({});
    expect(env.SHELL_SECRET).toBe('x');
  });

  it('loads every bundle once before serverless offline starts, each with its own declared environment', () => {
    writeBundle('first');
    writeBundle('second');
    const env: NodeJS.ProcessEnv = { PATH: '/usr/bin', SHELL_SECRET: 'x' };
    const sls = serverless({
      first: { handler: 'functions/first.handler' },
      second: { handler: 'functions/second.handler', environment: { GREETING: 'second' } },
    });
    const { instance, lines } = plugin(sls, env);

    instance.hooks['before:offline:start:init']!();

    expect(record.__offlineTestLoads!.loads).toEqual([
      { name: 'first', greeting: 'provider', version: 1 },
      { name: 'second', greeting: 'second', version: 1 },
    ]);
    expect(env.SHELL_SECRET).toBeUndefined();
    expect(lines).toContain('offline in process: 1 variables not declared for the functions hidden');
    expect(lines.some((line) => /^offline in process: 2 functions loaded in \d+ ms$/.test(line))).toBe(true);
    instance.forget();
  });

  it('serves later loads from the loaded copy, and loads the new bundles after a rebuild', async () => {
    writeBundle('produce');
    const sls = serverless({ produce: { handler: 'functions/produce.handler' } });
    const { instance } = plugin(sls, { PATH: '/usr/bin' });
    instance.hooks['before:offline:start:init']!();
    // What serverless offline's in-process runner does at a call: require the same file.
    const { createRequire } = await import('node:module');
    const file = bundleFile(join(project, '.esbuild', '.build'), 'functions/produce.handler')!;
    createRequire(import.meta.url)(file);
    expect(record.__offlineTestLoads!.loads.map((l) => l.version)).toEqual([1]);

    writeBundle('produce', 2);
    instance.hooks['offline:functionsUpdated:cleanup']!();
    createRequire(import.meta.url)(file);
    expect(record.__offlineTestLoads!.loads.map((l) => l.version)).toEqual([1, 2]);
    instance.forget();
  });

  it('warns, and carries on, for a function without a bundle or whose bundle fails to load', () => {
    writeBundle('good');
    const broken = join(project, '.esbuild', '.build', 'functions', 'broken.cjs');
    writeFileSync(broken, 'throw new Error("top-level failure");\n');
    const sls = serverless({
      missing: { handler: 'functions/missing.handler' },
      broken: { handler: 'functions/broken.handler' },
      good: { handler: 'functions/good.handler' },
    });
    const { instance, lines } = plugin(sls, {});

    instance.hooks['before:offline:start']!();

    expect(record.__offlineTestLoads!.loads.map((l) => l.name)).toEqual(['good']);
    expect(lines).toContainEqual(expect.stringMatching(/^warning: offline in process: no CommonJS bundle for missing in /));
    expect(lines).toContain('warning: offline in process: broken did not load (top-level failure); its calls will say why');
    expect(lines.some((line) => /^offline in process: 1 functions loaded in \d+ ms$/.test(line))).toBe(true);
    instance.forget();
  });
});
