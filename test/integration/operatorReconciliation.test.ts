import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import type { OrderLineFacts } from '#lib/settlement/model.ts';
import { BILL_MAX_BYTES } from '#lib/settlement/reconciliation.ts';
import { billingStore } from '#lib/store/billingStore.ts';
import { commitWrites } from '#lib/store/dynamo.ts';
import type { S3Gateway } from '../../scripts/local/s3-gateway.ts';
import { testStackFile } from '../helpers/operator.ts';
import type { OperatorActionRecord } from '../../scripts/operator/context.ts';
import { runKoogallery } from '../../scripts/operator/main.ts';
import { env } from '../helpers/produce.ts';
import { seller, sellerKey } from '../helpers/seller.ts';
import { drainSettlement, settlementTestStack } from '../helpers/settlementQueue.ts';

/**
 * `koogallery reconciliation` against DynamoDB Local and fauxqs behind the local S3 front (which answers presigned
 * POST forms as S3 does): a month settled by the settlement worker, its bill export uploaded with the seller API's
 * form, the report read back; and every refusal, which uploads nothing.
 */

const RUN = randomBytes(3).toString('hex');
const MONTH = '2014-08';
const id = (name: string) => `RC${RUN}-${name}`;
const dir = mkdtempSync(join(tmpdir(), 'koogallery-recon-'));
const stackFile = join(dir, 'stack.json');
let gateway: S3Gateway;
let queue: { url: string; arn: string };

beforeAll(async () => {
  // Before any function or client reads its settings.
  ({ queue, gateway } = await settlementTestStack(`operator-recon-${RUN}`, 'RC-P1=0.15'));
  testStackFile(stackFile, { s3: gateway.endpoint });

  const billing = billingStore(dynamoClient(), { main: env('MAIN_TABLE') });
  const facts = (name: string, amount: string, day: string): OrderLineFacts => ({
    orderId: id(name),
    orderLineId: `${id(name)}-000001`,
    instanceId: id(`${name}-instance`),
    productId: 'RC-P1',
    kind: 'NEW',
    currency: 'CNY',
    test: false,
    amount,
    effectiveAt: `${MONTH}-${day}T02:00:00.000Z`,
  });
  for (const f of [facts('A', '100.00', '05'), facts('B', '19.90', '10'), facts('E', '50.00', '12')])
    expect((await commitWrites(dynamoClient(), [billing.factsWrite(f, undefined, f.effectiveAt!)])).ok).toBe(true);
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await gateway?.close();
});

interface Ran {
  code: number;
  out: string[];
  err: string[];
  records: OperatorActionRecord[];
}

async function cli(argv: string[], stack = stackFile): Promise<Ran> {
  const ran: Ran = { code: -1, out: [], err: [], records: [] };
  ran.code = await runKoogallery(argv, {
    stackFile: stack,
    io: { out: (l) => ran.out.push(l), err: (l) => ran.err.push(l) },
    record: async (r) => {
      ran.records.push(r);
    },
  });
  return ran;
}

/** Runs the month's settlement through the CLI and the worker function, until its run is over. */
async function settle(month: string): Promise<void> {
  const started = await cli(['statements', 'run', month, '--json']);
  expect(started.code).toBe(0);
  const { runId } = JSON.parse(started.out.join('\n')) as { runId: string };
  await drainSettlement(queue, async () => {
    const shown = await cli(['statements', 'show', month, '--json']);
    return (JSON.parse(shown.out.join('\n')) as { header: { lastRun?: { runId: string } } }).header.lastRun?.runId === runId;
  });
}

const csv = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('koogallery reconciliation --help', () => {
  it('describes the area and both commands with no stack running', async () => {
    const missing = join(dir, 'missing.json');
    const area = await cli(['reconciliation', '--help'], missing);
    expect(area.code).toBe(0);
    expect(area.out.join('\n')).toContain('koogallery reconciliation upload <YYYY-MM> <file.csv>');
    expect(area.out.join('\n')).toContain('koogallery reconciliation show <YYYY-MM>');
    expect(area.out.join('\n')).not.toContain('koogallery keys create');
    const upload = await cli(['reconciliation', 'upload', '-h'], missing);
    expect(upload.out[0]).toMatch(
      /^Usage: koogallery reconciliation upload <YYYY-MM> <file\.csv>\n {2}upload the marketplace's bill export/,
    );
    const report = await cli(['reconciliation', 'show', '--help'], missing);
    expect(report.out[0]).toMatch(/^Usage: koogallery reconciliation show <YYYY-MM>\n {2}the latest bill export/);
    expect((await cli(['--help'], missing)).out.join('\n')).toContain('koogallery reconciliation show');
  });
});

