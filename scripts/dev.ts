/**
 * `npm start`: the whole back end on this machine, on 127.0.0.1.
 *   DynamoDB Local (data in .local/dynamodb/) + fauxqs (S3/SQS, in memory) → tables, queues and buckets from
 *   serverless.yml/resources → serverless offline (HTTP API, schedules, Lambda invoke API) → SQS bridge(s).
 * `npm start -- --fresh` deletes .local/ first. Ctrl-C / SIGTERM stops every child (by process group).
 * Settings: .env (see .env.example), overridden by the shell's environment.
 */
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  JavaMissingError,
  LOCAL_REGION,
  assertJava,
  createResources,
  startDynamoDbLocal,
  startFauxqs,
  type DynamoDbLocal,
  type Emulator,
} from './local/emulators.ts';
import { LOCAL_DEFAULT_ACCESS_KEY, functionEnv, settings } from './local/env.ts';
import { startOffline, type Offline } from './local/offline.ts';
import { groupAlive, startedGroups, stopAllGroups } from './local/processes.ts';
import { projectRoot } from './local/serverless-config.ts';
import { startSqsBridge, type SqsBridge } from './local/sqs-bridge.ts';

const STAGE = 'local';
const started = Date.now();
const root = projectRoot();
const dataDir = join(root, '.local', 'dynamodb');
const config = settings(join(root, '.env'));

function port(name: string, fallback: number): number {
  const raw = config[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) {
    console.error(`${name} must be a port number, got "${raw}"`);
    process.exit(1);
  }
  return n;
}

const ports = {
  dynamo: port('DYNAMODB_PORT', 8000),
  fauxqs: port('FAUXQS_PORT', 4566),
  http: port('HTTP_PORT', 3000),
  lambda: port('LAMBDA_PORT', 3002),
};

const say = (line: string) => console.log(`[local] ${line}`);

try {
  assertJava();
} catch (error) {
  if (error instanceof JavaMissingError) {
    console.error(`[local] ${error.message}`);
    process.exit(1);
  }
  throw error;
}

if (process.argv.includes('--fresh')) {
  rmSync(join(root, '.local'), { recursive: true, force: true });
  say('--fresh: deleted .local/');
}

let dynamo: DynamoDbLocal | undefined;
let fauxqs: Emulator | undefined;
let offline: Offline | undefined;
const bridges: SqsBridge[] = [];
let shuttingDown = false;

/** Stops everything we started, newest first, then checks that no child process group survived. */
async function shutdown(reason: string, exitCode: number): Promise<never> {
  if (shuttingDown) return new Promise<never>(() => {});
  shuttingDown = true;
  const stopStarted = Date.now();
  say(`stopping (${reason})…`);
  const groups = startedGroups();
  const step = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      console.error(`[local] stopping ${what}: ${(error as Error).message}`);
      exitCode ||= 1;
    }
  };
  await step('sqs bridge', async () => void (await Promise.all(bridges.map((b) => b.stop()))));
  if (offline) await step('serverless offline', offline.stop);
  if (fauxqs) await step('fauxqs', fauxqs.stop);
  if (dynamo) await step('DynamoDB Local', dynamo.stop);
  // Children whose start-up was interrupted (a signal during start) have no handle yet.
  await step('remaining children', () => stopAllGroups());
  const survivors = groups.filter(groupAlive);
  if (survivors.length > 0) {
    console.error(`[local] process groups still alive: ${survivors.join(', ')}`);
    exitCode ||= 1;
  } else {
    say(`stopped in ${((Date.now() - stopStarted) / 1000).toFixed(1)} s; no child process left`);
  }
  process.exit(exitCode);
}

let firstSignalAt = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (firstSignalAt === 0) {
      firstSignalAt = Date.now();
      void shutdown(signal, 0);
      return;
    }
    // A Ctrl-C in a terminal reaches us twice (from the terminal and forwarded by npm): ignore repeats for a second.
    if (Date.now() - firstSignalAt < 1_000) return;
    // A later Ctrl-C: stop waiting for a graceful shutdown.
    say('second signal: killing the child process groups');
    for (const pid of startedGroups()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}

