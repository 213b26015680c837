/**
 * Benchmark of the monthly settlement run on this machine: for each size of month (order lines), a fresh set of
 * tables in its own DynamoDB Local is filled with billing facts and accepted usage windows, then a separate
 * process runs the settlement as the deployed functions do (startRun, the segments taken from the real fauxqs
 * queue by a few concurrent workers, the assembly into S3) and reports its time and peak memory. The statement
 * is checked against figures computed independently while the data was generated.
 *
 *   node --import tsx scripts/bench/settlement.ts [--sizes 50000,100000,200000] [--concurrency 4] [--warmup 10000]
 *
 * A first month of --warmup order lines (0: none) warms DynamoDB Local up and is left out of the figures.
 * The settling process runs with the deployed worker's heap limit (WORKER_HEAP_MB); --heap-mb N sets another,
 * --heap-mb 0 leaves Node's defaults (then the peak shows garbage V8 has not collected yet).
 * Each size runs in fresh child processes (one generates, one settles), so the peak RSS printed is the settlement's
 * own. Generation is not timed. DynamoDB Local (a separate JVM) and fauxqs (in the parent process) are started on
 * free ports and stopped at the end, also on an error or Ctrl-C.
 *
 * Exit codes: 0 verified, 1 a check failed or the run broke, 2 bad arguments, 130/143 interrupted.
 */
import type { AttributeValue, WriteRequest } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { config } from '#lib/config.ts';
import type { Log } from '#lib/log.ts';
import { settlementDeps } from '#lib/settlement/deps.ts';
import { settlementDynamoClient, sqsReceivingClient } from '#lib/aws/clients.ts';
import type { OrderLineFacts } from '#lib/settlement/model.ts';
import { formatCents } from '#lib/settlement/money.ts';
import { periodBounds } from '#lib/settlement/period.ts';
import { parseSettlementMessage } from '#lib/settlement/messages.ts';
import type { SettlementDeps } from '#lib/settlement/ports.ts';
import { startRun } from '#lib/settlement/start.ts';
import { handleSettlementMessage, WORKER_HEAP_MB } from '#lib/settlement/worker.ts';
import { billingStore, usageBillAttributes } from '#lib/store/billingStore.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { toItem } from '#lib/store/dynamo.ts';
import { keys } from '#lib/store/keys.ts';
import { s3Client } from '#lib/aws/clients.ts';
import { createResources } from '../local/emulators.ts';
import { resourceEnv } from '../local/env.ts';
import { cleanups, integerOption, readOptions, runStandalone, startEmulatorStack, usageExit } from '../local/standalone.ts';
import { int, machineLine, mib } from '../local/format.ts';
import { mix, procCpuSeconds } from './proc.ts';
import { iso, sleep } from '#lib/shared/time.ts';

const USAGE =
  'usage: node --import tsx scripts/bench/settlement.ts [--sizes 50000,100000,200000] [--concurrency 4] [--warmup 10000] [--heap-mb N]';
const SCRIPT = fileURLToPath(import.meta.url);

/** The month settled (Asia/Shanghai): October 2025. */
const PERIOD = '2025-10';
const TIME_ZONE = 'Asia/Shanghai';
const SETTINGS_ENV = {
  KOOGALLERY_ACCESS_KEY: 'bench-access-key-0123456789',
  ORDER_QUERY: 'false',
  SETTLEMENT_TIME_ZONE: TIME_ZONE,
  SETTLEMENT_FEE_SHARES: 'BENCH-P1=0.15,BENCH-P2=0.2,BENCH-P3=0.3,BENCH-PU=0.1',
  SETTLEMENT_TAX_RATE: '0.06',
  SETTLEMENT_PRICES: 'BENCH-PU=0.02:CNY:GB',
};
/** Fee shares in per mille, tax rate per mille, the usage price in cents per unit, as the independent check uses them. */
const SHARE_PER_MILLE: Record<string, bigint> = { 'BENCH-P1': 150n, 'BENCH-P2': 200n, 'BENCH-P3': 300n, 'BENCH-PU': 100n };
const TAX_PER_MILLE = 60n;
/** A product without a fee share: its lines are withheld and reported. */
const NO_FEE_PRODUCT = 'BENCH-PX';
/** Usage: one metered instance per this many order lines, each with this many accepted hourly windows. */
const LINES_PER_METERED_INSTANCE = 100;
const WINDOWS_PER_INSTANCE = 4;
const WRITE_PARALLEL = 8;