describe('koogallery reconciliation', () => {
  it('refuses bad input with exit code 2 and uploads nothing; a month without a statement with exit code 1', async () => {
    const bill = csv('small.csv', 'Order ID,Order Line ID,Settlement Amount\r\nx,x-000001,1.00\r\n');
    const empty = csv('empty.csv', '');
    const large = csv('large.csv', '');
    truncateSync(large, BILL_MAX_BYTES + 1);
    const refusals: [argv: string[], message: RegExp][] = [
      [['reconciliation', 'upload', '2014-13', bill], /^error: the month must be YYYY-MM/],
      [['reconciliation', 'upload', MONTH, join(dir, 'nope.csv')], /^error: no file ".*nope\.csv"$/],
      [['reconciliation', 'upload', MONTH, dir], /is not a file$/],
      [['reconciliation', 'upload', MONTH, empty], /empty\.csv" is empty$/],
      [
        ['reconciliation', 'upload', MONTH, large],
        new RegExp(`is ${BILL_MAX_BYTES + 1} bytes; a bill export may have at most ${BILL_MAX_BYTES}$`),
      ],
      [['reconciliation', 'upload', MONTH], /^error: reconciliation upload needs 2 arguments$/],
      [['reconciliation', 'show', 'june'], /^error: the month must be YYYY-MM/],
    ];
    for (const [argv, message] of refusals) {
      const ran = await cli(argv);
      expect(ran.code, argv.join(' ')).toBe(2);
      expect(ran.err[0], argv.join(' ')).toMatch(message);
      expect(ran.err[1], argv.join(' ')).toMatch(/^usage: koogallery reconciliation /);
      expect(ran.records, argv.join(' ')).toEqual([]);
    }
    const noStatement = await cli(['reconciliation', 'upload', '1999-09', bill]);
    expect(noStatement.code).toBe(1);
    expect(noStatement.err[0]).toBe('error: 1999-09 has no statement yet: run it first');
    expect(noStatement.records.map((r) => [r.action, r.target, r.result])).toEqual([['reconciliation.upload', '1999-09', 'refused']]);
  });

  it('says "not uploaded yet" before an upload (exit code 1), then uploads the export and shows the report', async () => {
    await settle(MONTH);
    const before = await cli(['reconciliation', 'show', MONTH]);
    expect(before.code).toBe(1);
    expect(before.err).toEqual([
      `error: no bill export was uploaded for ${MONTH}: POST …/reconciliation for an upload form`,
      `upload it: koogallery reconciliation upload ${MONTH} <file.csv>`,
    ]);

    const bill = csv(
      'bill.csv',
      'Order ID,Order Line ID,Settlement Amount\r\n' +
        `${id('A')},${id('A')}-000001,79.90\r\n` +
        `${id('B')},${id('B')}-000001,15.00\r\n` +
        `${id('X')},${id('X')}-000001,10.00\r\n`,
    );
    const uploaded = await cli(['reconciliation', 'upload', MONTH, bill]);
    expect(uploaded.err).toEqual([]);
    expect(uploaded.code).toBe(0);
    expect(uploaded.out[0]).toMatch(
      new RegExp(`^uploaded .*bill\\.csv for ${MONTH} \\(\\d+ bytes, upload [0-9a-f-]{36}\\): koogallery reconciliation show ${MONTH}$`),
    );
    expect(uploaded.records.map((r) => [r.action, r.target, r.result])).toEqual([['reconciliation.upload', MONTH, 'done']]);

    const shown = await cli(['reconciliation', 'show', MONTH]);
    expect(shown.code).toBe(0);
    const text = shown.out.join('\n');
    expect(text).toMatch(/matched\s+1\n/);
    expect(text).toMatch(/amount differs\s+1\n/);
    expect(text).toMatch(/only ours\s+1\n/);
    expect(text).toMatch(/only theirs\s+1\n/);
    expect(text).toMatch(/CURRENCY\s+OURS\s+THEIRS\s+DIFFERENCE\nCNY\s+135\.75\s+104\.90\s+-30\.85/);
    expect(text).toMatch(new RegExp(`AMOUNT_DIFFERS\\s+ORDER:${id('B')}\\S*\\s+CNY\\s+15\\.90\\s+15\\.00\\s+3`));
    expect(text).not.toMatch(/^MATCHED/m);

    const json = await cli(['reconciliation', 'show', MONTH, '--json']);
    expect(JSON.parse(json.out.join('\n'))).toMatchObject({
      period: MONTH,
      version: 1,
      billRows: 3,
      totals: { matched: 1, amountDiffers: 1, onlyOurs: 1, onlyTheirs: 1, currencies: { CNY: { ours: '135.75', theirs: '104.90' } } },
    });
  });

  it('says "not arrived yet" (exit code 1) while the latest upload form was never used', async () => {
    const writer = await sellerKey('statements:write');
    const asked = await seller('POST', `/seller/statements/${MONTH}/reconciliation`, {
      key: writer,
      body: { size: 10, sha256: 'a'.repeat(64) },
    });
    expect(asked.status).toBe(200);
    const shown = await cli(['reconciliation', 'show', MONTH]);
    expect(shown.code).toBe(1);
    expect(shown.err).toEqual([`error: the bill export for ${MONTH} (upload ${String(asked.json.uploadId)}) has not arrived yet`]);
  });
});
