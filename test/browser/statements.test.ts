import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import type { OrderLineFacts } from '#lib/settlement/model.ts';
import { billingStore } from '#lib/store/billingStore.ts';
import { commitWrites } from '#lib/store/dynamo.ts';
import type { S3Gateway } from '../../scripts/local/s3-gateway.ts';
import { env } from '../helpers/produce.ts';
import { seller } from '../helpers/seller.ts';
import { drainSettlement, settlementTestStack } from '../helpers/settlementQueue.ts';
import { browserAvailable, consoleSuite, screenshot, signIn } from './harness.ts';

/**
 * The console's statements in headless Chromium: a month run from the page (the settlement worker function drains
 * the run's queue), its CSV downloaded, and the marketplace's bill export uploaded from the page through the
 * presigned POST to the local S3 front and its reconciliation report read. Fails on a console error or a request
 * leaving 127.0.0.1.
 */

const run = browserAvailable();
const RUN = randomBytes(3).toString('hex');
const MONTH = '2014-10';
const id = (name: string) => `CB${RUN}-${name}`;

let queue: { url: string; arn: string };
let gateway: S3Gateway | undefined;

/** Order lines of the month, as provisioning records them once paid. */
async function billedMonth(): Promise<void> {
  const billing = billingStore(dynamoClient(), { main: env('MAIN_TABLE') });
  const facts = (name: string, amount: string, day: string): OrderLineFacts => ({
    orderId: id(name),
    orderLineId: `${id(name)}-000001`,
    instanceId: id(`${name}-instance`),
    productId: 'CB-P1',
    kind: 'NEW',
    currency: 'CNY',
    test: false,
    amount,
    effectiveAt: `${MONTH}-${day}T02:00:00.000Z`,
  });
  for (const f of [facts('A', '100.00', '05'), facts('B', '19.90', '10'), facts('E', '50.00', '12')])
    expect((await commitWrites(dynamoClient(), [billing.factsWrite(f, undefined, f.effectiveAt!)])).ok).toBe(true);
}

describe.runIf(run)("the console's statements in Chromium", { timeout: 90_000 }, () => {
  const suite = consoleSuite('console-statements', async () => {
    // The front's CORS rule allows the console's origin, known once the suite's stack listens.
    ({ queue, gateway } = await settlementTestStack(`console-statements-${RUN}`, 'CB-P1=0.15', () => [suite.stack.url]));
    await billedMonth();
  });
  afterAll(async () => {
    await gateway?.close();
  });

  /** Whether the month's last run is over (read through the seller API). */
  const runOver = async (): Promise<boolean> => {
    const view = await seller('GET', `/seller/statements/${MONTH}`, { key: suite.admin });
    return view.status === 200 && view.json.activeRun === undefined && view.json.header !== undefined;
  };

  /** Before any upload the page asks for the report and the API answers 404 (no bill export yet): expected. */
  const noReportYet = new RegExp(`status of 404 .*/seller/statements/${MONTH}/reconciliation\\)$`);

  it('runs a month from the page, follows the run and downloads its CSV', async () => {
    const page = await suite.open();
    suite.expectProblems(noReportYet);
    await signIn(page, suite.stack.url, suite.admin);
    await page.getByRole('link', { name: 'Statements' }).click();
    await page.getByLabel('Month to run').fill(MONTH);
    await page.getByRole('button', { name: 'Run the month' }).click();
    await page.getByRole('heading', { name: `Statement ${MONTH}` }).waitFor();
    await drainSettlement(queue, runOver);

    await page.locator('.statement[data-ready="true"]').waitFor({ timeout: 15_000 });
    const totals = page.getByRole('row').filter({ hasText: 'CNY' }).first();
    expect((await totals.textContent())?.replace(/\s+/g, ' ')).toMatch(/CNY\s*3\s*169\.90\s*135\.75/);
    await page.getByRole('link', { name: 'CSV of version 1' }).waitFor();
    await screenshot(page, 'statement');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV of version 1' }).click()]);
    const csv = await readFile(await download.path(), 'utf8');
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(4);
    expect(csv).toContain(`ORDER:${id('A')}:${id('A')}-000001`);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
  });

  it('uploads the bill export from the page and shows the reconciliation report', async () => {
    const bill =
      'Order ID,Order Line ID,Settlement Amount\r\n' +
      `${id('A')},${id('A')}-000001,79.90\r\n` +
      `${id('B')},${id('B')}-000001,15.00\r\n` +
      `${id('X')},${id('X')}-000001,10.00\r\n`;
    const page = await suite.open();
    suite.expectProblems(noReportYet);
    await signIn(page, suite.stack.url, suite.admin);
    await page.goto(`${suite.stack.url}/console#/statements/${MONTH}`);
    await page.getByText(`No bill export uploaded for ${MONTH}.`).waitFor();
    await page.getByLabel('Bill export (CSV)').setInputFiles({ name: 'bill.csv', mimeType: 'text/csv', buffer: Buffer.from(bill) });
    await page.getByRole('button', { name: 'Upload and reconcile' }).click();

    const report = page.locator('.report');
    await report.waitFor({ timeout: 15_000 });
    expect((await report.locator('p').first().textContent())?.replace(/\s+/g, ' ')).toContain(
      'Version 1 against 3 bill rows (comparing net): 1 matched, 1 amount differs, 1 only in ours, 1 only in theirs.',
    );
    const sums = report.getByRole('row').filter({ hasText: 'CNY' }).first();
    expect(await sums.textContent()).toMatch(/CNY\s*135\.75\s*104\.90\s*-30\.85/);
    const differs = report.getByRole('row').filter({ hasText: 'AMOUNT_DIFFERS' });
    expect(await differs.textContent()).toContain(id('B'));
    expect(await differs.textContent()).toMatch(/15\.90\s*15\.00/);
    await screenshot(page, 'reconciliation');
  });
});
