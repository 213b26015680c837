/**
 * Runs the simulator's conformance suite against the local stack many times in a row, the way CI runs it once
 * (`koogallery-sim conformance --any-header-case --open-api http://127.0.0.1:4020` against `npm start`), and reports
 * every run: checks passed and failed, the slowest call, and serverless offline's Lambda timeouts meanwhile.
 *
 *   node --import tsx scripts/local/conformance-runs.ts [--starts 1] [--runs 10]
 *   node --import tsx scripts/local/conformance-runs.ts --running [--runs 10]
 *
 * --starts N starts `npm start -- --fresh` N times, one after the other (its own process group, stopped after its
 * runs), and runs the suite --runs times against each. --running uses a stack already running on the default ports
 * (timeouts are then not counted: its output is elsewhere). Exit codes: 0 every run passed, 1 a run failed or the
 * stack did not start, 2 bad arguments.
 */
import { spawn } from 'node:child_process';
import { projectRoot } from './serverless-config.ts';
import { manage } from './processes.ts';
import { cleanups, integerOption, readOptions, runStandalone, usageExit } from './standalone.ts';

const USAGE = 'usage: node --import tsx scripts/local/conformance-runs.ts [--starts 1 | --running] [--runs 10]';
const READY_LINE = 'Ctrl-C stops everything';
const START_TIMEOUT_MS = 300_000;
/** The simulator as CI runs it against `npm start` (.ci/run). */
const SIM_ARGS = ['scripts/sim/koogallery-sim.mjs', 'conformance', '--any-header-case', '--open-api', 'http://127.0.0.1:4020', '--json'];

interface CheckResult {
  id: string;
  ok: boolean;
  detail?: string;
  latencyMs?: number;
}

interface RunReport {
  passed: number;
  failed: number;
  /** The slowest call of the run and its check. */
  slowest: { id: string; ms: number } | undefined;
  failures: string[];
  /** serverless offline's "[504] - Lambda timeout" lines during the run; undefined when its output is not read. */
  lambdaTimeouts: number | undefined;
}

/** Reads the simulator's --json output into a run's report. */
function reportOf(json: string, lambdaTimeouts: number | undefined): RunReport {
  let results: CheckResult[];
  try {
    results = (JSON.parse(json) as { results: CheckResult[] }).results;
  } catch {
    return {
      passed: 0,
      failed: 1,
      slowest: undefined,
      failures: [`no JSON report from the simulator: ${json.slice(0, 200)}`],
      lambdaTimeouts,
    };
  }
  let slowest: RunReport['slowest'];
  for (const r of results) {
    if (r.latencyMs !== undefined && (slowest === undefined || r.latencyMs > slowest.ms)) slowest = { id: r.id, ms: r.latencyMs };
  }
  const failures = results.filter((r) => !r.ok).map((r) => `${r.id}: ${(r.detail ?? '').slice(0, 300)}`);
  return { passed: results.length - failures.length, failed: failures.length, slowest, failures, lambdaTimeouts };
}

/** One line per run, and the failed checks under it. */
function formatRun(label: string, r: RunReport): string {
  const slowest = r.slowest ? `${r.slowest.ms} ms (${r.slowest.id})` : '-';
  const timeouts = r.lambdaTimeouts === undefined ? '' : `, Lambda timeouts ${r.lambdaTimeouts}`;
  return [
    `${label}: ${r.passed} passed, ${r.failed} failed, slowest call ${slowest}${timeouts}`,
    ...r.failures.map((f) => `    FAIL ${f}`),
  ].join('\n');
}

/** Runs the simulator once and gives its report; `timeouts` counts the stack's Lambda timeouts, when it is ours. */
function runSimulator(root: string, timeouts: (() => number) | undefined): Promise<RunReport> {
  const before = timeouts?.() ?? 0;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, SIM_ARGS, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('close', () => resolve(reportOf(out, timeouts ? timeouts() - before : undefined)));
  });
}

interface Stack {
  readySeconds: string;
  /** Lambda timeouts printed so far. */
  timeouts: () => number;
  stop: () => Promise<void>;
}

/** Starts `npm start -- --fresh` in its own process group and waits for its banner. */
async function startStack(root: string): Promise<Stack> {
  let timeouts = 0;
  let readySeconds = '?';
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((r) => (resolveReady = r));
  const child = spawn('npm', ['start', '--', '--fresh'], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const managed = manage('npm start', child, (line) => {
    if (line.includes('Lambda timeout')) timeouts++;
    const readyIn = /ready in ([\d.]+) s/.exec(line);
    if (readyIn) readySeconds = readyIn[1]!;
    if (line.includes(READY_LINE)) resolveReady();
  });
  const stop = () => managed.stop(15_000);
  cleanups.push(stop);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready'),
    managed.exited.then((code) => `exited (${String(code)})`),
    new Promise<string>((r) => (timer = setTimeout(() => r(`not ready after ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') throw new Error(`npm start ${outcome}. Last output:\n${managed.tail()}`);
  return {
    readySeconds,
    timeouts: () => timeouts,
    stop: async () => {
      cleanups.splice(cleanups.indexOf(stop), 1);
      await stop();
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const values = readOptions(argv, { starts: { type: 'string' }, runs: { type: 'string' }, running: { type: 'boolean' } });
  if (typeof values === 'string') return usageExit(values, USAGE);
  if (values.help) return usageExit('', USAGE);
  const runs = integerOption(values.runs ?? '10', 'runs', 1, 1_000);
  const starts = integerOption(values.starts ?? '1', 'starts', 1, 100);
  if (typeof runs === 'string') return usageExit(runs, USAGE);
  if (typeof starts === 'string') return usageExit(starts, USAGE);
  if (values.running && values.starts !== undefined) return usageExit('--running and --starts exclude each other', USAGE);

  const root = projectRoot();
  const reports: RunReport[] = [];
  const runAll = async (label: string, timeouts: (() => number) | undefined) => {
    for (let run = 1; run <= runs; run++) {
      const report = await runSimulator(root, timeouts);
      reports.push(report);
      console.log(formatRun(`${label}run ${run}`, report));
    }
  };
  if (values.running) {
    await runAll('', undefined);
  } else {
    for (let start = 1; start <= starts; start++) {
      const stack = await startStack(root);
      console.log(`start ${start}: npm start ready in ${stack.readySeconds} s`);
      await runAll(`start ${start}, `, stack.timeouts);
      await stack.stop();
    }
  }

  const failedRuns = reports.filter((r) => r.failed > 0).length;
  const slowest = reports.flatMap((r) => (r.slowest ? [r.slowest] : [])).sort((a, b) => b.ms - a.ms)[0];
  const timeouts = reports.reduce((sum, r) => sum + (r.lambdaTimeouts ?? 0), 0);
  console.log(
    `\n${reports.length} runs, ${failedRuns} failed; slowest call ${slowest ? `${slowest.ms} ms (${slowest.id})` : '-'}; ` +
      `Lambda timeouts ${values.running ? 'not counted' : timeouts}`,
  );
  return failedRuns === 0 ? 0 : 1;
}

await runStandalone('conformance-runs', main);
