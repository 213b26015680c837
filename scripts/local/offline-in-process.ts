/**
 * A Serverless Framework plugin for `serverless offline` running the handlers in its own process
 * (`custom.serverless-offline.useInProcess` in serverless.yml). In that mode each function's bundle is loaded once
 * and shared by concurrent calls, where worker threads loaded it again for every concurrent call: a burst of
 * concurrent marketplace calls no longer means one cold start per call. The plugin gives the mode what the worker
 * threads gave, so the functions run locally as they run on Lambda:
 *   - every function's bundle is loaded before the HTTP server reports ready, so no call waits for a load (a load
 *     holds the process's one event loop);
 *   - the functions see the environment serverless.yml declares for them (plus AWS_* and the basics a process
 *     needs, such as PATH and HOME), not the whole environment serverless was started with;
 *   - when serverless-esbuild rebuilds after a code change, the new bundles replace the loaded ones.
 * Serverless loads it through offline-in-process.mjs (serverless.yml `plugins`), after serverless-esbuild, whose
 * build it needs.
 */
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, resolve, sep } from 'node:path';

/** The parts of serverless's instance the plugin reads. */
export interface ServerlessLike {
  config: { servicePath: string };
  service: {
    custom?: Record<string, unknown>;
    provider: { environment?: Record<string, unknown> };
    functions?: Record<string, { handler?: string; environment?: Record<string, unknown> }>;
  };
}

interface PluginLog {
  notice(message: string): void;
  warning(message: string): void;
}

/** Variables a process needs whatever serverless.yml says (Lambda's runtime sets its own; here they are the host's). */
const PROCESS_BASICS = new Set(['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'TZ', 'TERM', 'FORCE_COLOR', 'NO_COLOR']);
/** Prefixes of variables the runtime, Node itself or serverless read. */
const PROCESS_PREFIXES = ['AWS_', 'LC_', 'NODE_', 'SLS_', 'SERVERLESS_'];

/** The environment serverless.yml declares for a function: the provider's, then the function's own, as strings. */
export function declaredEnvironment(service: ServerlessLike['service'], functionKey: string): Record<string, string> {
  const merged = { ...service.provider.environment, ...service.functions?.[functionKey]?.environment };
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(merged)) {
    // On stage `local` every value is plain (serverless.yml); a CloudFormation intrinsic has no local value.
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = String(value);
  }
  return out;
}

/** Whether a function may see the variable `name`: declared for some function, or one a process needs. */
export function visibleToFunctions(name: string, declared: ReadonlySet<string>): boolean {
  return declared.has(name) || PROCESS_BASICS.has(name) || PROCESS_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** Removes from `env` every variable no function may see; gives the names removed. */
export function isolateEnvironment(env: NodeJS.ProcessEnv, declared: ReadonlySet<string>): string[] {
  const removed = Object.keys(env).filter((name) => !visibleToFunctions(name, declared));
  for (const name of removed) delete env[name];
  return removed;
}

/**
 * The file serverless offline loads for `handler` (`functions/produce.handler`): the module part resolved against
 * the build folder, as a CommonJS bundle (custom.esbuild.outputFileExtension `.cjs`). Undefined when it is missing.
 */
export function bundleFile(buildDir: string, handler: string): string | undefined {
  const module = basename(handler).split('.')[0] ?? '';
  const file = resolve(buildDir, dirname(handler), `${module}.cjs`);
  return existsSync(file) ? file : undefined;
}

/** Where serverless offline loads the handlers from: serverless-esbuild's build folder (its `location`). */
export function buildFolder(serverless: ServerlessLike): string {
  const offline = serverless.service.custom?.['serverless-offline'] as { location?: unknown } | undefined;
  return resolve(serverless.config.servicePath, typeof offline?.location === 'string' ? offline.location : '');
}

/** Whether serverless offline runs the handlers in its own process: its command-line option, else serverless.yml's. */
export function runsInProcess(serverless: ServerlessLike, options: unknown): boolean {
  const cli = (options as { useInProcess?: unknown } | undefined)?.useInProcess;
  const custom = (serverless.service.custom?.['serverless-offline'] as { useInProcess?: unknown } | undefined)?.useInProcess;
  return (cli ?? custom) === true;
}

export default class OfflineInProcess {
  readonly hooks: Record<string, () => void>;
  private readonly require = createRequire(import.meta.url);

  constructor(
    private readonly serverless: ServerlessLike,
    options: unknown,
    private readonly utils: { log: PluginLog },
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    // With worker threads each worker loads its bundle and gets its environment itself: nothing to do.
    if (!runsInProcess(serverless, options)) {
      this.hooks = {};
      return;
    }
    const start = () => {
      this.isolate();
      this.load();
    };
    this.hooks = {
      // After serverless-esbuild's hook on the same event (its build), before serverless offline starts its servers;
      // `offline start` runs the first, plain `offline` the second.
      'before:offline:start:init': start,
      'before:offline:start': start,
      'offline:functionsUpdated:cleanup': () => {
        this.forget();
        this.load();
      },
    };
  }

  private functionKeys(): string[] {
    return Object.keys(this.serverless.service.functions ?? {});
  }

  /** Leaves in the environment only what the functions may see. */
  isolate(): void {
    const declared = new Set(this.functionKeys().flatMap((key) => Object.keys(declaredEnvironment(this.serverless.service, key))));
    const removed = isolateEnvironment(this.env, declared);
    if (removed.length > 0) this.utils.log.notice(`offline in process: ${removed.length} variables not declared for the functions hidden`);
  }

  /** Loads every function's bundle with the function's environment in place, as serverless offline does for a call. */
  load(): void {
    const started = Date.now();
    const buildDir = buildFolder(this.serverless);
    let loaded = 0;
    for (const key of this.functionKeys()) {
      const handler = this.serverless.service.functions?.[key]?.handler;
      const file = handler === undefined ? undefined : bundleFile(buildDir, handler);
      if (file === undefined) {
        this.utils.log.warning(`offline in process: no CommonJS bundle for ${key} in ${buildDir}; it loads at its first call`);
        continue;
      }
      Object.assign(this.env, declaredEnvironment(this.serverless.service, key));
      try {
        this.require(file);
        loaded++;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.utils.log.warning(`offline in process: ${key} did not load (${reason}); its calls will say why`);
      }
    }
    this.utils.log.notice(`offline in process: ${loaded} functions loaded in ${Date.now() - started} ms`);
  }

  /** Drops the loaded bundles, so the next load reads what serverless-esbuild has just built. */
  forget(): void {
    const buildDir = buildFolder(this.serverless);
    // Loaded modules are known by their real path.
    const prefix = (existsSync(buildDir) ? realpathSync(buildDir) : buildDir) + sep;
    for (const file of Object.keys(this.require.cache)) {
      if (file.startsWith(prefix)) delete this.require.cache[file];
    }
  }
}
