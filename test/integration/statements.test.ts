import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderLineFacts } from '#lib/settlement/model.ts';
import { billingStore } from '#lib/store/billingStore.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { commitWrites } from '#lib/store/dynamo.ts';
import { statementStore } from '#lib/store/statementStore.ts';
import { hashApiKey, keyIdOf } from '#lib/seller-api/apiKeys.ts';
import type { S3Gateway } from '../../scripts/local/s3-gateway.ts';
import { env } from '../helpers/produce.ts';
import { seller, sellerKey } from '../helpers/seller.ts';
import { drainSettlement, settlementTestStack } from '../helpers/settlementQueue.ts';

/**
 * Monthly statements through the seller API (the real seller function, DynamoDB Local, fauxqs behind the local S3
 * front, a settlement queue of this file's own drained into the worker function): run, read with download links,
 * re-run unchanged, reconcile a bill export uploaded with the presigned form, close; and every refusal.
 */

const RUN = randomBytes(3).toString('hex');
const PERIOD = '2014-06';
const id = (name: string) => `SA${RUN}-${name}`;
let queue: { url: string; arn: string };
let gateway: S3Gateway;
let writer: string;
let reader: string;

beforeAll(async () => {
  // Before the seller function reads its configuration (at its first request).
  ({ queue, gateway } = await settlementTestStack(`statements-test-${RUN}`, 'SA-P1=0.15'));
  [writer, reader] = await Promise.all([sellerKey('statements:read', 'statements:write'), sellerKey('statements:read')]);
  const facts = (name: string, extra: Partial<OrderLineFacts> & Pick<OrderLineFacts, 'amount' | 'effectiveAt'>): OrderLineFacts => ({
    orderId: id(name),
    orderLineId: `${id(name)}-000001`,
    instanceId: id(`${name}-instance`),
    productId: 'SA-P1',
    kind: 'NEW',
    currency: 'CNY',
    test: false,
    ...extra,
  });
  const billing = billingStore(dynamoClient(), { main: env('MAIN_TABLE') });
  for (const f of [
    facts('A', { amount: '100.00', effectiveAt: '2014-06-05T02:00:00.000Z' }),
    facts('B', { kind: 'RENEWAL', amount: '19.90', effectiveAt: '2014-06-10T02:00:00.000Z' }),
    facts('E', { amount: '50.00', effectiveAt: '2014-06-12T02:00:00.000Z' }),
    facts('C', { amount: '88.00', effectiveAt: '2014-06-11T02:00:00.000Z', test: true }),
    facts('D', { productId: 'SA-NOFEE', amount: '12.00', effectiveAt: '2014-06-18T02:00:00.000Z' }),
  ]) {
    expect((await commitWrites(dynamoClient(), [billing.factsWrite(f, undefined, f.effectiveAt!)])).ok).toBe(true);
  }
});

afterAll(async () => {
  await gateway?.close();
});

const path = (suffix = '') => `/seller/statements/${PERIOD}${suffix}`;

async function settle(): Promise<string> {
  const started = await seller('POST', path('/run'), { key: writer });
  expect(started.status).toBe(202);
  const runId = String(started.json.runId);
  await drainSettlement(queue, async () => {
    const view = await seller('GET', path(), { key: reader });
    return (view.json.header as { lastRun?: { runId: string } } | undefined)?.lastRun?.runId === runId;
  });
  return runId;
}

interface VersionView {
  version: number;
  lineCount: number;
  sha256Csv: string;
  files: { csv: { url: string }; json: { url: string } };
}

