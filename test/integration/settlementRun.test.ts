import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { periodToSettle } from '../../functions/settlement.ts';
import { handler as worker } from '../../functions/settlementWorker.ts';
import { config } from '#lib/config.ts';
import { settlementDeps } from '#lib/settlement/deps.ts';
import { PART_BYTES } from '#lib/settlement/files.ts';
import type { OrderLineFacts } from '#lib/settlement/model.ts';
import { billingRecorder } from '#lib/settlement/billingFacts.ts';
import { closePeriod } from '#lib/settlement/close.ts';
import {
  InputsChangedError,
  InvalidPeriodError,
  NothingToCloseError,
  PeriodClosedError,
  PeriodNotEndedError,
  PeriodNotStartedError,
  RunInProgressError,
} from '#lib/settlement/errors.ts';
import type { SettlementDeps } from '#lib/settlement/ports.ts';
import { startRun } from '#lib/settlement/start.ts';
import { statementView } from '#lib/settlement/view.ts';
import { billingStore } from '#lib/store/billingStore.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { commitWrites, toItem } from '#lib/store/dynamo.ts';
import { keys } from '#lib/store/keys.ts';
import { s3Client } from '#lib/aws/clients.ts';
import type { StatementHeader } from '#lib/settlement/statementRecords.ts';
import { supervisionStore } from '#lib/store/supervisionStore.ts';
import { usageStore } from '#lib/store/usageStore.ts';
import { sqsEvent } from '../helpers/localStack.ts';
import { env, lambdaContext } from '../helpers/produce.ts';
import { drainSettlement, ownSettlementQueue } from '../helpers/settlementQueue.ts';

/**
 * The monthly settlement run against DynamoDB Local and fauxqs (S3 + SQS): a run is started, its messages are
 * received from a real queue and handed to the worker function as SQS events until the run is done. A small month
 * (Asia/Shanghai) gives an exact statement; re-runs, changes, diffs, closing, adjustments of a closed month,
 * supervision completed a month late, redelivered and malformed messages follow on the same data.
 */

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const TZ = 'Asia/Shanghai';
const MARCH = '2012-03';
const APRIL = '2012-04';
const MAY = '2012-05';
const RUN = `${randomBytes(3).toString('hex')}`;
const id = (name: string) => `ST${RUN}-${name}`;

let queueUrl: string;
let queueArn: string;
let deps: SettlementDeps;

const billing = () => billingStore(dynamoClient(), { main: env('MAIN_TABLE') });
const recorder = () =>
  billingRecorder({
    billing: billing(),
    supervision: supervisionStore(dynamoClient(), { main: env('MAIN_TABLE') }),
    supervisionSettings: { supervisedProducts: new Set(['ST-P1']), enablingCloudProducts: new Set(), requiredKinds: ['acceptance'] },
    timeZone: TZ,
    currency: 'CNY',
  });

beforeAll(async () => {
  ({ url: queueUrl, arn: queueArn } = await ownSettlementQueue(`settlement-run-test-${RUN}`));
  Object.assign(process.env, {
    SETTLEMENT_QUEUE_URL: queueUrl,
    SETTLEMENT_TIME_ZONE: TZ,
    SETTLEMENT_FEE_SHARES: 'ST-P1=0.15,ST-P2=0.2,ST-PU=0.1',
    SETTLEMENT_TAX_RATE: '0.06',
    SETTLEMENT_PRICES: 'ST-PU=0.02:CNY:GB',
  });
  deps = settlementDeps(config(), { dynamo: dynamoClient(), log: quiet });
  await seedMarch();
});

afterAll(() => {
  for (const name of ['SETTLEMENT_FEE_SHARES', 'SETTLEMENT_TAX_RATE', 'SETTLEMENT_PRICES']) delete process.env[name];
});

// ---------------------------------------------------------------------------------------------------------------
// Inputs

function facts(name: string, extra: Partial<OrderLineFacts> & Pick<OrderLineFacts, 'amount'>): OrderLineFacts {
  return {
    orderId: id(name),
    orderLineId: `${id(name)}-1`,
    instanceId: id(`${name}-inst`),
    productId: 'ST-P1',
    kind: 'NEW',
    currency: 'CNY',
    test: false,
    ...extra,
  };
}

