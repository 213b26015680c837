/**
 * Load through HTTP: N concurrent marketplace clients against a running local stack (`npm start`), for a bounded
 * time, each repeating a debug lifecycle (newInstance, queryInstance, FREEZE, UNFREEZE; testFlag=1, so nothing is
 * billed and every instance expires). Prints throughput, latency percentiles per activity and every answer that
 * is not a success. Loopback addresses only.
 *
 *   npm start                                   # in another terminal
 *   npm run bench:http -- --clients 16 --seconds 30
 *
 * Exit codes: 0 every valid call answered 000000 (queryInstance: 000000 or 000004, provisioning under way),
 * 1 otherwise, 2 bad arguments.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { marketplaceClient, type CallResult } from '#lib/simulator/client.ts';
import { requestBody } from '#lib/simulator/requests.ts';
import { LOCAL_DEFAULT_ACCESS_KEY } from '../local/env.ts';
import { runIfMain } from '../local/cli.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const MAX_CLIENTS = 64;
const MAX_SECONDS = 300;

interface Tally {
  latencies: number[];
  codes: Map<string, number>;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:3000/koogallery/produce' },
      key: { type: 'string', default: process.env.KOOGALLERY_ACCESS_KEY || LOCAL_DEFAULT_ACCESS_KEY },
      clients: { type: 'string', default: '16' },
      seconds: { type: 'string', default: '30' },
      'any-header-case': { type: 'boolean', default: true },
    },
  });
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  const host = new URL(values.url).hostname;
  if (!LOOPBACK.has(host)) {
    console.error(`error: load is only sent to a loopback address (127.0.0.1, localhost, ::1), not ${host}`);
    return 2;
  }
  if (
    !Number.isInteger(clients) ||
    clients < 1 ||
    clients > MAX_CLIENTS ||
    !Number.isFinite(seconds) ||
    seconds <= 0 ||
    seconds > MAX_SECONDS
  ) {
    console.error(`error: --clients 1..${MAX_CLIENTS}, --seconds up to ${MAX_SECONDS}`);
    return 2;
  }
  // serverless offline lowercases header names: Body-Sign's exact case is checked by the handler tests.
  const client = marketplaceClient(values.url, values.key, { headerCase: values['any-header-case'] ? 'any' : 'exact' });
  const tallies = new Map<string, Tally>();
  const failures: string[] = [];
  let failed = 0;
  const record = (activity: string, result: CallResult, ok: readonly string[]) => {
    const tally: Tally = tallies.get(activity) ?? { latencies: [], codes: new Map<string, number>() };
    tallies.set(activity, tally);
    const code = result.error
      ? 'no answer'
      : typeof result.json?.resultCode === 'string'
        ? result.json.resultCode
        : `HTTP ${result.status}`;
    tally.latencies.push(result.latencyMs);
    tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);
    const valid = ok.includes(code) && result.status === 200 && result.bodySign === 'valid';
    if (!valid) {
      failed++;
      if (failures.length < 10)
        failures.push(
          `${activity}: ${code} in ${result.latencyMs} ms, Body-Sign ${result.bodySign}: ${result.error ?? result.raw.slice(0, 160)}`,
        );
    }
    return valid ? result : undefined;
  };

  const deadline = Date.now() + seconds * 1000;
  const started = performance.now();
  let lifecycles = 0;
  const worker = async () => {
    while (Date.now() < deadline) {
      const created = record('newInstance', await client.call(requestBody('newInstance', { testFlag: '1' })), ['000000']);
      const instanceId = typeof created?.json?.instanceId === 'string' ? created.json.instanceId : undefined;
      if (!instanceId) continue;
      record('queryInstance', await client.call(requestBody('queryInstance', { instanceId, testFlag: '1' })), ['000000', '000004']);
      for (const status of ['FREEZE', 'UNFREEZE']) {
        record(
          `updateInstanceStatus ${status}`,
          await client.call(requestBody('updateInstanceStatus', { instanceId, status, testFlag: '1' })),
          ['000000'],
        );
      }
      lifecycles++;
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  const elapsedS = (performance.now() - started) / 1000;

  const all = [...tallies.values()].flatMap((t) => t.latencies).sort((a, b) => a - b);
  const bad = failed;
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}; target ${values.url}`);
  console.log(
    `${clients} clients for ${elapsedS.toFixed(1)} s: ${all.length} calls, ${(all.length / elapsedS).toFixed(1)} calls/s, ${lifecycles} lifecycles`,
  );
  console.log('activity                        calls   p50 ms   p99 ms   max ms  answers');
  for (const [activity, tally] of tallies) {
    const sorted = [...tally.latencies].sort((a, b) => a - b);
    const answers = [...tally.codes].map(([c, n]) => `${c}×${n}`).join(', ');
    console.log(
      `${activity.padEnd(30)} ${String(sorted.length).padStart(6)} ${String(percentile(sorted, 50)).padStart(8)} ${String(percentile(sorted, 99)).padStart(8)} ${String(sorted.at(-1) ?? 0).padStart(8)}  ${answers}`,
    );
  }
  console.log(`all: p50 ${percentile(all, 50)} ms, p99 ${percentile(all, 99)} ms; answers that were not a success: ${bad}`);
  for (const f of failures) console.log(`  ✗ ${f}`);
  return bad === 0 ? 0 : 1;
}

runIfMain(import.meta.url, main);
