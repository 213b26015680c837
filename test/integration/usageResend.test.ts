import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '#lib/aws/clients.ts';
import { openApiClient } from '#lib/koogallery/openApi/client.ts';
import { hashApiKey, keyIdOf } from '#lib/seller-api/apiKeys.ts';
import { auditLog } from '#lib/store/auditLog.ts';
import { sellerActionLog } from '#lib/store/sellerActionLog.ts';
import { usageStore } from '#lib/store/usageStore.ts';
import type { UsageLedger, UsageWindow } from '#lib/usage/ports.ts';
import { pushUsage, type PushSummary } from '#lib/usage/push.ts';
import { meteringSn } from '#lib/usage/windows.ts';
import { startFakeOpenApi, type FakeOpenApi } from '../../scripts/local/fake-openapi.ts';
import { env, uniqueId } from '../helpers/produce.ts';
import { storedInstance } from '../helpers/instances.ts';
import { seller, sellerKey } from '../helpers/seller.ts';

/**
 * Re-sending a usage window the marketplace refused, once the seller fixed the cause: POST
 * /seller/usage/windows/resend through the real seller function, against DynamoDB Local, then the hourly push
 * against the fake KooGallery Open API on 127.0.0.1.
 */

const HOUR = 3_600_000;
const CREDENTIALS = { ak: 'resend-test-ak-0123456789', sk: 'resend-test-sk-0123456789' };
const ACCESS_KEY = 'resendAccessKey-0123456789';
const RESEND = '/seller/usage/windows/resend';

let fake: FakeOpenApi;
let replayKey: string;
const ledger = (): UsageLedger => usageStore(dynamoClient(), env('MAIN_TABLE'));

beforeAll(async () => {
  fake = await startFakeOpenApi({ credentials: CREDENTIALS, accessKey: ACCESS_KEY });
  replayKey = await sellerKey('messages:replay');
});
afterAll(async () => {
  await fake?.close();
});

/** The hourly push, of this instance's windows only: the ledger is shared, other files' windows are theirs to push. */
function push(instanceId: string, now = Date.now()): Promise<PushSummary> {
  const real = ledger();
  const mine: UsageLedger = {
    ...real,
    dueWindows: async (at, limit) => (await real.dueWindows(at, limit)).filter((w) => w.instanceId === instanceId),
  };
  const client = openApiClient({ baseUrl: fake.url, credentials: async () => CREDENTIALS, accessKey: async () => ACCESS_KEY });
  return pushUsage(
    {
      ledger: mine,
      pushUsage: (records) => client.pushUsage(records),
      audit: auditLog(dynamoClient(), env('AUDIT_TABLE')),
      now: () => now,
      log: { info: () => {}, warn: () => {}, error: () => {} },
    },
    { batchSize: 100, maxWindows: 10_000 },
  );
}

/** A closed hour's window of a new instance holding 2.5 units of usage, OPEN. */
async function openWindow(hoursAgo = 2, instanceId = uniqueId('resend')): Promise<UsageWindow> {
  const now = Date.now();
  const beginTime = new Date(now - (now % HOUR) - hoursAgo * HOUR).toISOString();
  const endTime = new Date(Date.parse(beginTime) + HOUR).toISOString();
  const added = await ledger().add(
    { instanceId, beginTime, endTime, units: 25_000n, reports: 1, clientRefs: [] },
    new Date().toISOString(),
  );
  expect(added.ok).toBe(true);
  return (await ledger().getWindows([{ instanceId, beginTime }]))[0]!;
}

/** A window sealed and refused by the marketplace, as the push leaves it. */
async function rejectedWindow(hoursAgo = 2, instanceId?: string): Promise<UsageWindow> {
  const open = await openWindow(hoursAgo, instanceId);
  const sn = meteringSn(open.instanceId, open.beginTime, open.endTime, open.revision);
  const sealed = (await ledger().seal(open, { meteringSn: sn, recordTime: '20261120T080500Z', at: new Date().toISOString() }))!;
  expect(await ledger().reject(sealed, { code: 'MKT.9002', message: 'Invalid usage entities.' }, new Date().toISOString())).toBe(true);
  return current(sealed);
}

const current = async (w: { instanceId: string; beginTime: string }) => (await ledger().getWindows([w]))[0]!;

const resend = (body: unknown, key = replayKey) => seller('POST', RESEND, { key, body });

