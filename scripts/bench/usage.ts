/**
 * Benchmark of usage metering, end to end on this machine: ingests usage reports through the seller API pipeline
 * (POST /seller/usage: handleSellerRequest with the real routes, API key, stores and DynamoDB client) into a
 * DynamoDB Local of its own, then runs the hourly usage push against the fake KooGallery Open API until no window
 * is due, checks that the marketplace received every window exactly once with the exact total, and prints time
 * and peak memory.
 *
 *   node --import tsx scripts/bench/usage.ts [--reports 1000000] [--instances 1000] [--concurrency 8] [--hours 24]
 *
 * The reports are spread over the last `--hours` closed hours, oldest hour first (as a product reporting as it
 * goes would send them), each to a pseudo-random instance, in requests of 1000 records; 10% carry a clientRef and
 * 1% of the requests are sent a second time once answered (their clientRef records must come back as duplicates,
 * the others count again). DynamoDB Local (in memory, a separate JVM) and the fake Open API (in this process)
 * are started on free ports and stopped at the end, also on an error or Ctrl-C.
 *
 * Exit codes: 0 verified, 1 a check failed or the run broke, 2 bad arguments, 130/143 interrupted.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInstance } from '#lib/instances/stateMachine.ts';
import { openApiClient } from '#lib/koogallery/openApi/client.ts';
import type { Log } from '#lib/log.ts';
import { eventFor } from '#lib/outbox/events.ts';
import { handleSellerRequest, type RouterContext } from '#lib/seller-api/router.ts';
import { usageRoutes } from '#lib/seller-api/allRoutes.ts';
import type { UsageRouteDeps } from '#lib/seller-api/routes/usage.ts';
import { apiKeyStore } from '#lib/store/apiKeyStore.ts';
import { auditLog } from '#lib/store/auditLog.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { instanceStore } from '#lib/store/instanceStore.ts';
import { sellerActionLog } from '#lib/store/sellerActionLog.ts';
import { usageStore } from '#lib/store/usageStore.ts';
import { type UsageLedger } from '#lib/usage/ports.ts';
import { formatQuantity, parseQuantity } from '#lib/usage/decimal.ts';
import type { IngestResult } from '#lib/usage/ingest.ts';
import type { MeteringSettings } from '#lib/usage/metering.ts';
import { pushUsage, type PushSummary } from '#lib/usage/push.ts';
import { MAX_REPORTS_PER_REQUEST } from '#lib/usage/reports.ts';
import { usageApiTime, MAX_AGE_MS, WINDOW_MS, windowStart } from '#lib/usage/windows.ts';
import { iso } from '#lib/shared/time.ts';
import { createResources, startDynamoDbLocal, startFauxqs, type DynamoDbLocal } from '../local/emulators.ts';
import { awsEnv } from '../local/env.ts';
import { FAKE_OPENAPI_DEFAULT_CREDENTIALS, startFakeOpenApi, type FakeOpenApi } from '../local/fake-openapi.ts';
import { freePort } from '../local/processes.ts';
import { cleanups, integerOption, readOptions, runStandalone, usageExit } from '../local/standalone.ts';
import { int, machineLine, mib, percentile, secs } from '../local/format.ts';
import { mix, procCpuSeconds } from './proc.ts';

const USAGE = 'usage: node --import tsx scripts/bench/usage.ts [--reports 1000000] [--instances 1000] [--concurrency 8] [--hours 24]';

const STAGE = 'bench';
const PRODUCT_ID = 'BENCH-PRODUCT';
const ACCESS_KEY = 'bench-access-key-0123456789';
/** SELLER_MAX_BODY_BYTES's default (lib/config.ts). */
const MAX_BODY_BYTES = 1_048_576;
const PUSH_SETTINGS = { batchSize: 100, maxWindows: 1_000_000 };
/** The fake Open API keeps at most this many accepted records (scripts/local/fake-openapi.ts). */
const FAKE_MAX_RECORDS = 100_000;
const HOUR_MS = WINDOW_MS.hourly;
/** Quantities as the seller sends them: decimal strings. */
const VALUES = ['0.5', '1.25', '2', '0.0001', '3.75', '12.5'] as const;
const VALUE_UNITS = VALUES.map((v) => parseQuantity(v)!);
const SEED_PARALLEL = 16;

