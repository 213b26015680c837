import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { parseConfig, supervisionSettings } from '#lib/config.ts';
import type { OrderTerms } from '#lib/instances/model.ts';
import { billingRecorder } from '#lib/settlement/billingFacts.ts';
import { billingStore } from '#lib/store/billingStore.ts';
import { supervisionStore } from '#lib/store/supervisionStore.ts';
import { supervisionDeps } from '#lib/supervision/deps.ts';
import type { SupervisionDeps } from '#lib/supervision/ports.ts';
import { proofReceived } from '#lib/supervision/proofCheck.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../scripts/local/emulators.ts';
import { startS3Gateway, type S3Gateway } from '../../scripts/local/s3-gateway.ts';
import { storedInstance } from '../helpers/instances.ts';
import { env } from '../helpers/produce.ts';
import { browserAvailable, consoleSuite, screenshot, signIn } from './harness.ts';

/**
 * The console's service supervision in headless Chromium: a supervised order line provisioned as the worker does
 * it, its flow found in the page's list, a PDF delivery proof uploaded from the page (checksum computed in the
 * page, presigned POST to the local S3 front, whose ObjectCreated event runs the proof check) and its verdict
 * shown, then the buyer's acceptance recorded with a note. Fails on a console error or a request leaving 127.0.0.1.
 */

const run = browserAvailable();
const PRODUCT = `SUP-UI-${randomBytes(3).toString('hex')}`;
const BUCKET = process.env.FILES_BUCKET || 'koogallery-isv-test-filesbucket';

let gateway: S3Gateway | undefined;
let deps: SupervisionDeps;

/** The S3 front delivering proofs' ObjectCreated events to the proof check, the settings the functions read. */
async function supervisionStack(consoleOrigin: () => readonly string[]): Promise<void> {
  gateway = await startS3Gateway({
    upstream: env('AWS_ENDPOINT_URL_S3'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    corsOrigins: consoleOrigin,
    notifications: [{ bucket: BUCKET, prefix: 'proofs/', deliver: async (event) => void (await proofReceived(event, deps)) }],
    log: () => {},
  });
  Object.assign(process.env, {
    FILES_BUCKET: BUCKET,
    S3_FORCE_PATH_STYLE: 'true',
    SUPERVISED_PRODUCTS: PRODUCT,
    SUPERVISION_REQUIRED_KINDS: 'acceptance',
    AWS_ENDPOINT_URL_S3: gateway.endpoint,
  });
  deps = supervisionDeps(parseConfig(process.env), { endpoint: gateway.endpoint, region: LOCAL_REGION });
}

/** A supervised order line provisioned as the worker does it: its instance, then the recorder's writes. */
async function provisioned(): Promise<{ orderId: string; orderLineId: string }> {
  const at = new Date().toISOString();
  const instance = await storedInstance('supui', { productId: PRODUCT }, at);
  const { orderId, orderLineId } = instance;
  const order: OrderTerms = { orderId, orderLineId, productId: PRODUCT, amount: '100.00', currency: 'CNY', chargingMode: 'PERIOD' };
  const tables = { main: env('MAIN_TABLE') };
  const recorder = billingRecorder({
    billing: billingStore(dynamoClient(), tables),
    supervision: supervisionStore(dynamoClient(), tables),
    supervisionSettings: supervisionSettings(parseConfig(process.env)),
    timeZone: 'Asia/Shanghai',
    currency: 'CNY',
  });
  expect((await deps.store.commit(await recorder.orderWrites(instance, order, 'newInstance', undefined, at))).ok).toBe(true);
  return { orderId, orderLineId };
}

describe.runIf(run)("the console's service supervision in Chromium", { timeout: 90_000 }, () => {
  const suite = consoleSuite('console-supervision', () => supervisionStack(() => [suite.stack.url]));
  afterAll(async () => {
    await gateway?.close();
  });

  it('lists the waiting flow, uploads a PDF proof from the page, shows it verified, records the acceptance', async () => {
    const line = await provisioned();
    const page = await suite.open();
    await signIn(page, suite.stack.url, suite.admin);

    // The overview counts the flows waiting for the seller and links to them.
    await page.locator('.overview[data-ready="true"]').waitFor();
    await page
      .getByRole('region', { name: 'Supervision flows waiting for the seller' })
      .getByRole('link', { name: /AWAITING_DELIVERY/ })
      .click();
    const link = page.getByRole('link', { name: `${line.orderId} / ${line.orderLineId}` });
    await link.waitFor();
    await link.click();
    await page.getByRole('heading', { name: `Supervision of ${line.orderId} / ${line.orderLineId}` }).waitFor();

    const pdf = Buffer.from(`%PDF-1.4\n% acceptance signed by the buyer ${randomUUID()}\n%%EOF\n`);
    await page.getByLabel('Kind').selectOption('acceptance');
    await page.getByLabel('Proof file').setInputFiles({ name: 'acceptance.pdf', mimeType: 'application/pdf', buffer: pdf });
    await page.getByRole('button', { name: 'Upload the proof' }).click();
    await page.getByRole('status').filter({ hasText: 'acceptance.pdf is VERIFIED.' }).waitFor({ timeout: 20_000 });
    const proofRow = page.getByRole('region', { name: 'Delivery proofs, by round' }).getByRole('row').filter({ hasText: 'acceptance.pdf' });
    await proofRow.getByText('VERIFIED').waitFor();
    await page.getByText('PROOF_SUBMITTED', { exact: true }).first().waitFor();
    expect((await deps.store.get(line.orderId, line.orderLineId))?.state).toBe('PROOF_SUBMITTED');
    await screenshot(page, 'supervision');

    await page.getByRole('combobox', { name: /^Decision/ }).selectOption('accept');
    await page.getByRole('textbox', { name: /^Reason/ }).fill('acceptance signed on site');
    await page.getByRole('button', { name: 'Record', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Recorded: now ACCEPTED.' }).waitFor();
    const history = page.getByRole('region', { name: 'What happened, oldest first' });
    await history.getByRole('row').filter({ hasText: 'acceptance signed on site' }).waitFor();
    expect((await deps.store.get(line.orderId, line.orderLineId))?.state).toBe('ACCEPTED');
  });
});