// ---------------------------------------------------------------------------------------------------------------
// The workload: order line i is fully determined by i.

const DAY = 86_400_000;

/** n / d rounded half up, away from zero (d > 0), written apart from lib/settlement/money.ts on purpose. */
function halfUp(n: bigint, d: bigint): bigint {
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const q = abs / d + (2n * (abs % d) >= d ? 1n : 0n);
  return negative ? -q : q;
}

interface Sums {
  lines: number;
  gross: bigint;
  fee: bigint;
  tax: bigint;
  net: bigint;
}

class Expected {
  lines = 0;
  problems = 0;
  readonly totals = new Map<string, Sums>();

  add(currency: string, product: string, grossCents: bigint): void {
    const share = SHARE_PER_MILLE[product];
    if (share === undefined) {
      this.problems++;
      return;
    }
    const fee = halfUp(grossCents * share, 1000n);
    const tax = halfUp((grossCents - fee) * TAX_PER_MILLE, 1000n);
    const t = this.totals.get(currency) ?? { lines: 0, gross: 0n, fee: 0n, tax: 0n, net: 0n };
    this.totals.set(currency, {
      lines: t.lines + 1,
      gross: t.gross + grossCents,
      fee: t.fee + fee,
      tax: t.tax + tax,
      net: t.net + grossCents - fee - tax,
    });
    this.lines++;
  }

  json(): Record<string, { lines: number; gross: string; fee: string; tax: string; net: string }> {
    const out: Record<string, { lines: number; gross: string; fee: string; tax: string; net: string }> = {};
    for (const currency of [...this.totals.keys()].sort()) {
      const t = this.totals.get(currency)!;
      out[currency] = {
        lines: t.lines,
        gross: formatCents(t.gross),
        fee: formatCents(t.fee),
        tax: formatCents(t.tax),
        net: formatCents(t.net),
      };
    }
    return out;
  }
}

