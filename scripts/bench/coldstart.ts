/**
 * Cold-start benchmark of the deployable functions: for every function in serverless.yml, the size of its bundle
 * and the time Node takes to initialise it (load, compile and run the bundle's top level), as a cold Lambda does
 * before the first invocation.
 *
 *   node --import tsx scripts/bench/coldstart.ts [--runs 20] [--function produce ...] [--keep]
 *
 * Bundles are built with esbuild's JS API and exactly the esbuild options of serverless.yml's custom.esbuild
 * (serverless-esbuild's own keys removed, its defaults added, as the plugin does), plus `metafile: true`, into a
 * temporary directory (kept with --keep). Per function it prints:
 *   - the bundle's bytes (minified, as zipped into the function's package, before compression);
 *   - the 8 largest contributors to it, from the metafile, grouped by package (`@smithy/*` as one; our code as
 *     `lib/` and `functions/`); "2 copies" marks a package bundled from two installed versions;
 *   - module initialisation: `node -e` requires the bundle in a fresh process `--runs` times (after one unmeasured
 *     run that warms the file cache) and reports the median and p90 of the time spent inside `require()`, measured
 *     with process.hrtime in the child. Node's own start-up is not included: the child's whole wall time is
 *     shown separately as "process";
 *   - any package bundled from both its CommonJS and its ES module build (two copies, two module instances), and
 *     zod's locales when they are bundled (`import { z } from 'zod'` keeps all of zod; `import * as z` tree-shakes).
 * The children get a minimal Lambda-like environment with dummy values (tables, queue URL, SSM names, region) and
 * no credentials, so nothing at module initialisation could reach the network.
 *
 * Targets (docs/performance.md, "Cold start"): produce bundle ≤ 250 KB (1 KB = 1024 bytes) and init ≤ 50 ms (median). Each line
 * says "target met" or "over target"; missing a target does not fail the run.
 *
 * Exit codes: 0 measured, 1 a bundle failed to build or to load, 2 bad arguments.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, tmpdir, totalmem } from 'node:os';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, version as esbuildVersion, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { projectRoot, readYaml } from '../local/serverless-config.ts';
import { errorMessage } from '#lib/shared/errors.ts';

const USAGE = 'usage: node --import tsx scripts/bench/coldstart.ts [--runs 20] [--function NAME ...] [--keep]';

const KB = 1024;
const TARGETS: Record<string, { bytes?: number; initMs?: number }> = {
  produce: { bytes: 250 * KB, initMs: 50 },
};
/** Every function's init is held to the same bar; only produce has a size target. */
const DEFAULT_INIT_TARGET_MS = 50;
const TOP_INPUTS = 8;
/**
 * Above this 1-minute load average per core (beyond the one core the benchmark's own children keep busy), other
 * processes compete for the CPU and wall times mean little.
 */
const BUSY_LOAD_PER_CORE = 0.5;