/**
 * Facts written as the recorder writes them (billing item + index attributes), recorded at `at` for a change whose
 * business time is `changedAt` (default: `at`).
 */
async function record(f: OrderLineFacts, at: string, previousVersion?: number, changedAt?: string): Promise<void> {
  const result = await commitWrites(dynamoClient(), [billing().factsWrite(f, previousVersion, at, changedAt)]);
  expect(result.ok).toBe(true);
}

async function putInstance(instanceId: string, productId: string, test: boolean): Promise<void> {
  const at = '2012-01-01T00:00:00.000Z';
  const item = {
    type: 'instance',
    instanceId,
    orderId: `${instanceId}-order`,
    orderLineId: `${instanceId}-order-1`,
    businessId: instanceId,
    state: 'ACTIVE',
    test,
    productId,
    order: { orderId: `${instanceId}-order`, orderLineId: `${instanceId}-order-1`, currency: 'CNY' },
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  await dynamoClient().send('PutItem', { TableName: env('MAIN_TABLE'), Item: toItem(keys.instance(instanceId), item) });
}

/** A usage window reported, pushed and accepted by the marketplace, as the usage push does it. */
async function acceptedUsage(instanceId: string, beginTime: string, units: bigint, acceptedAt: string): Promise<void> {
  const usage = usageStore(dynamoClient(), env('MAIN_TABLE'));
  const endTime = new Date(Date.parse(beginTime) + 3_600_000).toISOString();
  expect((await usage.add({ instanceId, beginTime, endTime, units, reports: 1, clientRefs: [] }, beginTime)).ok).toBe(true);
  const [open] = await usage.getWindows([{ instanceId, beginTime }]);
  const sealed = await usage.seal(open!, { meteringSn: `sn-${randomBytes(4).toString('hex')}`, recordTime: endTime, at: acceptedAt });
  expect(await usage.accept(sealed!, { duplicate: false, at: acceptedAt })).toBe(true);
}

const L1 = facts('A-new', { amount: '100.00', effectiveAt: '2012-03-05T02:00:00.000Z' });
const L2 = facts('B-renewal', {
  kind: 'RENEWAL',
  productId: 'ST-P2',
  amount: '19.90',
  currency: 'USD',
  effectiveAt: '2012-03-10T02:00:00.000Z',
});
const L3 = facts('C-test', { amount: '88.00', test: true, effectiveAt: '2012-03-11T02:00:00.000Z' });
const L4 = facts('D-supervised', { amount: '50.00', effectiveAt: '2012-03-12T02:00:00.000Z', supervision: {} });
const L5 = facts('E-refunded', { amount: '60.00', effectiveAt: '2012-02-20T02:00:00.000Z' });
const L5_REFUND = { orderId: id('E-refund'), at: '2012-03-15T02:00:00.000Z', amount: '30.00' };
const L6 = facts('F-free', { amount: '0', effectiveAt: '2012-03-16T02:00:00.000Z' });
/** 00:30 on 1 April in Shanghai: April's, not March's. */
const L7 = facts('G-april', { amount: '40.00', effectiveAt: '2012-03-31T16:30:00.000Z' });
/** 00:30 on 1 March in Shanghai: March's. */
const L8 = facts('H-march-first', { amount: '10.00', effectiveAt: '2012-02-29T16:30:00.000Z' });
const L9 = facts('I-no-fee-share', { productId: 'ST-NOFEE', amount: '12.00', effectiveAt: '2012-03-18T02:00:00.000Z' });
/** Supervised, in effect in March, accepted in April. */
const L10 = facts('J-accepted-late', { amount: '70.00', effectiveAt: '2012-03-14T02:00:00.000Z', supervision: {} });
const U1 = id('U-metered');
const UT = id('U-test');

async function seedMarch(): Promise<void> {
  for (const f of [L1, L2, L3, L4, L6, L7, L8, L9, L10]) await record(f, f.effectiveAt!);
  // Billed in February, refunded in half in March: recorded at the refund.
  await record({ ...L5, refund: L5_REFUND }, L5_REFUND.at);
  await putInstance(U1, 'ST-PU', false);
  await putInstance(UT, 'ST-PU', true);
  await acceptedUsage(U1, '2012-03-10T00:00:00.000Z', 125_000n, '2012-03-10T02:00:00.000Z');
  await acceptedUsage(U1, '2012-03-20T00:00:00.000Z', 75_000n, '2012-03-20T02:00:00.000Z');
  await acceptedUsage(U1, '2012-04-05T00:00:00.000Z', 50_000n, '2012-04-05T02:00:00.000Z');
  await acceptedUsage(UT, '2012-03-21T00:00:00.000Z', 1_000_000n, '2012-03-21T02:00:00.000Z');
}

// ---------------------------------------------------------------------------------------------------------------
// Driving the queue

/** Hands the queue's messages to the worker function until the run ends. */
function drain(period: string, runId: string, options: { deliverTwice?: (m: Message) => boolean } = {}): Promise<void> {
  return drainSettlement(
    { url: queueUrl, arn: queueArn },
    async () => (await deps.statements.getRun(period, runId))?.status !== 'RUNNING',
    options,
  );
}

async function settle(period: string, options: { deliverTwice?: (m: Message) => boolean } = {}) {
  const run = await startRun(deps, period, 'seller');
  await drain(period, run.runId, options);
  return (await deps.statements.getRun(period, run.runId))!;
}

const s3 = () => s3Client({ forcePathStyle: true });

async function object(key: string): Promise<string> {
  const out = await s3().send(new GetObjectCommand({ Bucket: env('FILES_BUCKET'), Key: key }));
  return out.Body!.transformToString('utf8');
}

async function exists(key: string): Promise<boolean> {
  try {
    await object(key);
    return true;
  } catch {
    return false;
  }
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const header = async (period: string) => (await deps.statements.getHeader(period))!;

const HEADER_ROW =
  'lineId,kind,orderKind,orderId,orderLineId,refundOrderId,instanceId,productId,adjustmentFor,at,serviceFrom,currency,quantity,unit,unitPrice,gross,fee,tax,net';
const orderRow = (f: OrderLineFacts, at: string, amounts: string, adjustmentFor = '', serviceFrom = '') =>
  `ORDER:${f.orderId}:${f.orderLineId},ORDER,${f.kind},${f.orderId},${f.orderLineId},,${f.instanceId},${f.productId},${adjustmentFor},${at},${serviceFrom},${f.currency},,,,${amounts}`;

const MARCH_ROWS = [
  orderRow(L1, '2012-03-05T02:00:00.000Z', '100.00,15.00,5.10,79.90'),
  orderRow(L2, '2012-03-10T02:00:00.000Z', '19.90,3.98,0.96,14.96'),
  orderRow(L8, '2012-02-29T16:30:00.000Z', '10.00,1.50,0.51,7.99'),
  `REFUND:${L5.orderId}:${L5.orderLineId},REFUND,NEW,${L5.orderId},${L5.orderLineId},${L5_REFUND.orderId},${L5.instanceId},ST-P1,,2012-03-15T02:00:00.000Z,,CNY,,,,-30.00,-4.50,-1.53,-23.97`,
  `USAGE:${U1},USAGE,,,,,${U1},ST-PU,,2012-02-29T16:00:00.000Z,,CNY,20,GB,0.02,0.40,0.04,0.02,0.34`,
];
const csvOf = (rows: string[]) => [HEADER_ROW, ...rows].map((r) => `${r}\r\n`).join('');

describe('statement files in S3', () => {
  it('streams a file larger than a part as a multipart upload and reads it back line by line', async () => {
    const files = deps.files;
    const key = `statements/test-${RUN}/big.jsonl`;
    const writer = files.writer(key, 'application/x-ndjson');
    const line = (i: number) => `{"n":${i},"pad":"${'x'.repeat(100)}"}\n`;
    const count = 90_000; // about 10 MiB: two parts
    const hash = createHash('sha256');
    for (let i = 0; i < count; i += 1000) {
      let chunk = '';
      for (let k = i; k < i + 1000; k++) chunk += line(k);
      hash.update(chunk);
      await writer.write(chunk);
    }
    const written = await writer.close();
    expect(written.bytes).toBeGreaterThan(PART_BYTES);
    expect(written.sha256).toBe(hash.digest('hex'));
    let n = 0;
    for await (const batch of files.lines(key)) {
      for (const text of batch) expect((JSON.parse(text) as { n: number }).n).toBe(n++);
    }
    expect(n).toBe(count);
    expect(await files.removePrefix(`statements/test-${RUN}/`)).toBe(1);
  });
});

describe('the settlement run', () => {
  it('names the month to settle: the previous one in the statement time zone', () => {
    expect(periodToSettle(Date.parse('2026-11-30T18:00:00.000Z'), 'Asia/Shanghai')).toBe('2026-11');
    expect(periodToSettle(Date.parse('2026-11-30T15:59:59.999Z'), 'Asia/Shanghai')).toBe('2026-10');
    expect(periodToSettle(Date.parse('2027-01-01T00:00:00.000Z'), 'UTC')).toBe('2026-12');
  });

  it('refuses a malformed period and a month that has not started', async () => {
    await expect(startRun(deps, '2012-13', 'seller')).rejects.toBeInstanceOf(InvalidPeriodError);
    await expect(startRun(deps, '2099-01', 'seller')).rejects.toBeInstanceOf(PeriodNotStartedError);
    await expect(closePeriod(deps, 'march')).rejects.toMatchObject({ code: 'unprocessable' });
  });

  it("writes v1 of a month: exact CSV and JSON, header with totals and the CSV's SHA-256 (a redelivered segment counts once)", async () => {
    let twice = 0;
    const run = await settle(MARCH, { deliverTwice: (m) => m.Body!.includes('"segment"') && twice++ < 3 });
    expect(run).toMatchObject({ status: 'DONE', version: 1, segments: 32, segmentsDone: 32 });

    const csv = await object(`statements/${MARCH}/v1/statement.csv`);
    expect(csv).toBe(csvOf(MARCH_ROWS));
    const h = await header(MARCH);
    expect(h).toMatchObject({
      period: MARCH,
      status: 'DRAFT',
      latestVersion: 1,
      sha256: sha256(csv),
      lineCount: 5,
      problems: 1,
      runStartedAt: run.startedAt,
      totals: {
        CNY: { lines: 4, gross: '80.40', fee: '12.04', tax: '4.10', net: '64.26' },
        USD: { lines: 1, gross: '19.90', fee: '3.98', tax: '0.96', net: '14.96' },
      },
      lastRun: { runId: run.runId, status: 'DONE' },
    });
    expect(h.activeRun).toBeUndefined();

    const jsonText = await object(`statements/${MARCH}/v1/statement.json`);
    const json = JSON.parse(jsonText) as { period: string; lines: { lineId: string }[]; problems: unknown[]; totals: unknown };
    expect(Object.keys(json)).toEqual(['period', 'lines', 'problems', 'totals']);
    expect(json.period).toBe(MARCH);
    expect(json.lines.map((l) => l.lineId)).toEqual(MARCH_ROWS.map((r) => r.split(',')[0]));
    expect(json.lines[0]).toEqual({
      lineId: `ORDER:${L1.orderId}:${L1.orderLineId}`,
      kind: 'ORDER',
      orderKind: 'NEW',
      orderId: L1.orderId,
      orderLineId: L1.orderLineId,
      instanceId: L1.instanceId,
      productId: 'ST-P1',
      at: '2012-03-05T02:00:00.000Z',
      currency: 'CNY',
      gross: '100.00',
      fee: '15.00',
      tax: '5.10',
      net: '79.90',
    });
    expect(json.problems).toEqual([
      {
        code: 'NO_FEE_SHARE',
        ref: `ORDER:${L9.orderId}:${L9.orderLineId}`,
        productId: 'ST-NOFEE',
        message: 'no platform fee share is configured for product ST-NOFEE',
      },
    ]);
    expect(json.totals).toEqual(h.totals);
    // Nothing that differs between runs is inside the files.
    expect(jsonText).not.toContain(run.runId);
    expect(jsonText).not.toContain(run.startedAt);
    // Debug traffic never appears; nor do unbilled lines (supervision pending, free, April's).
    for (const absent of [L3.orderId, UT, L4.orderId, L6.orderId, L7.orderId, L10.orderId]) expect(csv + jsonText).not.toContain(absent);

    const version = (await deps.statements.getVersion(MARCH, 1))!;
    expect(version).toMatchObject({ sha256Csv: sha256(csv), sha256Json: sha256(jsonText), lineCount: 5, problems: 1, runId: run.runId });
    expect(version.diffKey).toBeUndefined();
    const lines = await object(version.linesKey);
    expect(
      lines
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { lineId: string }).lineId),
    ).toEqual(json.lines.map((l) => l.lineId));
    // The segments' parts are gone once the statement is assembled.
    const parts = await s3().send(new ListObjectsV2Command({ Bucket: env('FILES_BUCKET'), Prefix: `settlement-runs/${MARCH}/` }));
    expect(parts.KeyCount ?? 0).toBe(0);
  });

  it('re-runs a month with unchanged inputs: UNCHANGED, no v2, byte-identical files', async () => {
    const before = await object(`statements/${MARCH}/v1/statement.csv`);
    const run = await settle(MARCH);
    expect(run).toMatchObject({ status: 'UNCHANGED', version: 1 });
    const h = await header(MARCH);
    expect(h).toMatchObject({
      latestVersion: 1,
      sha256: sha256(before),
      runStartedAt: run.startedAt,
      lastRun: { runId: run.runId, status: 'UNCHANGED' },
    });
    expect(await exists(`statements/${MARCH}/v2/statement.csv`)).toBe(false);
    expect(await object(`statements/${MARCH}/v1/statement.csv`)).toBe(before);
    expect(await deps.statements.listVersions(MARCH)).toHaveLength(1);
  });

  it('fails malformed and foreign messages clearly and changes nothing', async () => {
    const before = await header(MARCH);
    const bodies = [
      'not json',
      '{"type":"explode","period":"2012-03","runId":"x"}',
      JSON.stringify({ type: 'segment', period: MARCH, runId: '20120401T000000000Z-00000000', kind: 'LINE', shard: 99 }),
      JSON.stringify({ type: 'segment', period: '2012-3', runId: '20120401T000000000Z-00000000', kind: 'LINE', shard: 1 }),
      // Well-formed, but no such run.
      JSON.stringify({ type: 'assemble', period: MARCH, runId: '20120401T000000000Z-00000000' }),
      JSON.stringify({ type: 'segment', period: MARCH, runId: '20120401T000000000Z-00000000', kind: 'USAGE', shard: 3 }),
    ];
    // The last one as if received for the last time: still nothing is written.
    const messages: Message[] = bodies.map((Body, i) => ({
      MessageId: `bad-${i}`,
      ReceiptHandle: `rh-${i}`,
      Body,
      Attributes: { ApproximateReceiveCount: i === bodies.length - 1 ? '5' : '1' },
    }));
    const result = (await worker(sqsEvent(messages, queueArn, 'us-east-1'), lambdaContext('bad'))) as SQSBatchResponse;
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(messages.map((m) => m.MessageId).sort());
    expect(await header(MARCH)).toEqual(before);
    expect(await deps.statements.getRun(MARCH, '20120401T000000000Z-00000000')).toBeUndefined();
  });

  it('refuses to close while inputs changed since the run or a run is under way; a changed input makes v2 with a diff', async () => {
    // The USD renewal's amount is corrected (recorded now, after v1's run started; the terms are March's).
    const stored = (await billing().getFacts(L2.orderId, L2.orderLineId))!;
    await record({ ...L2, amount: '29.90' }, new Date().toISOString(), stored.version, L2.effectiveAt);
    // L10's supervision completes in April: it leaves March alone (not billed there, ever).
    const completed = await recorder().supervisionCompletedWrites(
      L10.orderId,
      L10.orderLineId,
      '2012-04-10T03:00:00.000Z',
      undefined,
      '2012-04-10T03:00:00.000Z',
    );
    expect((await commitWrites(dynamoClient(), completed)).ok).toBe(true);

    await expect(closePeriod(deps, MARCH)).rejects.toThrow(new InputsChangedError(1));
    await expect(closePeriod(deps, MARCH)).rejects.toThrow('inputs changed since v1: run again');

    const started = await startRun(deps, MARCH, 'seller');
    await expect(startRun(deps, MARCH, 'seller')).rejects.toBeInstanceOf(RunInProgressError);
    await expect(closePeriod(deps, MARCH)).rejects.toBeInstanceOf(RunInProgressError);
    await drain(MARCH, started.runId);

    const h = await header(MARCH);
    expect(h).toMatchObject({
      status: 'DRAFT',
      latestVersion: 2,
      lineCount: 5,
      totals: { USD: { lines: 1, gross: '29.90', fee: '5.98', tax: '1.44', net: '22.48' } },
    });
    const v2 = (await deps.statements.getVersion(MARCH, 2))!;
    expect(v2).toMatchObject({ diff: { against: 1, added: 0, removed: 0, changed: 1 }, diffKey: `statements/${MARCH}/v2/diff.jsonl` });
    const diff = (await object(v2.diffKey!))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, Record<string, string> | string>);
    expect(diff).toHaveLength(1);
    expect(diff[0]).toMatchObject({
      change: 'changed',
      lineId: `ORDER:${L2.orderId}:${L2.orderLineId}`,
      before: { gross: '19.90', net: '14.96' },
      after: { gross: '29.90', net: '22.48' },
    });
    const csv = await object(v2.csvKey);
    expect(h.sha256).toBe(sha256(csv));
    expect(csv).not.toContain(L10.orderId);
    // v1 stays as it was.
    expect(await object(`statements/${MARCH}/v1/statement.csv`)).toBe(csvOf(MARCH_ROWS));

    const view = (await statementView(deps, MARCH))!;
    expect(view.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(view.bucket).toBe(env('FILES_BUCKET'));
  });

  it('closes a month; a closed month is never run again', async () => {
    await expect(closePeriod(deps, '2012-09')).rejects.toBeInstanceOf(NothingToCloseError);
    const closed = await closePeriod(deps, MARCH);
    expect(closed).toMatchObject({ alreadyClosed: false, header: { status: 'CLOSED', latestVersion: 2 } });
    expect(await header(MARCH)).toMatchObject({ status: 'CLOSED', latestVersion: 2 });
    expect((await closePeriod(deps, MARCH)).alreadyClosed).toBe(true);
    await expect(startRun(deps, MARCH, 'seller')).rejects.toBeInstanceOf(PeriodClosedError);
    await expect(startRun(deps, MARCH, 'schedule')).rejects.toMatchObject({ code: 'conflict' });
  });

  it('carries a late change of the closed month as an adjustment of the next, and bills late supervision once, in its month', async () => {
    // L4's supervision is accepted as of 20 March, recorded after March was closed: an adjustment.
    const writes = await recorder().supervisionCompletedWrites(
      L4.orderId,
      L4.orderLineId,
      '2012-03-20T05:00:00.000Z',
      undefined,
      new Date().toISOString(),
    );
    expect((await commitWrites(dynamoClient(), writes)).ok).toBe(true);
    expect((await billing().getFacts(L4.orderId, L4.orderLineId))?.facts.adjustmentFor).toBe(MARCH);

    const run = await settle(APRIL);
    expect(run).toMatchObject({ status: 'DONE', version: 1 });
    expect(await object(`statements/${APRIL}/v1/statement.csv`)).toBe(
      csvOf([
        orderRow(L4, '2012-03-20T05:00:00.000Z', '50.00,7.50,2.55,39.95', MARCH, '2012-03-20T05:00:00.000Z'),
        orderRow(L7, '2012-03-31T16:30:00.000Z', '40.00,6.00,2.04,31.96'),
        orderRow(L10, '2012-04-10T03:00:00.000Z', '70.00,10.50,3.57,55.93', '', '2012-04-10T03:00:00.000Z'),
        `USAGE:${U1},USAGE,,,,,${U1},ST-PU,,2012-03-31T16:00:00.000Z,,CNY,5,GB,0.02,0.10,0.01,0.01,0.08`,
      ]),
    );
    // March is untouched.
    expect(await header(MARCH)).toMatchObject({ status: 'CLOSED', latestVersion: 2 });
    expect(await object(`statements/${MARCH}/v2/statement.csv`)).not.toContain(L4.orderId);

    // May sees none of it again.
    const may = await settle(MAY);
    expect(may).toMatchObject({ status: 'DONE', version: 1 });
    expect(await header(MAY)).toMatchObject({ lineCount: 0, totals: {}, problems: 0 });
    expect(await object(`statements/${MAY}/v1/statement.csv`)).toBe(csvOf([]));
    expect(await object(`statements/${MAY}/v1/statement.json`)).toBe(`{"period":"${MAY}","lines":[],"problems":[],"totals":{}}\n`);
  });

  it('marks a run FAILED when one of its messages fails for the last time; the rest of it is then skipped', async () => {
    const JUNE = '2012-06';
    const started = await startRun(deps, JUNE, 'seller');
    // Assembling before the segments are done fails; on the last receive the run is given up.
    const body = JSON.stringify({ type: 'assemble', period: JUNE, runId: started.runId });
    const early = (n: number): Message => ({
      MessageId: `early-${n}`,
      ReceiptHandle: `rh-early-${n}`,
      Body: body,
      Attributes: { ApproximateReceiveCount: String(n) },
    });
    let result = (await worker(sqsEvent([early(1)], queueArn, 'us-east-1'), lambdaContext('early-1'))) as SQSBatchResponse;
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'early-1' }]);
    expect((await deps.statements.getRun(JUNE, started.runId))?.status).toBe('RUNNING');
    result = (await worker(sqsEvent([early(5)], queueArn, 'us-east-1'), lambdaContext('early-5'))) as SQSBatchResponse;
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'early-5' }]);
    const failed = (await deps.statements.getRun(JUNE, started.runId))!;
    expect(failed).toMatchObject({ status: 'FAILED' });
    expect(failed.error).toContain('assembly failed 5 times');
    expect(await header(JUNE)).toMatchObject({ latestVersion: 0, lastRun: { runId: started.runId, status: 'FAILED' } });
    expect((await header(JUNE)).activeRun).toBeUndefined();
    // Its segment messages are then harmless, and the month can be run again.
    await drain(JUNE, started.runId);
    expect((await deps.statements.getRun(JUNE, started.runId))?.segmentsDone).toBe(0);
    expect(await settle(JUNE)).toMatchObject({ status: 'DONE', version: 1 });
  });

  it('refuses to close a month that has not ended', async () => {
    // As if it were 15 July 2012: July has started, not ended.
    const july = { ...deps, now: () => Date.parse('2012-07-15T00:00:00.000Z') };
    const run = await startRun(july, '2012-07', 'seller');
    await drain('2012-07', run.runId);
    expect((await deps.statements.getRun('2012-07', run.runId))?.status).toBe('DONE');
    await expect(closePeriod(july, '2012-07')).rejects.toBeInstanceOf(PeriodNotEndedError);
    await expect(startRun(july, '2012-08', 'seller')).rejects.toBeInstanceOf(PeriodNotStartedError);
  });

  it('reopens and refuses a month whose inputs changed while it was being closed', async () => {
    const JUNE = '2011-06';
    const line = facts('K-june', { amount: '15.00', effectiveAt: '2011-06-03T02:00:00.000Z' });
    await record(line, line.effectiveAt!);
    await settle(JUNE);
    // A June order line recorded between closing's first look and the close itself.
    const late = facts('L-june-late', { amount: '5.00', effectiveAt: '2011-06-20T02:00:00.000Z' });
    const racing: SettlementDeps = {
      ...deps,
      indexLagMs: 0,
      statements: {
        ...deps.statements,
        close: async (...args: Parameters<SettlementDeps['statements']['close']>) => {
          await record(late, new Date().toISOString(), undefined, late.effectiveAt);
          return deps.statements.close(...args);
        },
      },
    };
    await expect(closePeriod(racing, JUNE)).rejects.toThrow('inputs changed while closing v1: run again');
    expect(await header(JUNE)).toMatchObject({ status: 'DRAFT', latestVersion: 1 });
    expect((await header(JUNE)).closedAt).toBeUndefined();
    // Run again: v2 carries the late line, and the month closes.
    await settle(JUNE);
    expect(await header(JUNE)).toMatchObject({ latestVersion: 2, lineCount: 2 });
    expect((await closePeriod(deps, JUNE)).header).toMatchObject({ status: 'CLOSED', latestVersion: 2 });
  });

  it('lists statements newest month first', async () => {
    const page = await deps.statements.listHeaders({ limit: 100 });
    const periods = page.items.map((h: StatementHeader) => h.period);
    expect(periods).toEqual([...periods].sort().reverse());
    expect(periods).toEqual(expect.arrayContaining([MAY, APRIL, MARCH]));
  });
});