describe('statements in the seller API', () => {
  it('runs a month, shows it with download links, and a re-run of unchanged inputs makes no new version', async () => {
    await settle();
    const view = await seller('GET', path(), { key: reader });
    expect(view.status).toBe(200);
    const header = view.json.header as Record<string, unknown>;
    expect(header).toMatchObject({
      period: PERIOD,
      status: 'DRAFT',
      latestVersion: 1,
      lineCount: 3,
      problems: 1,
      totals: { CNY: { lines: 3, gross: '169.90', fee: '25.49', tax: '8.66', net: '135.75' } },
    });
    const [v1] = view.json.versions as VersionView[];
    const csv = await (await fetch(v1!.files.csv.url)).text();
    expect(createHash('sha256').update(csv).digest('hex')).toBe(header.sha256);
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(4);
    expect(csv).toContain(`ORDER:${id('A')}:${id('A')}-000001`);
    expect(csv).not.toContain(id('C'));
    const json = JSON.parse(await (await fetch(v1!.files.json.url)).text()) as { lines: unknown[]; problems: { code: string }[] };
    expect(json.lines).toHaveLength(3);
    expect(json.problems.map((p) => p.code)).toEqual(['NO_FEE_SHARE']);

    const runId = await settle();
    // The run names the key that started it.
    const run = await statementStore(dynamoClient(), { main: env('MAIN_TABLE') }).getRun(PERIOD, runId);
    expect(run?.trigger).toEqual({ kind: 'key', keyId: keyIdOf(hashApiKey(writer)), name: expect.stringMatching(/^test-/) });
    const again = await seller('GET', path(), { key: reader });
    expect(again.json.header).toMatchObject({ latestVersion: 1, sha256: header.sha256, lastRun: { runId, status: 'UNCHANGED' } });
    expect(again.json.versions).toHaveLength(1);

    const list = await seller('GET', '/seller/statements', { key: reader, query: { limit: '100' } });
    expect(list.status).toBe(200);
    expect((list.json.items as { period: string }[]).some((h) => h.period === PERIOD)).toBe(true);
  });

  it('reconciles the bill export uploaded with its presigned form', async () => {
    const bill =
      'Order ID,Order Line ID,Settlement Amount\r\n' +
      `${id('A')},${id('A')}-000001,79.90\r\n` +
      `${id('B')},${id('B')}-000001,15.00\r\n` +
      `${id('X')},${id('X')}-000001,10.00\r\n`;
    const sha256 = createHash('sha256').update(bill).digest('hex');
    const asked = await seller('POST', path('/reconciliation'), { key: writer, body: { size: Buffer.byteLength(bill), sha256 } });
    expect(asked.status).toBe(200);
    const upload = asked.json.upload as { url: string; fields: Record<string, string> };
    expect(String(asked.json.key)).toMatch(new RegExp(`^bills/${PERIOD}/[0-9a-f-]{36}\\.csv$`));
    const form = new FormData();
    for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
    form.append('file', new Blob([bill], { type: 'text/csv' }), 'bill.csv');
    expect((await fetch(upload.url, { method: 'POST', body: form })).status).toBe(204);

    const report = await seller('GET', path('/reconciliation'), { key: reader });
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({
      period: PERIOD,
      version: 1,
      billRows: 3,
      compare: 'net',
      totals: {
        matched: 1,
        amountDiffers: 1,
        onlyOurs: 1,
        onlyTheirs: 1,
        currencies: { CNY: { ours: '135.75', theirs: '104.90', difference: '-30.85' } },
      },
    });
    const rows = report.json.rows as { status: string; key: string; ours?: string; theirs?: string }[];
    expect(rows.find((r) => r.status === 'AMOUNT_DIFFERS')).toMatchObject({ ours: '15.90', theirs: '15.00' });
    expect(rows.at(-1)?.status).toBe('MATCHED');
    const full = JSON.parse(await (await fetch(String(report.json.reportUrl))).text()) as { rows: unknown[] };
    expect(full.rows).toHaveLength(4);
  });

  it('closes the month; a closed month is never run again', async () => {
    const closed = await seller('POST', path('/close'), { key: writer });
    expect(closed.status).toBe(200);
    expect(closed.json).toMatchObject({ alreadyClosed: false, header: { status: 'CLOSED', latestVersion: 1 } });
    expect((await seller('POST', path('/close'), { key: writer })).json).toMatchObject({ alreadyClosed: true });
    const rerun = await seller('POST', path('/run'), { key: writer });
    expect(rerun.status).toBe(409);
    expect(rerun.json).toMatchObject({ error: { code: 'conflict' } });
  });

  it('answers bad input clearly and changes nothing', async () => {
    const cases: [method: 'GET' | 'POST', path: string, status: number, body?: unknown, key?: string][] = [
      ['GET', '/seller/statements/2014-13', 400],
      ['GET', '/seller/statements/june', 400],
      ['GET', '/seller/statements/1999-01', 404],
      ['POST', '/seller/statements/2099-01/run', 422],
      ['POST', '/seller/statements/1999-02/close', 409],
      ['GET', '/seller/statements/1999-03/reconciliation', 404],
      ['POST', '/seller/statements/1999-04/reconciliation', 409, { size: 10, sha256: 'a'.repeat(64) }],
      ['POST', path('/reconciliation'), 422, { size: 10, sha256: 'not-a-digest' }],
      ['POST', path('/reconciliation'), 422, { size: 0, sha256: 'a'.repeat(64) }],
      ['POST', path('/reconciliation'), 422, { size: 10, sha256: 'a'.repeat(64), extra: 1 }],
      ['GET', '/seller/statements', 400, undefined],
    ];
    for (const [method, target, status, body] of cases) {
      const query = target === '/seller/statements' ? { cursor: 'not-a-cursor' } : undefined;
      const answer = await seller(method, target, { key: writer, ...(body === undefined ? {} : { body }), ...(query ? { query } : {}) });
      expect(answer.status, `${method} ${target}`).toBe(status);
      expect(answer.json.error, `${method} ${target}`).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    // Refused before anything is read: no key, a key without the scope.
    expect((await seller('POST', path('/run'))).status).toBe(401);
    expect((await seller('POST', path('/run'), { key: reader })).status).toBe(403);
    expect((await seller('GET', path(), { key: await sellerKey('usage:read') })).status).toBe(403);
    // Nothing of the above changed the closed month.
    expect((await seller('GET', path(), { key: reader })).json.header).toMatchObject({ status: 'CLOSED', latestVersion: 1 });
  });
});