/** Keys serverless-esbuild consumes itself and removes before calling esbuild (serverless-esbuild 1.57 bundle.ts). */
const PLUGIN_ONLY_KEYS = new Set([
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
]);
/** Keys whose value the plugin loads from a file: the benchmark would not build what the plugin builds. */
const UNSUPPORTED_KEYS = ['config'];
/** The plugin's defaults for the keys it passes on (overridden by custom.esbuild). */
const PLUGIN_DEFAULTS: BuildOptions = { bundle: true, platform: 'node', external: [] };
/** The handler file extensions serverless-esbuild looks for, in its order, unless resolveExtensions is set. */
const HANDLER_EXTENSIONS = ['.ts', '.js', '.jsx', '.tsx'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface FunctionSpec {
  name: string;
  /** e.g. functions/produce.ts */
  entry: string;
  /** The exported name the handler string points at. */
  exportName: string;
  memorySize: number;
}

interface Contributor {
  name: string;
  bytes: number;
  copies: number;
}

interface InitTimes {
  medianMs: number;
  p90Ms: number;
  processMedianMs: number;
  /** CPU time (all threads of the child) spent in require(): less sensitive than wall time to a busy machine. */
  cpuMedianMs: number;
}

function parseArguments(): { runs: number; only: string[]; keep: boolean } {
  try {
    const { values } = parseArgs({
      options: {
        runs: { type: 'string', default: '20' },
        function: { type: 'string', multiple: true, default: [] },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const runs = Number(values.runs);
    if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new Error('--runs must be an integer from 1 to 1000');
    return { runs, only: values.function, keep: values.keep };
  } catch (error) {
    console.error(errorMessage(error));
    console.error(USAGE);
    process.exit(2);
  }
}

/** custom.esbuild as esbuild options: the plugin's keys dropped, its defaults underneath. */
function esbuildOptions(config: Record<string, Json>): BuildOptions {
  const custom = config.custom;
  const block = isObject(custom) ? custom.esbuild : undefined;
  if (!isObject(block)) throw new Error('serverless.yml has no custom.esbuild block');
  const options: Record<string, Json> = {};
  for (const [key, value] of Object.entries(block)) {
    if (UNSUPPORTED_KEYS.includes(key)) throw new Error(`custom.esbuild.${key} is not supported by the benchmark`);
    if (PLUGIN_ONLY_KEYS.has(key) || key === 'plugins') continue;
    if (JSON.stringify(value).includes('${')) {
      throw new Error(`custom.esbuild.${key} uses a serverless variable; the benchmark cannot resolve it`);
    }
    options[key] = value;
  }
  const extension = block.outputFileExtension;
  // Without a target the plugin derives one from the runtime (nodejs22.x → node22).
  const runtime = isObject(config.provider) ? config.provider.runtime : undefined;
  const runtimeTarget = typeof runtime === 'string' ? /^nodejs(\d+)\.x$/.exec(runtime)?.[1] : undefined;
  return {
    ...PLUGIN_DEFAULTS,
    ...(runtimeTarget ? { target: `node${runtimeTarget}` } : {}),
    ...(options as BuildOptions),
    ...(typeof extension === 'string' && extension !== '.js' ? { outExtension: { '.js': extension } } : {}),
  };
}

/** custom.esbuild.plugins: the module (a path from the project root) whose default export is the plugins' list, as serverless-esbuild loads it. */
async function esbuildPlugins(root: string, config: Record<string, Json>): Promise<Plugin[]> {
  const block = isObject(config.custom) ? config.custom.esbuild : undefined;
  const path = isObject(block) ? block.plugins : undefined;
  if (path === undefined) return [];
  if (typeof path !== 'string') throw new Error('custom.esbuild.plugins must be a path to a module');
  const loaded = (await import(pathToFileURL(join(root, path)).href)) as { default?: unknown };
  if (!Array.isArray(loaded.default)) throw new Error(`${path} must export a list of esbuild plugins by default`);
  return loaded.default as Plugin[];
}

function functionSpecs(root: string, config: Record<string, Json>): FunctionSpec[] {
  const functions = config.functions;
  if (!isObject(functions)) throw new Error('serverless.yml has no functions');
  const provider = isObject(config.provider) ? config.provider : {};
  const custom = isObject(config.custom) ? config.custom : {};
  const resolveExtensions = isObject(custom.esbuild) ? custom.esbuild.resolveExtensions : undefined;
  return Object.entries(functions).map(([name, raw]) => {
    if (!isObject(raw) || typeof raw.handler !== 'string') throw new Error(`functions.${name} has no handler`);
    const dot = raw.handler.lastIndexOf('.');
    const base = raw.handler.slice(0, dot);
    const extensions = Array.isArray(resolveExtensions) ? resolveExtensions.map(String) : HANDLER_EXTENSIONS;
    const extension = extensions.find((ext) => existsSync(join(root, base + ext)));
    if (!extension) throw new Error(`functions.${name}: no file for handler ${raw.handler}`);
    const memory = Number(raw.memorySize ?? provider.memorySize ?? 1024);
    return { name, entry: base + extension, exportName: raw.handler.slice(dot + 1), memorySize: memory };
  });
}

/** The package an input path belongs to (`@smithy/*` grouped), or our own top folder. */
function contributorName(path: string): { name: string; installDir: string } {
  const parts = path.split('/');
  const last = parts.lastIndexOf('node_modules');
  if (last < 0) {
    const top = parts.length > 1 ? `${parts[0]}/` : parts[0]!;
    return { name: top, installDir: top };
  }
  const scoped = parts[last + 1]?.startsWith('@');
  const pkg = scoped ? `${parts[last + 1]}/${parts[last + 2]}` : parts[last + 1]!;
  const installDir = parts.slice(0, last + (scoped ? 3 : 2)).join('/');
  return { name: pkg.startsWith('@smithy/') ? '@smithy/*' : pkg, installDir };
}

/** Packages bundled from both their CommonJS and their ES module build (two module instances at run time). */
function mixedFormats(metafile: Metafile, outputPath: string): string[] {
  const formats = new Map<string, Set<'cjs' | 'esm'>>();
  for (const input of Object.keys(metafile.outputs[outputPath]?.inputs ?? {})) {
    if (!input.includes('node_modules/')) continue;
    const { installDir } = contributorName(input);
    const inside = input.slice(installDir.length);
    const format = /\/(dist-cjs|cjs)\/|\.cjs$/.test(inside) ? 'cjs' : /\/(dist-es|esm)\/|\.mjs$/.test(inside) ? 'esm' : undefined;
    if (!format) continue;
    const key = installDir.split('node_modules/').pop() ?? installDir;
    const seen = formats.get(key) ?? new Set();
    seen.add(format);
    formats.set(key, seen);
  }
  return [...formats.entries()]
    .filter(([, seen]) => seen.size > 1)
    .map(([key]) => key)
    .sort();
}

function contributors(metafile: Metafile, outputPath: string): Contributor[] {
  const output = metafile.outputs[outputPath];
  if (!output) throw new Error(`metafile has no output ${outputPath}`);
  const byName = new Map<string, { bytes: number; installs: Map<string, Set<string>> }>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const { name, installDir } = contributorName(input);
    const entry = byName.get(name) ?? { bytes: 0, installs: new Map<string, Set<string>>() };
    entry.bytes += bytesInOutput;
    // Copies: the same package name bundled from more than one install folder.
    const pkgName = installDir.split('node_modules/').pop() ?? installDir;
    const dirs = entry.installs.get(pkgName) ?? new Set<string>();
    dirs.add(installDir);
    entry.installs.set(pkgName, dirs);
    byName.set(name, entry);
  }
  return [...byName.entries()]
    .map(([name, { bytes, installs }]) => ({ name, bytes, copies: Math.max(...[...installs.values()].map((d) => d.size)) }))
    .sort((a, b) => b.bytes - a.bytes);
}

/** A Lambda-like environment with dummy values: enough for module initialisation, useless for any AWS call. */
function childEnv(fn: FunctionSpec): NodeJS.ProcessEnv {
  const prefix = 'koogallery-isv-bench';
  return {
    AWS_REGION: 'ap-southeast-1',
    AWS_DEFAULT_REGION: 'ap-southeast-1',
    AWS_LAMBDA_FUNCTION_NAME: `${prefix}-${fn.name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    TZ: 'UTC',
    LANG: 'en_US.UTF-8',
    STAGE: 'bench',
    MAIN_TABLE: `${prefix}-main`,
    AUDIT_TABLE: `${prefix}-audit`,
    PROVISIONING_QUEUE_URL: `https://sqs.ap-southeast-1.amazonaws.com/000000000000/${prefix}-provisioning`,
    KOOGALLERY_ACCESS_KEY_PARAMETER: '/koogallery-isv/bench/access-key',
    KOOGALLERY_PREVIOUS_ACCESS_KEY_PARAMETER: '/koogallery-isv/bench/previous-access-key',
    KOOGALLERY_AK_PARAMETER: '/koogallery-isv/bench/openapi-ak',
    KOOGALLERY_SK_PARAMETER: '/koogallery-isv/bench/openapi-sk',
    WEBHOOK_SECRET_PARAMETER: '/koogallery-isv/bench/webhook-secret',
    POWERTOOLS_SERVICE_NAME: 'koogallery-isv',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
}

/** Runs in the child: times require() only, checks the handler export, prints one line. */
const CHILD = [
  'const [file, exportName] = process.argv.slice(1);',
  'const cpuStart = process.cpuUsage();',
  'const start = process.hrtime.bigint();',
  'const mod = require(file);',
  'const ms = Number(process.hrtime.bigint() - start) / 1e6;',
  'const cpu = process.cpuUsage(cpuStart);',
  "if (typeof mod[exportName] !== 'function') { console.error('export ' + exportName + ' is not a function'); process.exit(3); }",
  "process.stdout.write('COLDSTART_INIT_MS ' + ms + ' ' + (cpu.user + cpu.system) / 1000 + '\\n');",
].join('\n');

function measureOnce(bundle: string, fn: FunctionSpec): { initMs: number; cpuMs: number; processMs: number } {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['-e', CHILD, bundle, fn.exportName], {
    env: childEnv(fn),
    encoding: 'utf8',
    timeout: 30_000,
  });
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  const line = /^COLDSTART_INIT_MS (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/m.exec(child.stdout ?? '');
  if (child.error || child.status !== 0 || !line) {
    const why = child.error?.message ?? `exit ${child.status ?? child.signal}`;
    // The last lines of the child's stderr, each cut short: a minified bundle's source line is one huge line.
    const stderr = (child.stderr ?? '')
      .trim()
      .split('\n')
      .slice(-15)
      .map((l) => (l.length > 200 ? `${l.slice(0, 200)}…` : l));
    throw new Error(`requiring the bundle failed (${why})\n${stderr.join('\n')}`);
  }
  return { initMs: Number(line[1]), cpuMs: Number(line[2]), processMs };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function measure(bundle: string, fn: FunctionSpec, runs: number): InitTimes {
  measureOnce(bundle, fn); // warms the file cache; not counted
  const init: number[] = [];
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { initMs, cpuMs, processMs } = measureOnce(bundle, fn);
    init.push(initMs);
    cpu.push(cpuMs);
    wall.push(processMs);
  }
  for (const list of [init, cpu, wall]) list.sort((a, b) => a - b);
  return { medianMs: median(init), p90Ms: percentile(init, 90), processMedianMs: median(wall), cpuMedianMs: median(cpu) };
}

const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;
const verdict = (met: boolean) => (met ? 'target met' : 'over target');

async function main(): Promise<void> {
  const { runs, only, keep } = parseArguments();
  const root = projectRoot();
  const config = readYaml(join(root, 'serverless.yml'));
  if (!isObject(config)) throw new Error('serverless.yml is not a mapping');
  const options = { ...esbuildOptions(config), plugins: await esbuildPlugins(root, config) };
  let specs = functionSpecs(root, config);
  if (only.length > 0) {
    const unknown = only.filter((name) => !specs.some((s) => s.name === name));
    if (unknown.length > 0) {
      console.error(`unknown function(s): ${unknown.join(', ')} (serverless.yml has ${specs.map((s) => s.name).join(', ')})`);
      process.exit(2);
    }
    specs = specs.filter((s) => only.includes(s.name));
  }

  const cpuList = cpus();
  console.log(
    `machine: ${cpuList.length} cores (${cpuList[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
      `${platform()}/${arch()}, node ${process.version}, esbuild ${esbuildVersion}`,
  );
  const shown = Object.fromEntries(Object.entries(options).filter(([k]) => k !== 'external' || (options.external ?? []).length > 0));
  console.log(`esbuild options (custom.esbuild): ${JSON.stringify(shown)}`);
  console.log(`init: require() of the bundle in a fresh node process, ${runs} runs after 1 warm-up; median / p90`);
  const loadBefore = loadavg()[0] ?? 0;
  console.log('');

  const outdir = mkdtempSync(join(tmpdir(), 'koogallery-coldstart-'));
  const summary: string[] = [];
  let failed = false;
  try {
    for (const fn of specs) {
      try {
        const result = await build({
          ...options,
          absWorkingDir: root,
          entryPoints: { [fn.name]: fn.entry },
          outdir,
          metafile: true,
          write: true,
          logLevel: 'silent',
        });
        const extension = options.outExtension?.['.js'] ?? '.js';
        const bundle = join(outdir, `${fn.name}${extension}`);
        const outputKey = relative(root, bundle).split(sep).join('/');
        const bytes = statSync(bundle).size;
        if (keep) writeFileSync(join(outdir, `${fn.name}-meta.json`), JSON.stringify(result.metafile, null, 2));
        const top = contributors(result.metafile, outputKey).slice(0, TOP_INPUTS);
        const times = measure(bundle, fn, runs);

        const target = TARGETS[fn.name] ?? {};
        const initTarget = target.initMs ?? DEFAULT_INIT_TARGET_MS;
        const sizeText =
          target.bytes === undefined
            ? `${kb(bytes)} (${bytes} B)`
            : `${kb(bytes)} (${bytes} B), ≤ ${kb(target.bytes)}: ${verdict(bytes <= target.bytes)}`;
        console.log(`${fn.name} (${fn.entry})`);
        console.log(`  bundle  ${sizeText}`);
        console.log(
          `  init    median ${times.medianMs.toFixed(1)} ms, p90 ${times.p90Ms.toFixed(1)} ms, ≤ ${initTarget} ms: ` +
            `${verdict(times.medianMs <= initTarget)}  (CPU median ${times.cpuMedianMs.toFixed(1)} ms; ` +
            `whole process median ${times.processMedianMs.toFixed(0)} ms)`,
        );
        console.log(`  largest inputs (bytes in the bundle):`);
        for (const c of top) {
          const share = ((c.bytes / bytes) * 100).toFixed(1).padStart(5);
          console.log(`    ${String(c.bytes).padStart(8)}  ${share}%  ${c.name}${c.copies > 1 ? `  (${c.copies} copies)` : ''}`);
        }
        const locales = Object.keys(result.metafile.outputs[outputKey]?.inputs ?? {}).filter((i) =>
          /\/zod\/v4\/locales\/(?!en\.js$)/.test(i),
        );
        if (locales.length > 0) {
          console.log(`  zod's ${locales.length} other locales are bundled: a module imports \`{ z }\` from 'zod' (use \`import * as z\`)`);
        }
        const mixed = mixedFormats(result.metafile, outputKey);
        if (mixed.length > 0) console.log(`  both CommonJS and ES module builds bundled: ${mixed.join(', ')}`);
        console.log('');
        summary.push(
          `| ${fn.name} | ${kb(bytes)} | ${times.medianMs.toFixed(1)} ms | ${times.p90Ms.toFixed(1)} ms | ${times.cpuMedianMs.toFixed(1)} ms |`,
        );
      } catch (error) {
        failed = true;
        console.error(`${fn.name}: ${errorMessage(error)}`);
      }
    }
  } finally {
    if (keep) console.log(`bundles and metafiles kept in ${outdir}`);
    else rmSync(outdir, { recursive: true, force: true });
  }

  console.log('| function | bundle | init median | init p90 | init CPU median |');
  console.log('|---|---:|---:|---:|---:|');
  for (const line of summary) console.log(line);
  const loadAfter = loadavg()[0] ?? 0;
  const load = `1-minute load ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)} on ${cpuList.length} cores`;
  if (Math.max(loadBefore, loadAfter) > 1 + cpuList.length * BUSY_LOAD_PER_CORE) {
    console.log(
      `note: the machine was busy (${load}): ` +
        'wall times are inflated; compare the CPU medians, or measure again when the machine is idle',
    );
  } else console.log(`machine idle: ${load}`);
  if (failed) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