describe('POST /seller/usage/windows/resend', () => {
  it('moves a refused window back to the push, which sends it again under a new metering_sn until ACCEPTED', async () => {
    const refused = await rejectedWindow();
    expect(refused).toMatchObject({ state: 'REJECTED', revision: 1 });

    // The time format of the usage routes: an ISO UTC instant, with or without milliseconds.
    const ownKey = await sellerKey('messages:replay');
    const answer = await resend({ instanceId: refused.instanceId, beginTime: refused.beginTime.replace('.000Z', 'Z') }, ownKey);
    expect(answer.status).toBe(202);
    // The seller API's audit log records the call as `usage.resend`.
    const hour = { from: new Date(Date.now() - HOUR).toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
    const audited = await sellerActionLog(dynamoClient(), env('AUDIT_TABLE')).list({ ...hour, actor: keyIdOf(hashApiKey(ownKey)) });
    expect(audited.items.map((r) => [r.action, r.result])).toEqual([['usage.resend', { outcome: 'ok', status: 202 }]]);
    expect(answer.json).toEqual({
      instanceId: refused.instanceId,
      beginTime: refused.beginTime,
      endTime: refused.endTime,
      state: 'OPEN',
      revision: 2,
      previousRejection: { code: 'MKT.9002', message: 'Invalid usage entities.' },
    });
    const reopened = await current(refused);
    expect(reopened).toMatchObject({ state: 'OPEN', revision: 2, previousRejection: refused.rejection, attempts: 0 });
    expect(reopened.rejection).toBeUndefined();
    expect(reopened.meteringSn).toBeUndefined();
    expect(await ledger().dueWindows(new Date().toISOString(), 10_000)).toContainEqual({
      instanceId: refused.instanceId,
      beginTime: refused.beginTime,
    });

    expect(await push(refused.instanceId)).toMatchObject({ sealed: 1, accepted: 1, duplicates: 0, rejected: 0 });
    const accepted = await current(refused);
    expect(accepted).toMatchObject({ state: 'ACCEPTED', duplicate: false, revision: 2, pushedUnits: 25_000n });
    // A new record: the refused one was never taken, so its number is not reused.
    expect(accepted.meteringSn).toBe(meteringSn(refused.instanceId, refused.beginTime, refused.endTime, 2));
    expect(accepted.meteringSn).not.toBe(refused.meteringSn);
    const sent = fake.usage().filter((u) => u.instance_id === refused.instanceId);
    expect(sent.map((u) => [u.metering_sn, u.usage_value])).toEqual([[accepted.meteringSn, '2.5']]);
  });

  it('refuses a window that is not REJECTED (409), an unknown one (404), bad input (400/422) and a key without the scope (403), changing nothing', async () => {
    const open = await openWindow();
    const notRefused = await resend({ instanceId: open.instanceId, beginTime: open.beginTime });
    expect(notRefused.status).toBe(409);
    expect(notRefused.json).toEqual({ error: { code: 'conflict', message: expect.stringContaining('is OPEN') } });
    expect(await current(open)).toEqual(open);

    const unknown = await resend({ instanceId: 'no-such-instance', beginTime: open.beginTime });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: { code: 'not_found', message: expect.stringContaining('no usage window') } });

    const refused = await rejectedWindow();
    for (const body of [
      {},
      { instanceId: refused.instanceId },
      { instanceId: refused.instanceId, beginTime: '2026-11-20 08:00' },
      { instanceId: refused.instanceId, beginTime: '2026-11-20T08:00:00+08:00' },
      { instanceId: refused.instanceId, beginTime: refused.beginTime, extra: 1 },
      { instanceId: '', beginTime: refused.beginTime },
    ]) {
      const bad = await resend(body);
      // The seller API's rule: a body that is not JSON is 400, a JSON body of the wrong shape 422.
      expect(bad.status, JSON.stringify(body)).toBe(422);
      expect((bad.json.error as { code: string }).code).toBe('unprocessable');
    }
    const notJson = await seller('POST', RESEND, { key: replayKey, rawBody: '{"instanceId":' });
    expect(notJson.status).toBe(400);

    const forbidden = await resend(
      { instanceId: refused.instanceId, beginTime: refused.beginTime },
      await sellerKey('usage:read', 'usage:write'),
    );
    expect(forbidden.status).toBe(403);
    expect(await current(refused)).toEqual(refused);

    // Older than 21 days: the marketplace would refuse it again (MKT.9004).
    const tooOld = await rejectedWindow(22 * 24);
    const late = await resend({ instanceId: tooOld.instanceId, beginTime: tooOld.beginTime });
    expect(late.status).toBe(422);
    expect(late.json).toEqual({ error: { code: 'unprocessable', message: expect.stringContaining('21 days') } });
    expect(await current(tooOld)).toEqual(tooOld);
  });

  it('shows the earlier refusal in the ledger once the window is sent again', async () => {
    const instance = await storedInstance('resend');
    const refused = await rejectedWindow(2, instance.instanceId);
    expect((await resend({ instanceId: refused.instanceId, beginTime: refused.beginTime })).status).toBe(202);
    const view = await seller('GET', '/seller/usage', { key: await sellerKey('usage:read'), query: { instanceId: instance.instanceId } });
    expect(view.status).toBe(200);
    expect(view.json.windows).toEqual([
      expect.objectContaining({ beginTime: refused.beginTime, state: 'OPEN', previousRejection: refused.rejection }),
    ]);
    expect(view.json.windows).toEqual([expect.not.objectContaining({ rejection: expect.anything() })]);
  });

  it('lets one of two concurrent re-sends win; the other is refused and the revision moves once', async () => {
    const refused = await rejectedWindow();
    const answers = await Promise.all([0, 1].map(() => resend({ instanceId: refused.instanceId, beginTime: refused.beginTime })));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    expect(await current(refused)).toMatchObject({ state: 'OPEN', revision: 2 });
  });
});
