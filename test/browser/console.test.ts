import { describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { PERSONAL_MARKER } from '#lib/audit/redact.ts';
import { usageStore } from '#lib/store/usageStore.ts';
import type { UsageWindow } from '#lib/usage/ports.ts';
import { meteringSn } from '#lib/usage/windows.ts';
import { storedInstance } from '../helpers/instances.ts';
import { env, invokeRaw, store, uniqueId } from '../helpers/produce.ts';
import { signedQuery } from '../helpers/signing.ts';
import { sellerKey } from '../helpers/seller.ts';
import { browserAvailable, consoleSuite, screenshot, signIn } from './harness.ts';

/**
 * The seller console in headless Chromium against the real seller API (DynamoDB Local, fauxqs): sign in, see a
 * provisioned instance, retry a failed one and find it in the audit log, create and revoke a key, and a key without
 * a scope not seeing that page. Every test fails on a console error or a request leaving 127.0.0.1.
 */

const run = browserAvailable();
const HOUR = 3_600_000;

/** A closed hour's window of usage of `instanceId`, sealed and refused by the marketplace, as the push leaves it. */
async function refusedWindow(instanceId: string): Promise<UsageWindow> {
  const ledger = usageStore(dynamoClient(), env('MAIN_TABLE'));
  const now = Date.now();
  const beginTime = new Date(now - (now % HOUR) - 2 * HOUR).toISOString();
  const endTime = new Date(Date.parse(beginTime) + HOUR).toISOString();
  const at = new Date().toISOString();
  expect((await ledger.add({ instanceId, beginTime, endTime, units: 25_000n, reports: 1, clientRefs: [] }, at)).ok).toBe(true);
  const open = (await ledger.getWindows([{ instanceId, beginTime }]))[0]!;
  const sn = meteringSn(instanceId, beginTime, endTime, open.revision);
  const sealed = (await ledger.seal(open, { meteringSn: sn, recordTime: '20261120T080500Z', at }))!;
  expect(await ledger.reject(sealed, { code: 'MKT.9002', message: 'Invalid usage entities.' }, at)).toBe(true);
  return (await ledger.getWindows([{ instanceId, beginTime }]))[0]!;
}

describe.runIf(run)('the seller console in Chromium', { timeout: 60_000 }, () => {
  const suite = consoleSuite('console');
  const open = (viewport?: { width: number; height: number }) => suite.open(viewport);

  it('signs in with a key and shows a provisioned instance', async () => {
    const productId = uniqueId('console');
    const active = await storedInstance('console-active', {
      state: 'ACTIVE',
      productId,
      appInfo: { frontEndUrl: 'https://app.example.com/tenants/console' },
    });
    const page = await open();
    await signIn(page, suite.stack.url, suite.admin);
    await page.locator('.overview[data-ready="true"]').waitFor();
    await expect(page.getByRole('heading', { name: 'Instances by state' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'overview');

    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    await page.getByLabel('Product id').fill(productId);
    await page.getByLabel('State').selectOption('ACTIVE');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('link', { name: active.instanceId }).waitFor();
    await screenshot(page, 'instances');

    await page.getByRole('link', { name: active.instanceId }).click();
    await page.getByRole('heading', { name: `Instance ${active.instanceId}` }).waitFor();
    await page.getByText('https://app.example.com/tenants/console').waitFor();
    expect(await page.locator('dl.facts .badge').first().textContent()).toBe('ACTIVE');
  });

  it('retries a failed provisioning, and the audit log shows who did it', async () => {
    const failed = await storedInstance('console-failed', { state: 'PROVISIONING_FAILED' });
    await store().annotate(failed.instanceId, failed.version, {
      provisioning: {
        failure: { reason: 'webhook: HTTP 503 from the product', at: new Date().toISOString(), eventId: `${failed.instanceId}:1` },
      },
    });
    const page = await open();
    await signIn(page, suite.stack.url, suite.admin);
    await page.goto(`${suite.stack.url}/console#/instances/${failed.instanceId}`);
    await page.getByText('webhook: HTTP 503 from the product').first().waitFor();
    await screenshot(page, 'instance-failed');
    await page.getByRole('button', { name: 'Retry provisioning' }).click();
    await page.getByRole('status').filter({ hasText: 'Retry sent' }).waitFor();
    await page.locator('dl.facts .badge', { hasText: 'PROVISIONING' }).first().waitFor();
    expect((await store().getInstance(failed.instanceId))!.state).toBe('PROVISIONING');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('textbox', { name: /^Action/ }).fill('provisioning.retry');
    await page.getByRole('textbox', { name: /^Target/ }).fill(`instanceId:${failed.instanceId}`);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const row = page.getByRole('row').filter({ hasText: failed.instanceId });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/provisioning\.retry.*ok 202/);
    await screenshot(page, 'audit');
  });

  it('creates a key whose secret is shown once, and revokes it', async () => {
    const page = await open();
    await signIn(page, suite.stack.url, suite.admin);
    await page.getByRole('link', { name: 'Keys' }).click();
    const name = uniqueId('console-key').slice(0, 40);
    await page.getByLabel('Name').fill(name);
    await page.getByRole('checkbox', { name: 'instances:read' }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const secretField = page.getByLabel('Secret of the new key');
    await secretField.waitFor();
    const secret = await secretField.inputValue();
    expect(secret).toMatch(/^kgs_[A-Za-z0-9_-]{43}$/);
    const whoami = await fetch(`${suite.stack.url}/seller/whoami`, { headers: { authorization: `Bearer ${secret}` } });
    expect(await whoami.json()).toMatchObject({ name, scopes: ['instances:read'] });
    await screenshot(page, 'keys');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.getByLabel('Secret of the new key').count()).toBe(0);

    await page.getByRole('button', { name: `Revoke ${name}` }).click();
    await page.getByRole('button', { name: `Confirm: revoke ${name}` }).click();
    await page.getByRole('row').filter({ hasText: name }).filter({ hasText: 'revoked' }).waitFor();
    expect((await fetch(`${suite.stack.url}/seller/whoami`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
  });

  it('finds a marketplace call in the message log and shows its request redacted, as text', async () => {
    const orderId = uniqueId('CS');
    const body = {
      activity: 'newInstance',
      orderId,
      orderLineId: `${orderId}-000001`,
      businessId: '<b id="injected">bold</b>',
      customerName: 'Zhang San',
      testFlag: '1',
    };
    expect((await invokeRaw(JSON.stringify(body), signedQuery(body))).json.resultCode).toBe('000000');

    const page = await open();
    await signIn(page, suite.stack.url, suite.admin);
    await page.getByRole('link', { name: 'Message log' }).click();
    await page.getByLabel('Order id').fill(orderId);
    await page.getByLabel('Channel').selectOption('marketplace');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const row = page.getByRole('row').filter({ hasText: orderId });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/produce.*newInstance.*000000/);
    await screenshot(page, 'messages');

    await row.getByRole('link').first().click();
    const request = page.getByLabel('Request body');
    await request.waitFor();
    const text = (await request.textContent()) ?? '';
    expect(text).toContain(`"customerName": "${PERSONAL_MARKER}"`);
    expect(text).toContain('"businessId": "<b id=\\"injected\\">bold</b>"');
    expect(text).not.toContain('Zhang San');
    expect(await page.locator('#injected').count()).toBe(0);
    await expect(page.getByLabel('Answer body').textContent()).resolves.toContain('"resultCode": "000000"');
    await screenshot(page, 'message');
  });

  it("charts an instance's usage and sends a refused window again", async () => {
    const instance = await storedInstance('console-usage', { state: 'ACTIVE' });
    const refused = await refusedWindow(instance.instanceId);
    const page = await open();
    await signIn(page, suite.stack.url, suite.admin);
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByLabel('Instance id').fill(instance.instanceId);
    await page.getByRole('button', { name: 'Show usage' }).click();
    const row = page.getByRole('row').filter({ hasText: 'MKT.9002: Invalid usage entities.' });
    await row.waitFor();
    expect(await page.locator('.chart > svg rect.bar-refused').count()).toBe(1);
    await screenshot(page, 'usage');

    await row.getByRole('button', { name: /^Re-send after a fix/ }).click();
    await page.getByRole('status').filter({ hasText: 'is due again' }).waitFor();
    await page.getByText('No refused window in this range.').waitFor();
    expect(await page.locator('.chart > svg rect.bar-pending').count()).toBe(1);
    const after = (await usageStore(dynamoClient(), env('MAIN_TABLE')).getWindows([refused]))[0]!;
    expect(after).toMatchObject({ state: 'OPEN', revision: refused.revision + 1, previousRejection: refused.rejection });
  });

  it('shows a key only the pages its scopes allow', async () => {
    const reader = await sellerKey('instances:read');
    const page = await open();
    await signIn(page, suite.stack.url, reader);
    const nav = page.getByRole('navigation', { name: 'Pages' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Overview', 'Instances', 'Supervision']);
    await page.goto(`${suite.stack.url}/console#/usage`);
    await page.getByRole('alert').filter({ hasText: 'needs the scope usage:read' }).waitFor();
    await page.goto(`${suite.stack.url}/console#/keys`);
    await page.getByRole('alert').filter({ hasText: 'This key cannot see Keys' }).waitFor();
    await page.goto(`${suite.stack.url}/console#/audit`);
    await page.getByRole('alert').filter({ hasText: 'needs the scope audit:read' }).waitFor();
  });

  it('sends a refused key back to sign-in with the reason', async () => {
    const page = await open();
    // The browser reports the refused request itself as a console error: that one line is expected here.
    suite.expectProblems(/status of 401/);
    await page.goto(`${suite.stack.url}/console`);
    await page.getByLabel('Seller API key').fill(`kgs_${'A'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'the seller API refused the key (unknown API key)' }).waitFor();
    await page.getByLabel('Seller API key').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  });

  it('is usable at phone width: no sideways scrolling of the page', async () => {
    const page = await open({ width: 390, height: 844 });
    await signIn(page, suite.stack.url, suite.admin);
    await page.locator('.overview[data-ready="true"]').waitFor();
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    await page.getByRole('button', { name: 'Apply filters' }).waitFor();
    await page.getByRole('table').or(page.getByText('No instance matches')).first().waitFor();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(page, 'instances-phone');
  });
});