/** Order line i's facts, when they were recorded, and what it must contribute to the month's statement. */
function orderLine(
  i: number,
  bounds: { startMs: number; endMs: number },
): { facts: OrderLineFacts; recordedAt: string; bill?: { gross: bigint }; refund?: bigint } {
  const orderId = `BENCH${String(i).padStart(8, '0')}`;
  const r = mix(i ^ 0x1234567) % 100;
  const productRoll = mix(i ^ 0x2badf00d) % 100;
  const productId = productRoll < 1 ? NO_FEE_PRODUCT : productRoll < 40 ? 'BENCH-P1' : productRoll < 75 ? 'BENCH-P2' : 'BENCH-P3';
  const currency = mix(i ^ 0x5eed) % 10 < 8 ? 'CNY' : 'USD';
  const cents = 100n + BigInt(mix(i ^ 0x7777) % 99_900);
  const span = bounds.endMs - bounds.startMs - 3 * DAY;
  const inPeriod = bounds.startMs + (mix(i ^ 0x4242) % span);
  const base: OrderLineFacts = {
    orderId,
    orderLineId: `${orderId}-000001`,
    instanceId: `bench-inst-${i}`,
    productId,
    kind: (['NEW', 'RENEWAL', 'UPGRADE', 'TRIAL_TO_PAID'] as const)[mix(i ^ 0x99) % 4]!,
    amount: formatCents(cents),
    currency,
    test: false,
    effectiveAt: iso(inPeriod),
  };
  if (r < 80) return { facts: base, recordedAt: base.effectiveAt!, bill: { gross: cents } };
  if (r < 85) return { facts: { ...base, supervision: {} }, recordedAt: base.effectiveAt! };
  if (r < 90) {
    const completedAt = iso(inPeriod + DAY);
    return { facts: { ...base, supervision: { completedAt } }, recordedAt: completedAt, bill: { gross: cents } };
  }
  if (r < 93) {
    // Billed last month, half refunded this month: a REFUND line.
    const refunded = cents / 2n;
    const refund = { orderId: `R${orderId}`, at: iso(inPeriod + DAY), amount: formatCents(refunded) };
    return { facts: { ...base, effectiveAt: iso(bounds.startMs - 10 * DAY), refund }, recordedAt: refund.at, refund: -refunded };
  }
  if (r < 95) {
    // Refunded in part before it was billed: the ORDER line carries what was kept.
    const refunded = cents / 4n;
    const refund = { orderId: `R${orderId}`, at: iso(inPeriod + DAY), amount: formatCents(refunded) };
    return { facts: { ...base, refund }, recordedAt: refund.at, bill: { gross: cents - refunded } };
  }
  if (r < 97) return { facts: { ...base, test: true }, recordedAt: base.effectiveAt! };
  if (r < 99) return { facts: { ...base, amount: '0' }, recordedAt: base.effectiveAt! };
  // In effect next month: read by the run (recorded after the month began) and left out.
  const next = iso(bounds.endMs + DAY);
  return { facts: { ...base, effectiveAt: next }, recordedAt: next };
}

// ---------------------------------------------------------------------------------------------------------------
// Child: generate

async function batchWrite(table: string, items: Record<string, AttributeValue>[]): Promise<void> {
  let pending: WriteRequest[] = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 10) throw new Error('BatchWriteItem kept leaving items unprocessed');
    if (attempt > 0) await sleep(20 * attempt);
    const out = await dynamoClient().send('BatchWriteItem', { RequestItems: { [table]: pending } });
    pending = out.UnprocessedItems?.[table] ?? [];
  }
}