// If whatever started us dies without passing a signal on (e.g. `sh -c` under npm, or npm killed), we are
// re-parented: take that as a stop request so no emulator is left behind.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void shutdown('parent process exited', 0);
}, 1_000).unref();

try {
  say(`starting DynamoDB Local on :${ports.dynamo} and fauxqs on :${ports.fauxqs}…`);
  const [d, f] = await Promise.allSettled([
    startDynamoDbLocal({ port: ports.dynamo, dataDir }),
    startFauxqs({ port: ports.fauxqs }),
  ]);
  if (d.status === 'fulfilled') dynamo = d.value;
  if (f.status === 'fulfilled') fauxqs = f.value;
  if (d.status === 'rejected') throw d.reason;
  if (f.status === 'rejected') throw f.reason;
  if (!dynamo || !fauxqs) throw new Error('emulators did not start');
  void dynamo.process.exited.then((code) => shutdown(`DynamoDB Local exited (${String(code)})`, 1));

  const resources = await createResources({
    stage: STAGE,
    dynamoEndpoint: dynamo.endpoint,
    sqsEndpoint: fauxqs.endpoint,
    root,
    log: say,
  });
  const endpoints = { dynamo: dynamo.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint };
  const env = functionEnv({ base: config, resources, endpoints });

  say(`starting serverless offline on :${ports.http} (Lambda API :${ports.lambda})…`);
  offline = await startOffline({
    httpPort: ports.http,
    lambdaPort: ports.lambda,
    env,
    stage: STAGE,
    cwd: root,
    onLine: (line, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(`${line}\n`),
  });
  void offline.process.exited.then((code) => shutdown(`serverless offline exited (${String(code)})`, 1));

  const bridgeLines: string[] = [];
  for (const consumer of resources.consumers) {
    if (!consumer.queue) {
      say(`warning: no local queue for the sqs event of ${consumer.functionKey}; not bridged`);
      continue;
    }
    bridges.push(
      await startSqsBridge({
        queueUrl: consumer.queue.url,
        sqsEndpoint: fauxqs.endpoint,
        lambdaEndpoint: offline.lambdaUrl,
        functionName: consumer.functionName,
        batchSize: consumer.batchSize,
        reportBatchItemFailures: consumer.reportBatchItemFailures,
        region: LOCAL_REGION,
      }),
    );
    bridgeLines.push(`  SQS bridge             ${consumer.queue.name} → ${consumer.functionName}`);
  }

  const key = env.KOOGALLERY_ACCESS_KEY!;
  const keyLine =
    key === LOCAL_DEFAULT_ACCESS_KEY
      ? `${key} (the documented local default; set KOOGALLERY_ACCESS_KEY in .env to change it)`
      : `${key.slice(0, 4)}…(${key.length} chars) from KOOGALLERY_ACCESS_KEY`;
  const lines = [
    '',
    `KooGallery ISV back end, stage "${STAGE}", ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    '',
    `  Production interface   POST ${offline.url}/koogallery/produce`,
    `  Access key             ${keyLine}`,
    `  Lambda invoke API      ${offline.lambdaUrl}/2015-03-31/functions/<name>/invocations`,
    `  DynamoDB Local         ${dynamo.endpoint}   tables: ${Object.values(resources.tables).join(', ')}`,
    `  S3 + SQS (fauxqs)      ${fauxqs.endpoint}   queues: ${Object.values(resources.queues).map((q) => q.name).join(', ')}`,
    ...bridgeLines,
    '',
    `  Data                   DynamoDB in ${relative(process.cwd(), dataDir) || '.'}/ (kept between runs; \`npm start -- --fresh\` wipes it)`,
    '                         SQS and S3 in memory (fauxqs): queues are recreated empty at every start',
    '',
    '  Ctrl-C stops everything.',
    '',
  ];
  console.log(lines.join('\n'));
} catch (error) {
  console.error(`[local] start-up failed: ${(error as Error).message}`);
  await shutdown('start-up failed', 1);
}