interface Options {
  reports: number;
  instances: number;
  concurrency: number;
  hours: number;
}

function parseOptions(argv: string[]): Options | string {
  const values = readOptions(argv, {
    reports: { type: 'string', default: '1000000' },
    instances: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
    hours: { type: 'string', default: '24' },
  });
  if (typeof values === 'string') return values;
  if (values.help) return '';
  const int = (name: string, min: number, max: number) => integerOption(values[name], name, min, max);
  const options = {
    reports: int('reports', 1, 100_000_000),
    instances: int('instances', 1, FAKE_MAX_RECORDS),
    concurrency: int('concurrency', 1, 256),
    // A begin time older than 21 days is refused: the oldest window must stay younger than that during the run.
    hours: int('hours', 1, MAX_AGE_MS / HOUR_MS - 24),
  };
  for (const v of Object.values(options)) if (typeof v === 'string') return v;
  const o = options as Options;
  if (o.instances * o.hours > FAKE_MAX_RECORDS) {
    return `--instances × --hours is at most ${FAKE_MAX_RECORDS} (the fake Open API keeps that many records), got ${o.instances * o.hours}`;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------------------
// The workload: report i is fully determined by i, so nothing is generated ahead and nothing is stored.

interface Workload {
  options: Options;
  requests: number;
  instanceIds: string[];
  /** ISO begin and end of each hour, oldest first. */
  hours: { begin: string; end: string; beginMs: number }[];
}

function workload(options: Options, nowMs: number): Workload {
  const current = windowStart(nowMs, 'hourly');
  return {
    options,
    requests: Math.ceil(options.reports / MAX_REPORTS_PER_REQUEST),
    instanceIds: Array.from({ length: options.instances }, (_, i) => `bench-${String(i).padStart(6, '0')}`),
    hours: Array.from({ length: options.hours }, (_, h) => {
      const beginMs = current - (options.hours - h) * HOUR_MS;
      return { begin: iso(beginMs), end: iso(beginMs + HOUR_MS), beginMs };
    }),
  };
}

interface Report {
  window: number;
  valueIndex: number;
  clientRef?: string;
}

function report(w: Workload, i: number): Report {
  const { reports, instances, hours } = w.options;
  const hour = Math.floor((i * hours) / reports);
  const instance = mix(i + 0x5bd1e995) % instances;
  return {
    window: hour * instances + instance,
    valueIndex: mix(i ^ 0x9e3779b9) % VALUES.length,
    ...(i % 10 === 3 ? { clientRef: `bench-ref-${i}` } : {}),
  };
}

/** 1% of the requests (at least one) are sent again once answered. */
function isResent(w: Workload, r: number): boolean {
  return r % 100 === Math.min(7, w.requests - 1);
}

function requestReports(w: Workload, r: number): Report[] {
  const from = r * MAX_REPORTS_PER_REQUEST;
  const to = Math.min(from + MAX_REPORTS_PER_REQUEST, w.options.reports);
  return Array.from({ length: to - from }, (_, k) => report(w, from + k));
}

function requestBody(w: Workload, reports: Report[]): string {
  const { instances } = w.options;
  const records = reports.map((rep) => {
    const hour = w.hours[Math.floor(rep.window / instances)]!;
    return {
      instanceId: w.instanceIds[rep.window % instances]!,
      beginTime: hour.begin,
      endTime: hour.end,
      value: VALUES[rep.valueIndex]!,
      ...(rep.clientRef ? { clientRef: rep.clientRef } : {}),
    };
  });
  return JSON.stringify({ records });
}

// ---------------------------------------------------------------------------------------------------------------
// Measurements

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM), or undefined when it cannot be read. */
function procStatusBytes(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const nodeCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Peaks of this process's RSS and heap, and of DynamoDB Local's RSS, sampled every 100 ms; resettable per phase. */
class MemorySampler {
  rss = 0;
  heapUsed = 0;
  javaRss = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly javaPid: number | undefined) {}
  sample = () => {
    const m = process.memoryUsage();
    this.rss = Math.max(this.rss, m.rss);
    this.heapUsed = Math.max(this.heapUsed, m.heapUsed);
    if (this.javaPid !== undefined) this.javaRss = Math.max(this.javaRss, procStatusBytes(this.javaPid, 'VmRSS') ?? 0);
  };
  start() {
    this.sample();
    this.timer = setInterval(this.sample, 100);
    this.timer.unref();
  }
  /** The peaks since the last reset, then starts over. */
  phase(): { rss: number; heapUsed: number; javaRss: number } {
    this.sample();
    const peaks = { rss: this.rss, heapUsed: this.heapUsed, javaRss: this.javaRss };
    this.rss = this.heapUsed = this.javaRss = 0;
    return peaks;
  }
  stop() {
    if (this.timer) clearInterval(this.timer);
  }
}

class CpuMeter {
  private node = nodeCpuSeconds();
  private java: number | undefined;
  private wall = performance.now();
  constructor(private readonly javaPid: number | undefined) {
    this.java = javaPid === undefined ? undefined : procCpuSeconds(javaPid);
  }
  /** CPU seconds of this process and of DynamoDB Local since the last call, and the wall time. */
  lap(): { node: number; java: number | undefined; wall: number } {
    const node = nodeCpuSeconds();
    const java = this.javaPid === undefined ? undefined : procCpuSeconds(this.javaPid);
    const wall = performance.now();
    const out = {
      node: node - this.node,
      java: java !== undefined && this.java !== undefined ? java - this.java : undefined,
      wall: (wall - this.wall) / 1000,
    };
    this.node = node;
    this.java = java;
    this.wall = wall;
    return out;
  }
}

/** A log for the flows that keeps the output readable: counts, prints the first few warnings and errors. */
function benchLog(): Log & { warnings: number; errors: number } {
  const shown = { warn: 0, error: 0 };
  const out = {
    warnings: 0,
    errors: 0,
    info: () => {},
    warn: (message: string, extra?: Record<string, unknown>) => {
      out.warnings++;
      if (shown.warn++ < 5) console.error(`  warn: ${message} ${JSON.stringify(extra ?? {})}`);
    },
    error: (message: string, extra?: Record<string, unknown>) => {
      out.errors++;
      if (shown.error++ < 5) console.error(`  error: ${message} ${JSON.stringify(extra ?? {})}`);
    },
  };
  return out;
}

/** The ledger, counting its transactions and why they failed (the flows see the real one's answers unchanged). */
function countingLedger(ledger: UsageLedger) {
  const counts = { transactions: 0, conflicts: 0, windowClosed: 0, refTaken: 0 };
  const counted: UsageLedger = {
    ...ledger,
    async add(addition, at) {
      counts.transactions++;
      const result = await ledger.add(addition, at);
      if (!result.ok) {
        if (result.conflict) counts.conflicts++;
        if (result.windowClosed) counts.windowClosed++;
        if (result.refTaken) counts.refTaken++;
      }
      return result;
    },
  };
  return { ledger: counted, counts };
}

// ---------------------------------------------------------------------------------------------------------------

interface Stack {
  dynamo: DynamoDbLocal;
  fake: FakeOpenApi;
  tables: { main: string; audit: string };
  dynamoVersion: string | undefined;
}

async function startStack(): Promise<Stack> {
  let dynamoVersion: string | undefined;
  const dynamo = await startDynamoDbLocal({
    port: await freePort(),
    onLine: (line) => {
      dynamoVersion ??= /Version:\s*(\S+)/.exec(line)?.[1];
    },
  });
  cleanups.push(() => dynamo.stop());
  // createResources also makes the stage's queues and buckets: fauxqs is needed for that moment only.
  const fauxqs = await startFauxqs({ port: 0 });
  let resources;
  try {
    resources = await createResources({ stage: STAGE, dynamoEndpoint: dynamo.endpoint, sqsEndpoint: fauxqs.endpoint });
  } finally {
    await fauxqs.stop();
  }
  const main = resources.tables.MainTable;
  const audit = resources.tables.AuditTable;
  if (!main || !audit) throw new Error('serverless.yml defines no MainTable/AuditTable');

  // The stores' shared client (lib/aws/clients.ts) reads its endpoint from the standard AWS variables.
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_ENDPOINT_URL']) delete process.env[name];
  Object.assign(process.env, awsEnv({ dynamo: dynamo.endpoint, sqs: fauxqs.endpoint }));
  cleanups.push(async () => dynamoClient().destroy());

  const fake = await startFakeOpenApi({ port: 0, credentials: FAKE_OPENAPI_DEFAULT_CREDENTIALS, accessKey: ACCESS_KEY });
  cleanups.push(() => fake.close());
  return { dynamo, fake, tables: { main, audit }, dynamoVersion };
}

async function seedInstances(stack: Stack, w: Workload): Promise<void> {
  const store = instanceStore(dynamoClient(), stack.tables);
  const at = iso(Date.now() - 30 * 86_400_000);
  let next = 0;
  const worker = async () => {
    while (next < w.instanceIds.length) {
      const i = next++;
      const instanceId = w.instanceIds[i]!;
      const orderId = `BENCHORDER${String(i).padStart(6, '0')}`;
      const { instance, entry } = createInstance(
        { instanceId, orderId, orderLineId: `${orderId}-000001`, businessId: instanceId, test: false, state: 'ACTIVE' },
        at,
      );
      instance.productId = PRODUCT_ID;
      const writes = store.createInstance(
        instance,
        entry,
        eventFor(instance, entry, 'instance.created'),
        Math.floor(Date.now() / 1000),
        undefined,
      );
      const result = await store.commit(writes.filter((x) => x.label !== 'outbox'));
      if (!result.ok) throw new Error(`seeding ${instanceId} failed: ${JSON.stringify(result)}`);
    }
  };
  await Promise.all(Array.from({ length: SEED_PARALLEL }, worker));
}

interface IngestOutcome {
  elapsedMs: number;
  requestsSent: number;
  recordsSent: number;
  resentRequests: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  expectedDuplicates: number;
  latenciesMs: number[];
  problems: string[];
  /** Units the marketplace must receive per window (index hour × instances + instance). */
  expected: bigint[];
  ledger: ReturnType<typeof countingLedger>['counts'];
}

async function ingest(stack: Stack, w: Workload, log: Log): Promise<IngestOutcome> {
  const client = dynamoClient();
  const instances = instanceStore(client, stack.tables);
  const keyStore = apiKeyStore(client, stack.tables.main);
  const { secret } = await keyStore.create({ name: `bench-${randomUUID().slice(0, 8)}`, scopes: ['usage:write'], now: Date.now() });
  const settings: MeteringSettings = {
    products: new Map([[PRODUCT_ID, 'hourly']]),
    chargingModes: new Set(),
    packageChargingModes: new Set(),
  };
  const { ledger, counts } = countingLedger(usageStore(client, stack.tables.main));
  const context: RouterContext<UsageRouteDeps> = {
    routes: usageRoutes,
    authenticate: (s, now) => keyStore.authenticate(s, now),
    deps: {
      usage: { instances: (ids) => instances.getInstances(ids), ledger, settings, now: Date.now, log },
    },
    now: Date.now,
    maxBodyBytes: MAX_BODY_BYTES,
    // Every report is an audited seller action, as in production.
    actions: sellerActionLog(client, stack.tables.audit),
    log,
  };

  const out: IngestOutcome = {
    elapsedMs: 0,
    requestsSent: 0,
    recordsSent: 0,
    resentRequests: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    expectedDuplicates: 0,
    latenciesMs: [],
    problems: [],
    expected: new Array<bigint>(w.options.instances * w.options.hours).fill(0n),
    ledger: counts,
  };
  const problem = (text: string) => {
    if (out.problems.length < 20) out.problems.push(text);
  };

  async function send(r: number, resend: boolean): Promise<void> {
    const reports = requestReports(w, r);
    const body = requestBody(w, reports);
    const started = performance.now();
    const answer = await handleSellerRequest(
      {
        method: 'POST',
        path: '/seller/usage',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        query: {},
        body,
        correlationId: randomUUID(),
      },
      context,
    );
    out.latenciesMs.push(performance.now() - started);
    out.requestsSent++;
    out.recordsSent += reports.length;
    if (answer.status !== 200) {
      problem(`request ${r}${resend ? ' (re-sent)' : ''}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
      return;
    }
    const result = JSON.parse(answer.body) as IngestResult;
    out.accepted += result.accepted;
    out.duplicates += result.duplicates;
    out.rejected += result.rejected;
    // What counts: every record the first time; a re-sent one again unless its clientRef makes it a duplicate.
    reports.forEach((rep, k) => {
      const want = resend && rep.clientRef ? 'duplicate' : 'accepted';
      if (want === 'duplicate') out.expectedDuplicates++;
      else out.expected[rep.window]! += VALUE_UNITS[rep.valueIndex]!;
      const got = result.results[k];
      if (got?.status !== want || got.index !== k)
        problem(`request ${r}${resend ? ' (re-sent)' : ''} record ${k}: ${JSON.stringify(got)}, expected ${want}`);
    });
  }

  const resends: number[] = [];
  let nextRequest = 0;
  const pool = async (take: () => { r: number; resend: boolean } | undefined) => {
    const worker = async () => {
      for (let task = take(); task; task = take()) {
        await send(task.r, task.resend);
        if (!task.resend && isResent(w, task.r)) resends.push(task.r);
      }
    };
    await Promise.all(Array.from({ length: w.options.concurrency }, worker));
  };

  const started = performance.now();
  const progress = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    const rss = process.memoryUsage().rss;
    console.log(
      `  … ${int(out.recordsSent)} reports in ${s.toFixed(0)} s (${int(Math.round(out.recordsSent / s))}/s), rss ${mib(rss)}, ` +
        `transactions ${int(counts.transactions)}, conflicts ${int(counts.conflicts)}`,
    );
  }, 15_000);
  progress.unref();
  try {
    // Re-sends go first once their original is answered, so they interleave with the stream.
    await pool(() => {
      const r = resends.shift();
      if (r !== undefined) {
        out.resentRequests++;
        return { r, resend: true };
      }
      return nextRequest < w.requests ? { r: nextRequest++, resend: false } : undefined;
    });
    // Those whose original was among the last ones.
    await pool(() => {
      const r = resends.shift();
      if (r === undefined) return undefined;
      out.resentRequests++;
      return { r, resend: true };
    });
  } finally {
    clearInterval(progress);
  }
  out.elapsedMs = performance.now() - started;
  return out;
}

interface PushOutcome {
  elapsedMs: number;
  runs: number;
  requests: number;
  sealed: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  problems: string[];
}

async function push(stack: Stack, log: Log): Promise<PushOutcome> {
  const client = dynamoClient();
  const openApi = openApiClient({
    baseUrl: stack.fake.url,
    credentials: async () => FAKE_OPENAPI_DEFAULT_CREDENTIALS,
    accessKey: async () => ACCESS_KEY,
    log,
  });
  const deps = {
    ledger: usageStore(client, stack.tables.main),
    pushUsage: (records: Parameters<typeof openApi.pushUsage>[0]) => openApi.pushUsage(records),
    audit: auditLog(client, stack.tables.audit),
    now: Date.now,
    log,
  };
  const out: PushOutcome = { elapsedMs: 0, runs: 0, requests: 0, sealed: 0, accepted: 0, duplicates: 0, rejected: 0, problems: [] };
  const started = performance.now();
  for (;;) {
    const summary: PushSummary = await pushUsage(deps, PUSH_SETTINGS);
    out.runs++;
    out.requests += summary.requests;
    out.sealed += summary.sealed;
    out.accepted += summary.accepted;
    out.duplicates += summary.duplicates;
    out.rejected += summary.rejected;
    if (summary.due === 0) break;
    if (summary.accepted + summary.rejected === 0) {
      out.problems.push(`push run ${out.runs} made no progress: ${JSON.stringify(summary)}`);
      break;
    }
  }
  out.elapsedMs = performance.now() - started;
  return out;
}

/** The marketplace's records against what the script sent: every window once, with its exact total. */
function verify(
  w: Workload,
  fake: FakeOpenApi,
  ingested: IngestOutcome,
  pushed: PushOutcome,
): { problems: string[]; windows: number; total: bigint } {
  const problems: string[] = [];
  const { instances } = w.options;
  const windowOf = new Map<string, number>();
  w.hours.forEach((hour, h) => {
    const begin = usageApiTime(hour.beginMs);
    w.instanceIds.forEach((id, i) => windowOf.set(`${id}\n${begin}`, h * instances + i));
  });
  const expectedWindows = ingested.expected.filter((u) => u > 0n).length;
  const expectedTotal = ingested.expected.reduce((a, b) => a + b, 0n);
  const received = new Array<bigint | undefined>(ingested.expected.length);
  let total = 0n;
  const records = fake.usage();
  for (const rec of records) {
    const units = parseQuantity(rec.usage_value);
    const index = windowOf.get(`${rec.instance_id}\n${rec.begin_time}`);
    if (units === undefined || index === undefined) {
      problems.push(`unexpected record ${JSON.stringify(rec)}`);
      continue;
    }
    total += units;
    if (received[index] !== undefined) problems.push(`window ${rec.instance_id} ${rec.begin_time} received twice`);
    received[index] = (received[index] ?? 0n) + units;
  }
  if (records.length !== expectedWindows)
    problems.push(`the marketplace accepted ${records.length} records, expected ${expectedWindows} (one per window)`);
  if (total !== expectedTotal)
    problems.push(`the marketplace's usage_value sum is ${formatQuantity(total)}, expected ${formatQuantity(expectedTotal)}`);
  let wrong = 0;
  ingested.expected.forEach((units, index) => {
    if ((received[index] ?? 0n) !== units && wrong++ < 5) {
      problems.push(
        `window ${w.instanceIds[index % instances]} ${w.hours[Math.floor(index / instances)]!.begin}: received ${formatQuantity(received[index] ?? 0n)}, expected ${formatQuantity(units)}`,
      );
    }
  });
  if (wrong > 5) problems.push(`… ${wrong} windows differ in all`);
  if (ingested.duplicates !== ingested.expectedDuplicates) {
    problems.push(
      `${ingested.duplicates} duplicates answered, expected ${ingested.expectedDuplicates} (the re-sent reports with a clientRef)`,
    );
  }
  if (ingested.rejected !== 0) problems.push(`${ingested.rejected} reports rejected`);
  if (pushed.accepted !== expectedWindows || pushed.duplicates !== 0 || pushed.rejected !== 0) {
    problems.push(
      `the push recorded ${pushed.accepted} accepted (${pushed.duplicates} as duplicates), ${pushed.rejected} rejected; expected ${expectedWindows} accepted`,
    );
  }
  return { problems: [...ingested.problems, ...pushed.problems, ...problems], windows: expectedWindows, total };
}

// ---------------------------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === 'string') return usageExit(options, USAGE);

  const log = benchLog();
  console.log(
    `usage benchmark: ${int(options.reports)} reports, ${int(options.instances)} instances, ${options.hours} h, concurrency ${options.concurrency}`,
  );
  console.log(machineLine());

  const stack = await startStack();
  const javaPid = stack.dynamo.process.pid;
  const javaOk = procStatusBytes(javaPid, 'VmRSS') !== undefined;
  console.log(
    `DynamoDB Local ${stack.dynamoVersion ?? '(version not printed)'} at ${stack.dynamo.endpoint} (in memory, pid ${javaPid}), fake Open API at ${stack.fake.url}`,
  );
  const sampler = new MemorySampler(javaOk ? javaPid : undefined);
  const cpu = new CpuMeter(javaOk ? javaPid : undefined);

  const w = workload(options, Date.now());
  const seedStarted = performance.now();
  await seedInstances(stack, w);
  console.log(`seeded ${int(options.instances)} metered instances in ${secs(performance.now() - seedStarted)}`);

  sampler.start();
  cpu.lap();
  sampler.phase();
  console.log(`ingest: ${int(w.requests)} requests of up to ${MAX_REPORTS_PER_REQUEST} reports …`);
  const ingested = await ingest(stack, w, log);
  const ingestCpu = cpu.lap();
  const ingestPeaks = sampler.phase();

  console.log('push …');
  const pushed = await push(stack, log);
  const pushCpu = cpu.lap();
  const pushPeaks = sampler.phase();
  sampler.stop();

  const { problems, windows, total } = verify(w, stack.fake, ingested, pushed);
  const javaHwm = javaOk ? procStatusBytes(javaPid, 'VmHWM') : undefined;
  const selfHwm = procStatusBytes('self', 'VmHWM');

  const lat = [...ingested.latenciesMs].sort((a, b) => a - b);
  const ms = (p: number) => `${percentile(lat, p).toFixed(0)} ms`;
  const rate = ingested.recordsSent / (ingested.elapsedMs / 1000);
  const cpuText = (c: { node: number; java: number | undefined; wall: number }) =>
    `CPU ${c.node.toFixed(0)} s in this process, ${c.java === undefined ? 'n/a' : `${c.java.toFixed(0)} s`} in DynamoDB Local, over ${c.wall.toFixed(0)} s`;
  const resent = ingested.recordsSent - options.reports;
  console.log('');
  console.log(`details:`);
  console.log(
    `  requests: ${int(ingested.requestsSent)} (${int(ingested.resentRequests)} re-sent), latency p50 ${ms(50)}, p95 ${ms(95)}, max ${ms(100)}`,
  );
  console.log(
    `  answers: ${int(ingested.accepted)} accepted, ${int(ingested.duplicates)} duplicates (expected ${int(ingested.expectedDuplicates)}), ${int(ingested.rejected)} rejected`,
  );
  console.log(
    `  ledger: ${int(ingested.ledger.transactions)} window transactions (${(ingested.ledger.transactions / ingested.recordsSent).toFixed(2)} per report), ` +
      `${int(ingested.ledger.conflicts)} TransactionConflict, ${int(ingested.ledger.refTaken)} clientRef races`,
  );
  console.log(`  ingest ${cpuText(ingestCpu)}`);
  console.log(
    `  push: ${int(pushed.sealed)} sealed, ${int(pushed.accepted)} accepted, ${int(pushed.rejected)} rejected; ${cpuText(pushCpu)}`,
  );
  console.log(
    `  memory by phase: ingest RSS ${mib(ingestPeaks.rss)} heap ${mib(ingestPeaks.heapUsed)}, push RSS ${mib(pushPeaks.rss)} heap ${mib(pushPeaks.heapUsed)}; this process's VmHWM ${mib(selfHwm)}`,
  );
  if (javaOk) console.log(`  DynamoDB Local RSS sampled: ingest ${mib(ingestPeaks.javaRss)}, push ${mib(pushPeaks.javaRss)}`);
  console.log('  this process also runs the load generator and the fake Open API; DynamoDB Local runs in a separate JVM');
  if (log.warnings + log.errors > 0) console.log(`  log: ${log.warnings} warnings, ${log.errors} errors`);
  if (problems.length > 0) {
    console.error(`\nFAILED: ${problems.length} problem(s)`);
    for (const p of problems.slice(0, 30)) console.error(`  - ${p}`);
  } else {
    console.log(
      `verified: ${int(windows)} windows, each accepted once by the marketplace; sum ${formatQuantity(total)} exact; ${int(ingested.duplicates)} duplicates as expected`,
    );
  }

  console.log('');
  console.log(
    `ingest: ${int(options.reports)} reports + ${int(resent)} re-sent in ${int(ingested.requestsSent)} requests, ` +
      `${secs(ingested.elapsedMs)}, ${int(Math.round(rate))} reports/s`,
  );
  console.log(
    `push: ${int(windows)} windows in ${int(pushed.requests)} requests (${pushed.runs} runs), ${secs(pushed.elapsedMs)}, ` +
      `${int(Math.round(windows / (pushed.elapsedMs / 1000)))} windows/s`,
  );
  console.log(
    `memory: peak RSS ${mib(Math.max(ingestPeaks.rss, pushPeaks.rss))}, peak heap ${mib(Math.max(ingestPeaks.heapUsed, pushPeaks.heapUsed))}; ` +
      (javaOk
        ? `DynamoDB Local (separate JVM, pid ${javaPid}) peak RSS ${mib(javaHwm)}`
        : 'DynamoDB Local runs in a separate JVM whose memory could not be read (/proc unavailable)'),
  );
  if (problems.length > 0) return 1;
  return 0;
}

await runStandalone('the usage benchmark', main);