async function generate(size: number): Promise<void> {
  const cfg = config();
  const table = cfg.MAIN_TABLE;
  const billing = billingStore(dynamoClient(), { main: table });
  const { start, end } = periodBounds(PERIOD, TIME_ZONE);
  const bounds = { startMs: Date.parse(start), endMs: Date.parse(end) };
  const expected = new Expected();
  let next = 0;
  const started = performance.now();

  const writer = async () => {
    for (;;) {
      const from = next;
      if (from >= size) return;
      next = Math.min(size, from + 25);
      const items: Record<string, AttributeValue>[] = [];
      for (let i = from; i < next; i++) {
        const line = orderLine(i, bounds);
        if (line.bill) expected.add(line.facts.currency, line.facts.productId!, line.bill.gross);
        if (line.refund !== undefined) expected.add(line.facts.currency, line.facts.productId!, line.refund);
        const put = billing.factsWrite(line.facts, undefined, line.recordedAt).write.Put!;
        items.push(put.Item!);
      }
      await batchWrite(table, items);
    }
  };
  await Promise.all(Array.from({ length: WRITE_PARALLEL }, writer));

  // Pay-per-use: metered instances and their accepted windows, written as the usage push leaves them.
  const instances = Math.max(1, Math.floor(size / LINES_PER_METERED_INSTANCE));
  let windows = 0;
  for (let n = 0; n < instances; n += 5) {
    const items: Record<string, AttributeValue>[] = [];
    for (let k = n; k < Math.min(instances, n + 5); k++) {
      const instanceId = `bench-metered-${k}`;
      items.push(
        toItem(keys.instance(instanceId), {
          type: 'instance',
          instanceId,
          orderId: `BENCHPPU${k}`,
          orderLineId: `BENCHPPU${k}-000001`,
          businessId: instanceId,
          state: 'ACTIVE',
          test: false,
          productId: 'BENCH-PU',
          order: { orderId: `BENCHPPU${k}`, orderLineId: `BENCHPPU${k}-000001`, currency: 'CNY' },
          createdAt: start,
          updatedAt: start,
          version: 1,
        }),
      );
      let units = 0n;
      for (let w = 0; w < WINDOWS_PER_INSTANCE; w++) {
        // Within the month: at most 99 hours plus 18 days after its start.
        const beginMs = bounds.startMs + (k % 100) * 3_600_000 + w * 6 * DAY;
        const beginTime = new Date(beginMs).toISOString();
        const acceptedAt = new Date(beginMs + 2 * 3_600_000).toISOString();
        const windowUnits = 1n + BigInt(mix(k * 31 + w) % 1_000_000);
        units += windowUnits;
        windows++;
        items.push({
          ...toItem(keys.usageWindow(instanceId, beginTime), {
            type: 'usageWindow',
            instanceId,
            beginTime,
            endTime: new Date(beginMs + 3_600_000).toISOString(),
            usageState: 'ACCEPTED',
            reports: 1,
            revision: 1,
            meteringSn: `bench-${k}-${w}`,
            acceptedAt,
            duplicate: false,
            attempts: 1,
            updatedAt: acceptedAt,
            ...usageBillAttributes(instanceId, beginTime, acceptedAt),
          }),
          units: { N: windowUnits.toString() },
          pushedUnits: { N: windowUnits.toString() },
        });
      }
      // gross = units × 0.0001 × 0.02 CNY, in cents: units × 2 / 10^4.
      expected.add('CNY', 'BENCH-PU', halfUp(units * 2n, 10_000n));
    }
    await batchWrite(table, items);
  }
  report({
    expectedLines: expected.lines,
    expectedProblems: expected.problems,
    expectedTotals: expected.json(),
    windows,
    instances,
    generateSeconds: (performance.now() - started) / 1000,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Child: settle

function report(value: unknown): void {
  process.stdout.write(`RESULT ${JSON.stringify(value)}\n`);
}

async function settle(concurrency: number): Promise<void> {
  const peaks = { rss: 0, heap: 0, heapTotal: 0, external: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peaks.rss = Math.max(peaks.rss, m.rss);
    peaks.heap = Math.max(peaks.heap, m.heapUsed);
    peaks.heapTotal = Math.max(peaks.heapTotal, m.heapTotal);
    peaks.external = Math.max(peaks.external, m.external);
  };
  const timer = setInterval(sample, 50);
  sample();
  const baseline = { ...peaks };
  const phasePeaks: Record<string, typeof peaks> = {};
  const warnings: string[] = [];
  const log: Log = {
    info: () => {},
    warn: (m, e) => warnings.push(`${m} ${JSON.stringify(e ?? {})}`),
    error: (m, e) => warnings.push(`${m} ${JSON.stringify(e ?? {})}`),
  };
  const dynamo = settlementDynamoClient();
  const deps: SettlementDeps = settlementDeps(config(), { dynamo, log });
  const queueUrl = config().SETTLEMENT_QUEUE_URL!;
  // Long polls need a longer timeout than the functions' sending client allows.
  const sqs = sqsReceivingClient();

  const started = performance.now();
  const run = await startRun(deps, PERIOD, 'seller');
  let segmentsEndedAt = 0;
  let endedAt = 0;
  let assembleMs = 0;
  let messages = 0;
  let finished = false;
  const worker = async () => {
    while (!finished) {
      const out = await sqs.send('ReceiveMessage', {
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 600,
      });
      const message = out.Messages?.[0];
      if (!message) continue;
      const parsed = parseSettlementMessage(message.Body ?? '');
      if (!parsed.ok) throw new Error(`unexpected message on the queue: ${parsed.issue}`);
      const t = performance.now();
      if (parsed.value.type === 'assemble' && !segmentsEndedAt) {
        segmentsEndedAt = t;
        sample();
        phasePeaks.segments = { ...peaks };
        peaks.rss = peaks.heap = peaks.heapTotal = peaks.external = 0;
        sample();
      }
      const outcome = await handleSettlementMessage(deps, parsed.value);
      if (parsed.value.type === 'assemble') assembleMs += performance.now() - t;
      messages++;
      await sqs.send('DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! });
      if (outcome.outcome === 'version' || outcome.outcome === 'unchanged') {
        endedAt = performance.now();
        finished = true;
      }
    }
  };
  const watchdog = setInterval(() => {
    void deps.statements.getRun(PERIOD, run.runId).then((r) => {
      if (r && r.status !== 'RUNNING') finished = true;
    });
  }, 2_000);
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = ((endedAt || performance.now()) - started) / 1000;
  clearInterval(watchdog);
  clearInterval(timer);
  sample();
  const header = await deps.statements.getHeader(PERIOD);
  const version = header ? await deps.statements.getVersion(PERIOD, header.latestVersion) : undefined;
  report({
    seconds,
    segmentsSeconds: (segmentsEndedAt - started) / 1000,
    assembleSeconds: assembleMs / 1000,
    messages,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    sampledRssBytes: Math.max(peaks.rss, phasePeaks.segments?.rss ?? 0),
    heapBytes: Math.max(peaks.heap, phasePeaks.segments?.heap ?? 0),
    phases: { baseline, segments: phasePeaks.segments, assembly: { ...peaks } },
    runStatus: (await deps.statements.getRun(PERIOD, run.runId))?.status,
    header,
    version,
    warnings: warnings.slice(0, 5),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Parent

function child<T>(args: string[], env: Record<string, string>, nodeFlags: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', SCRIPT, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => (out += chunk));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${args.join(' ')} exited with ${code}: ${out.slice(-2000)}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as T);
    });
  });
}

interface Generated {
  expectedLines: number;
  expectedProblems: number;
  expectedTotals: Record<string, unknown>;
  windows: number;
  instances: number;
  generateSeconds: number;
}

interface Settled {
  seconds: number;
  segmentsSeconds: number;
  assembleSeconds: number;
  messages: number;
  maxRssBytes: number;
  sampledRssBytes: number;
  heapBytes: number;
  runStatus?: string;
  header?: { latestVersion: number; lineCount: number; problems: number; totals: Record<string, unknown>; sha256?: string };
  version?: { csvKey: string; csvBytes: number; jsonBytes: number };
  warnings: string[];
  phases: Record<string, { rss: number; heap: number; heapTotal: number; external: number } | undefined>;
}

async function csvSha256(bucket: string, key: string): Promise<string> {
  const out = await s3Client({ forcePathStyle: true }).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of out.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest('hex');
}

interface Options {
  sizes: number[];
  concurrency: number;
  warmup: number;
  heapMb: number;
  /** Set in the child processes: what this one does, and (generate) for how many order lines. */
  child?: 'generate' | 'settle';
  size: number;
}

function parseOptions(argv: string[]): Options | string {
  const values = readOptions(argv, {
    sizes: { type: 'string', default: '50000,100000,200000' },
    concurrency: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '10000' },
    'heap-mb': { type: 'string', default: String(WORKER_HEAP_MB) },
    child: { type: 'string' },
    size: { type: 'string', default: '0' },
  });
  if (typeof values === 'string') return values;
  if (values.help) return '';
  const concurrency = integerOption(values.concurrency, 'concurrency', 1, 32);
  // 0 leaves Node's defaults.
  const heapMb = integerOption(values['heap-mb'], 'heap-mb', 0, 4096);
  const size = integerOption(values.size, 'size', 0, 5_000_000);
  const sizes = String(values.sizes)
    .split(',')
    .map((s) => integerOption(s.trim(), 'sizes', 100, 5_000_000));
  for (const v of [concurrency, heapMb, size, ...sizes]) if (typeof v === 'string') return v;
  const warmup = Number(values.warmup);
  if (!Number.isInteger(warmup) || (warmup !== 0 && (warmup < 100 || warmup > 1_000_000)))
    return '--warmup must be 0 or an integer from 100 to 1000000';
  const child = values.child;
  if (child !== undefined && child !== 'generate' && child !== 'settle') return '--child must be generate or settle';
  return {
    sizes: sizes as number[],
    concurrency: concurrency as number,
    warmup,
    heapMb: heapMb as number,
    size: size as number,
    ...(child ? { child } : {}),
  };
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === 'string') return usageExit(options, USAGE);
  const { sizes, concurrency, warmup, heapMb } = options;
  if (options.child === 'generate') {
    await generate(options.size);
    return 0;
  }
  if (options.child === 'settle') {
    await settle(concurrency);
    return 0;
  }

  console.log(
    `settlement benchmark: ${sizes.map(int).join(', ')} order lines, ${concurrency} concurrent workers, month ${PERIOD} (${TIME_ZONE})` +
      `${heapMb ? `, settling with --max-old-space-size=${heapMb}${heapMb === WORKER_HEAP_MB ? ' (as the deployed worker)' : ''}` : ', Node defaults'}`,
  );
  console.log(machineLine());
  const stack = await startEmulatorStack('bench');
  const endpoints = { dynamo: process.env.AWS_ENDPOINT_URL_DYNAMODB!, sqs: process.env.AWS_ENDPOINT_URL_SQS! };
  console.log(`DynamoDB Local at ${endpoints.dynamo} (pid ${stack.dynamoPid}), fauxqs (S3 + SQS) at ${endpoints.sqs}`);
  cleanups.push(async () => dynamoClient().destroy());

  const rows: { size: number; generated: Generated; settled: Settled; javaCpu: number | undefined; problems: string[] }[] = [];
  // A first, smaller month warms DynamoDB Local's JIT up; it is checked but left out of the figures.
  const runs = warmup > 0 ? [warmup, ...sizes] : sizes;
  for (const [n, size] of runs.entries()) {
    const isWarmup = warmup > 0 && n === 0;
    // Fresh tables, queue and bucket per size: each run reads only its own month.
    const resources = await createResources({ stage: `bench${n}`, dynamoEndpoint: endpoints.dynamo, sqsEndpoint: endpoints.sqs });
    const env: Record<string, string> = { ...resourceEnv(resources), ...SETTINGS_ENV, POWERTOOLS_LOG_LEVEL: 'SILENT' };
    Object.assign(process.env, env);
    console.log(`\n${int(size)} order lines${isWarmup ? ' (warm-up, not in the figures)' : ''}: generating …`);
    const generated = await child<Generated>(['--child', 'generate', '--size', String(size)], env);
    console.log(
      `  generated ${int(size)} order lines, ${int(generated.instances)} metered instances with ${int(generated.windows)} accepted windows in ${generated.generateSeconds.toFixed(1)} s; ` +
        `expecting ${int(generated.expectedLines)} lines and ${int(generated.expectedProblems)} problems`,
    );
    const javaBefore = procCpuSeconds(stack.dynamoPid);
    const settled = await child<Settled>(
      ['--child', 'settle', '--concurrency', String(concurrency)],
      env,
      heapMb ? [`--max-old-space-size=${heapMb}`] : [],
    );
    const javaAfter = procCpuSeconds(stack.dynamoPid);
    const javaCpu = javaBefore !== undefined && javaAfter !== undefined ? javaAfter - javaBefore : undefined;

    const problems: string[] = [];
    const h = settled.header;
    if (settled.runStatus !== 'DONE' || !h || h.latestVersion !== 1) problems.push(`run ${settled.runStatus}, header ${JSON.stringify(h)}`);
    if (h && h.lineCount !== generated.expectedLines) problems.push(`${h.lineCount} lines, expected ${generated.expectedLines}`);
    if (h && h.problems !== generated.expectedProblems) problems.push(`${h.problems} problems, expected ${generated.expectedProblems}`);
    if (h && JSON.stringify(h.totals) !== JSON.stringify(generated.expectedTotals)) {
      problems.push(`totals ${JSON.stringify(h.totals)}, expected ${JSON.stringify(generated.expectedTotals)}`);
    }
    if (h && settled.version && (await csvSha256(env.FILES_BUCKET!, settled.version.csvKey)) !== h.sha256)
      problems.push("the CSV in S3 does not match the header's sha256");
    for (const w of settled.warnings) problems.push(`log: ${w}`);
    if (!isWarmup || problems.length > 0) rows.push({ size, generated, settled, javaCpu, problems });
    console.log(
      `  settled in ${settled.seconds.toFixed(1)} s (segments ${settled.segmentsSeconds.toFixed(1)} s, assembly ${settled.assembleSeconds.toFixed(1)} s), ` +
        `${int(Math.round(size / settled.seconds))} order lines/s; peak RSS ${mib(settled.maxRssBytes)} (sampled ${mib(settled.sampledRssBytes)}, heap ${mib(settled.heapBytes)}); ` +
        `CSV ${mib(settled.version?.csvBytes ?? 0)}, JSON ${mib(settled.version?.jsonBytes ?? 0)}; DynamoDB Local CPU ${javaCpu === undefined ? 'n/a' : `${javaCpu.toFixed(1)} s`}`,
    );
    const phase = (p: { rss: number; heap: number; heapTotal: number; external: number } | undefined) =>
      p ? `RSS ${mib(p.rss)}, heap used ${mib(p.heap)} of ${mib(p.heapTotal)}, external ${mib(p.external)}` : 'n/a';
    console.log(
      `  memory by phase: at start ${phase(settled.phases.baseline)}; segments ${phase(settled.phases.segments)}; assembly ${phase(settled.phases.assembly)}`,
    );
    console.log(
      problems.length === 0
        ? `  verified: ${int(h!.lineCount)} lines, ${int(h!.problems)} problems, totals ${JSON.stringify(h!.totals)}`
        : `  FAILED:\n    - ${problems.join('\n    - ')}`,
    );
  }

  const first = rows[0]!;
  console.log(
    '\n| Order lines | Statement lines | Time | Order lines/s | Time ratio (size ratio) | Peak RSS (maxRSS) | Sampled RSS | Heap | DynamoDB Local CPU |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${int(r.size)} | ${int(r.settled.header?.lineCount ?? 0)} | ${r.settled.seconds.toFixed(1)} s | ${int(Math.round(r.size / r.settled.seconds))} | ` +
        `${(r.settled.seconds / first.settled.seconds).toFixed(2)} (${(r.size / first.size).toFixed(2)}) | ${mib(r.settled.maxRssBytes)} | ${mib(r.settled.sampledRssBytes)} | ` +
        `${mib(r.settled.heapBytes)} | ${r.javaCpu === undefined ? 'n/a' : `${r.javaCpu.toFixed(1)} s`} |`,
    );
  }
  const failed = rows.filter((r) => r.problems.length > 0);
  const largest = rows.find((r) => r.size === 200_000);
  if (largest) {
    console.log(
      `targets (issue 8): 200,000 lines in ${largest.settled.seconds.toFixed(1)} s (≤ 60 s: ${largest.settled.seconds <= 60 ? 'met' : 'MISSED'}), ` +
        `peak RSS ${mib(largest.settled.maxRssBytes)} = ${(largest.settled.maxRssBytes / 1e6).toFixed(0)} MB (≤ 300 MB: ${largest.settled.maxRssBytes <= 300e6 ? 'met' : 'MISSED'})`,
    );
  }
  if (failed.length > 0) {
    console.error(`FAILED: ${failed.length} size(s) did not verify`);
    return 1;
  }
  return 0;
}

await runStandalone('the settlement benchmark', main);
